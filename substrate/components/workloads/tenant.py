"""Everything one tenant (team) gets: its namespaces with quota, limits, default-deny network
policies and admin RoleBindings, a Kueue ClusterQueue in the shared cohort and, in each
namespace, a LocalQueue named after the tenant plus the `default` LocalQueue that catches work
submitted without a queue label (see substrate.components.workloads.tenant_manifests and
substrate.components.workloads.tenancy)."""

from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, Required, TypedDict, cast

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.apiextensions import CustomResource
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from substrate.components.core import validators
from substrate.components.core._args import check_args
from substrate.components.core.labels import (
    GPU_RESOURCE,
    GPU_RESOURCES,
    PRIORITY_TIER_LABEL,
    TENANT_LABEL,
)
from substrate.components.core.tokens import component_args
from substrate.components.workloads.tenancy import (
    DEFAULT_COHORT,
    EfaNode,
    TenantSpec,
    cluster_queue_spec,
)
from substrate.components.workloads.tenant_manifests import (
    TENANT_ADMIN_ROLE,
    NetworkPeers,
    limit_range_spec,
    namespace_labels,
    network_policies,
    queue_reader_name,
    queue_reader_rules,
    role_binding_subjects,
)

KUEUE_API_VERSION = "kueue.x-k8s.io/v1beta2"
MANAGED_BY = {"app.kubernetes.io/managed-by": "substrate"}
QUOTA_NAME = "tenant-quota"
LIMITS_NAME = "tenant-defaults"
ADMINS_BINDING = "tenant-admins"
DEFAULT_LOCAL_QUEUE = "default"
"""The LocalQueue name Kueue's LocalQueue defaulting looks for (pkg/controller/constants)."""


def local_queues(tenant: TenantSpec) -> dict[str, str]:
    """Resource-name suffix -> LocalQueue name in each of the tenant's namespaces, all pointing
    at its ClusterQueue: the one named after the tenant (the queue users label their work with)
    and `default`, which Kueue's LocalQueue defaulting writes into every workload created in
    the namespace without a queue label (kueue v0.19.2, stable since v0.17), so unlabelled work
    is queued too."""
    out = {"local-queue": tenant.queue_name}
    if tenant.queue_name != DEFAULT_LOCAL_QUEUE:
        out["default-queue"] = DEFAULT_LOCAL_QUEUE
    return out


class TenantArgs(TypedDict, total=False):
    """Arguments of :class:`Tenant`."""

    tenant: Required[TenantSpec]
    """The tenant (substrate.components.workloads.tenancy.TenantSpec, from `substrate:tenants`)."""
    quota_hard: Required[Mapping[str, str]]
    """ResourceQuota `hard` per namespace
    (substrate.components.workloads.tenancy.resource_quota_hard)."""
    gpu_pools: Required[Sequence[str]]
    """GPU pools that have a ResourceFlavor; GPU shares on other pools are refused."""
    gpu_resources: NotRequired[Mapping[str, str]]
    """GPU pool -> the unit its nodes advertise (`nvidia.com/gpu.shared` for time-sliced
    pools); default `nvidia.com/gpu`."""
    efa_nodes: NotRequired[Mapping[str, Sequence[EfaNode]]]
    """GPU pool offering EFA -> the GPUs and EFA interfaces per node of its instance types:
    the tenant's `vpc.amazonaws.com/efa` quota there is sized from its GPU share
    (substrate.components.workloads.tenancy.efa_share). Default: no EFA quota anywhere."""
    cohort: NotRequired[str]
    """Kueue cohort of the ClusterQueue. Default `substrate`."""
    network_peers: NotRequired[NetworkPeers]
    """What the tenant's NetworkPolicies name outside it (endpoint subnets, the S3 prefix list,
    Prometheus, the KubeRay operator, the other tenants). Default: nothing."""


def _check(args: TenantArgs) -> None:
    tenant = args["tenant"]
    for field, value in [("name", tenant.name), *(("namespaces", n) for n in tenant.namespaces)]:
        if validators.dns_label(value):
            raise ValueError(f"TenantArgs.tenant.{field}: {value!r} is not a DNS label")
    if not tenant.namespaces:
        raise ValueError(f"TenantArgs.tenant.namespaces: tenant {tenant.name!r} has none")
    if not tenant.gpu and tenant.gpus:
        raise ValueError(
            f"TenantArgs.tenant.gpus: tenant {tenant.name!r} has GPU quota but no GPU rights"
        )
    for resource in GPU_RESOURCES:
        hard = args["quota_hard"].get(f"requests.{resource}")
        allowed = ("0",) if resource == GPU_RESOURCE else (None, "0")
        if not tenant.gpu and hard not in allowed:
            raise ValueError(
                f"TenantArgs.quota_hard: tenant {tenant.name!r} has no GPU rights, so "
                f'requests.{resource} must be "0"'
            )
    unknown = [p for p, _ in tenant.gpus if p not in args["gpu_pools"]]
    if unknown:
        raise ValueError(
            f"TenantArgs.tenant.gpus: pools {unknown} have no ResourceFlavor "
            f"(GPU pools: {list(args['gpu_pools'])})"
        )


