"""P3: for every Kueue ResourceFlavor that selects a Karpenter NodePool (`substrate.io/pool`),
the ClusterQueues' nominal GPU quota on that flavor adds up to no more than the NodePool's limit
of the same resource (`nvidia.com/gpu`, or `nvidia.com/gpu.shared` slices on a time-sliced
pool), GPU quota sits only on flavors whose NodePool exists, and only in the unit the pool
limits (a GPU NodePool without a GPU limit is R15's violation).

Substrate platform rule (not in rules.md): nominal quota is a promise Kueue keeps by admitting
work; if the promises exceed what Karpenter may launch, admitted gangs wait for nodes that never
come (and `waitForPodsReady` evicts them in a loop). Quota on a flavor without a pool could
never be used at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from substrate.components.core.labels import GPU_RESOURCES, POOL_LABEL
from substrate.components.workloads.tenancy import quantity

from ._props import UNKNOWN, plain, value
from ._tenancy import name_of
from ._types import CLUSTER_QUEUES, NODE_POOL, RESOURCE_FLAVORS


def _number(raw: Any) -> float | None:
    if raw is None or raw is UNKNOWN:
        return None
    try:
        return float(
            quantity(str(int(raw)) if isinstance(raw, float) and raw.is_integer() else str(raw))
        )
    except ValueError:
        return None


Nominal = dict[tuple[str, str], list[tuple[str, float, str]]]


def gpu_nominal(resources: list[PolicyResource]) -> Nominal:
    """(flavor, GPU resource) -> [(ClusterQueue, nominal, urn)] for every positive nominal."""
    out: Nominal = {}
    for queue in resources:
        if queue.resource_type not in CLUSTER_QUEUES:
            continue
        spec = plain(value(queue.props, "spec"))
        groups = spec.get("resourceGroups") if isinstance(spec, dict) else None
        for group in groups or []:
            for flavor in (group.get("flavors") or []) if isinstance(group, dict) else []:
                for res in flavor.get("resources") or []:
                    if not isinstance(res, dict) or res.get("name") not in GPU_RESOURCES:
                        continue
                    amount = _number(res.get("nominalQuota"))
                    if amount:
                        out.setdefault((str(flavor.get("name")), res["name"]), []).append(
                            (name_of(queue), amount, queue.urn)
                        )
    return out


def _pool_limits(resources: list[PolicyResource]) -> dict[str, dict[str, float | None]]:
    """NodePool -> GPU resource -> its limit (resources the pool does not limit are absent)."""
    limits: dict[str, dict[str, float | None]] = {}
    for pool in resources:
        if pool.resource_type == NODE_POOL:
            raw = plain(value(pool.props, "spec", "limits"))
            raw = raw if isinstance(raw, Mapping) else {}
            limits[name_of(pool)] = {r: _number(raw[r]) for r in GPU_RESOURCES if r in raw}
    return limits


def _flavor_pools(resources: list[PolicyResource]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for flavor in resources:
        if flavor.resource_type in RESOURCE_FLAVORS:
            labels = plain(value(flavor.props, "spec", "nodeLabels"))
            out[name_of(flavor)] = labels.get(POOL_LABEL) if isinstance(labels, Mapping) else None
    return out


def _fmt(n: float) -> str:
    return str(int(n)) if n.is_integer() else str(n)


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    resources = list(args.resources)
    limits = _pool_limits(resources)
    pools = _flavor_pools(resources)
    for (flavor, resource), parts in sorted(gpu_nominal(resources).items()):
        total = sum(n for _, n, _ in parts)
        shares = ", ".join(f"{q}: {_fmt(n)}" for q, n, _ in parts)
        pool = pools.get(flavor)
        if pool is UNKNOWN:
            continue
        if pool is None or pool not in limits:
            where = "no ResourceFlavor" if flavor not in pools else "a flavor selecting no NodePool"
            report_violation(
                f"ClusterQueues hold {_fmt(total)} nominal {resource} on {where} "
                f"{flavor!r} ({shares}): quota no node could ever satisfy",
                parts[0][2],
            )
            continue
        if limits[pool] and resource not in limits[pool]:
            report_violation(
                f"ClusterQueues hold nominal {resource} on flavor {flavor!r} ({shares}), but "
                f"NodePool {pool!r} limits {', '.join(sorted(limits[pool]))}: its nodes "
                f"advertise no {resource}",
                parts[0][2],
            )
            continue
        limit = limits[pool].get(resource)
        # A GPU pool without a GPU limit is R15's violation; nothing to compare against here.
        if limit is not None and total > limit:
            report_violation(
                f"ClusterQueues' nominal {resource} quota on flavor {flavor!r} is "
                f"{_fmt(total)} ({shares}), above NodePool {pool!r}'s limit of {_fmt(limit)}",
                parts[-1][2],
            )


POLICY = StackValidationPolicy(
    name="p3-gpu-quota-within-pool-limits",
    description="P3: per GPU ResourceFlavor, the ClusterQueues' nominal GPU quota (nvidia.com/gpu "
    "or nvidia.com/gpu.shared) is at most the selected NodePool's limit of that resource, and "
    "GPU quota only sits on flavors of existing NodePools in the unit they limit (Substrate "
    "fair-sharing rule).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate,
)
