"""R32: GPU quota only for GPU tenants. A tenant namespace not labelled
`substrate.io/gpu: "true"` has a ResourceQuota setting `requests.nvidia.com/gpu` to 0 in every
quota it has (and `requests.nvidia.com/gpu.shared` too when a NodePool limits time-sliced GPUs,
so slices are not a way around it), and its tenant's Kueue ClusterQueue covers neither resource
(no flavor to admit or borrow GPUs on), so only tenants granted GPUs can spend them (BPG AI/ML,
Kubernetes resource quota docs)."""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from substrate.components.core.labels import (
    GPU_RESOURCE,
    GPU_RESOURCES,
    GPU_SHARED_RESOURCE,
    TENANT_LABEL,
)
from substrate.components.workloads.tenancy import quantity

from ._props import UNKNOWN, plain, value
from ._tenancy import Found, in_namespace, labels, name_of, tenant_namespaces
from ._types import CLUSTER_QUEUES, NODE_POOL, RESOURCE_QUOTA

KEY = f"requests.{GPU_RESOURCE}"
SHARED_KEY = f"requests.{GPU_SHARED_RESOURCE}"


def _gpu_quota_problem(
    quotas: list[Found], keys: tuple[str, ...]
) -> tuple[str, Found | None] | None:
    for quota in quotas:
        hard = quota.spec.get("hard")
        if hard is UNKNOWN or not isinstance(hard, dict):
            continue
        for key in keys:
            limit = hard.get(key)
            if limit is UNKNOWN:
                continue
            try:
                zero = limit is not None and quantity(str(limit)) == 0
            except ValueError:
                zero = False
            if not zero:
                shown = "unset" if limit is None else repr(limit)
                return f"ResourceQuota {quota.name!r} leaves {key} {shown}", quota
    if not quotas:
        return f"has no ResourceQuota setting {' and '.join(keys)} to 0", None
    return None


def _slices_offered(resources: Any) -> bool:
    """Some NodePool limits time-sliced GPUs (its nodes advertise nvidia.com/gpu.shared)."""
    for pool in resources:
        if pool.resource_type == NODE_POOL:
            limits = plain(value(pool.props, "spec", "limits"))
            if isinstance(limits, dict) and GPU_SHARED_RESOURCE in limits:
                return True
    return False


def _covers_gpus(spec: Any) -> bool:
    if not isinstance(spec, dict):
        return False
    return any(
        isinstance(group, dict)
        and any(r in (group.get("coveredResources") or []) for r in GPU_RESOURCES)
        for group in spec.get("resourceGroups") or []
    )


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    namespaces = tenant_namespaces(args.resources)
    cpu_only = {ns.tenant for ns in namespaces if not ns.gpu}
    keys = (KEY, SHARED_KEY) if _slices_offered(args.resources) else (KEY,)
    for ns in namespaces:
        if ns.gpu:
            continue
        found = _gpu_quota_problem(in_namespace(args.resources, RESOURCE_QUOTA, ns.name), keys)
        if found:
            problem, culprit = found
            report_violation(
                f"namespace {ns.name!r} of tenant {ns.tenant!r} without GPU rights: {problem}",
                culprit.urn if culprit else ns.resource.urn,
            )
    for queue in args.resources:
        if queue.resource_type not in CLUSTER_QUEUES:
            continue
        tenant = labels(queue.props).get(TENANT_LABEL)
        if tenant in cpu_only and _covers_gpus(plain(queue.props).get("spec")):
            report_violation(
                f"ClusterQueue {name_of(queue)!r} of tenant {tenant!r} without GPU rights covers "
                "GPUs, so the tenant could be admitted (or borrow) GPUs",
                queue.urn,
            )


POLICY = StackValidationPolicy(
    name="r32-gpu-quota",
    description="R32: tenant namespaces without substrate.io/gpu=true get requests.nvidia.com/gpu "
    "(and, with time-sliced pools, requests.nvidia.com/gpu.shared) 0 in their ResourceQuota and "
    "their ClusterQueue covers no GPU resource (BPG AI/ML).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate,
)