class Tenant(pulumi.ComponentResource):
    """Namespaces, ResourceQuota, LimitRange, NetworkPolicies, RoleBindings, ClusterQueue and
    LocalQueues of one tenant."""

    spec: TenantSpec
    namespaces: dict[str, k8s.core.v1.Namespace]

    def __init__(
        self, name: str, args: TenantArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__(*component_args("substrate:workloads:Tenant", name, opts))
        _check(args)
        tenant = self.spec = args["tenant"]
        # Kueue CRs wait for the Kueue release and its flavors through this component's
        # depends_on (children register after their parent, which waits for its dependencies).
        child = pulumi.ResourceOptions(parent=self)
        labels = {**MANAGED_BY, TENANT_LABEL: tenant.name}
        queue = CustomResource(
            f"{name}-cluster-queue",
            api_version=KUEUE_API_VERSION,
            kind="ClusterQueue",
            metadata=ObjectMetaArgs(
                name=tenant.queue_name, labels={**labels, PRIORITY_TIER_LABEL: tenant.tier}
            ),
            spec=cluster_queue_spec(
                tenant,
                args["gpu_pools"],
                args.get("cohort", DEFAULT_COHORT),
                args.get("gpu_resources"),
                args.get("efa_nodes"),
            ),
            opts=child,
        )
        policies = network_policies(tenant, args.get("network_peers"))
        self.namespaces = {}
        for ns in tenant.namespaces:
            namespace = k8s.core.v1.Namespace(
                f"{name}-{ns}-namespace",
                metadata=ObjectMetaArgs(name=ns, labels=namespace_labels(tenant)),
                opts=child,
            )
            self.namespaces[ns] = namespace
            inside = pulumi.ResourceOptions(parent=self, depends_on=[namespace])

            def meta(obj: str, ns: str = ns) -> ObjectMetaArgs:
                return ObjectMetaArgs(name=obj, namespace=ns, labels=labels)

            k8s.core.v1.ResourceQuota(
                f"{name}-{ns}-quota",
                metadata=meta(QUOTA_NAME),
                spec={"hard": dict(args["quota_hard"])},
                opts=inside,
            )
            k8s.core.v1.LimitRange(
                f"{name}-{ns}-limits",
                metadata=meta(LIMITS_NAME),
                spec=cast(Any, limit_range_spec(tenant)),
                opts=inside,
            )
            for policy, spec in policies.items():
                k8s.networking.v1.NetworkPolicy(
                    f"{name}-{ns}-{policy}",
                    metadata=meta(policy),
                    spec=cast(Any, spec),
                    opts=inside,
                )
            if tenant.admins:
                k8s.rbac.v1.RoleBinding(
                    f"{name}-{ns}-admins",
                    metadata=meta(ADMINS_BINDING),
                    role_ref=k8s.rbac.v1.RoleRefArgs(
                        api_group="rbac.authorization.k8s.io",
                        kind="ClusterRole",
                        name=TENANT_ADMIN_ROLE,
                    ),
                    subjects=cast(Any, role_binding_subjects(tenant)),
                    opts=inside,
                )
            for suffix, local in local_queues(tenant).items():
                CustomResource(
                    f"{name}-{ns}-{suffix}",
                    api_version=KUEUE_API_VERSION,
                    kind="LocalQueue",
                    metadata=meta(local),
                    spec={"clusterQueue": tenant.queue_name},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, queue]),
                )
        if tenant.admins:
            self._queue_reader(name, tenant, labels)
        self.register_outputs(
            {
                "tenant": tenant.name,
                "namespaces": list(tenant.namespaces),
                "clusterQueue": tenant.queue_name,
                "gpu": tenant.gpu,
                "tier": tenant.tier,
            }
        )

    def _queue_reader(self, name: str, tenant: TenantSpec, labels: Mapping[str, str]) -> None:
        """The admins' read access to the tenant's cluster-scoped queue objects."""
        child = pulumi.ResourceOptions(parent=self)
        meta = ObjectMetaArgs(name=queue_reader_name(tenant), labels=dict(labels))
        role = k8s.rbac.v1.ClusterRole(
            f"{name}-queue-reader",
            metadata=meta,
            rules=cast(Any, queue_reader_rules(tenant)),
            opts=child,
        )
        k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-queue-reader-binding",
            metadata=meta,
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io",
                kind="ClusterRole",
                name=queue_reader_name(tenant),
            ),
            subjects=cast(Any, role_binding_subjects(tenant)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role]),
        )
