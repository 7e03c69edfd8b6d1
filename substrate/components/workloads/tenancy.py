"""Tenants and their Kueue quota: the data model and the arithmetic shared by the stack-file
checks, the Tenant component, the workloads layer and the policy pack.

Quota follows Kueue's ClusterQueue semantics (kueue v0.19.2 `concepts/cluster_queue.md`):

- `nominal`: guaranteed to the tenant; in a cohort, the sum of nominal quotas per (flavor,
  resource) is what the cohort can hand out.
- `borrowing_limit`: the most it may borrow above nominal from the others' unused quota
  (None: no limit).
- `lending_limit`: the most of its unused nominal quota the others may borrow (None: all of
  it); never above nominal.

Units: CPU in cores, memory in bytes, GPUs in each pool's unit: `nvidia.com/gpu` (whole GPUs) or
`nvidia.com/gpu.shared` (slices of a time-sliced pool), what its nodes advertise. Pure Python: no
Pulumi import, so config checks and policies can use it cheaply.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypedDict

from substrate.components.core.labels import EFA_RESOURCE, GPU_RESOURCE, GPU_RESOURCES

DEFAULT_FLAVOR = "default"
"""The empty ResourceFlavor that carries every tenant's CPU and memory quota (no node labels:
the pods' own selectors and tolerations decide where they land)."""
DEFAULT_COHORT = "substrate"

DEFAULT_TIERS: dict[str, int] = {
    "inference-critical": 100000,
    "training": 10000,
    "batch": 1000,
    "preemptible": 100,
}
"""WorkloadPriorityClass name -> value: inference-critical > training > batch > preemptible."""

_SUFFIX: dict[str, Decimal] = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)$")


def quantity(text: str | int) -> Decimal:
    """A Kubernetes quantity ("512Gi", "500m", "64") as a number; ValueError if malformed."""
    match = _QUANTITY.match(str(text))
    if match is None:
        raise ValueError(f"{text!r} is not a Kubernetes quantity")
    return Decimal(match.group(1)) * _SUFFIX[match.group(2)]


def memory_bytes(text: str) -> int:
    return int(quantity(text))


def format_bytes(value: int) -> str:
    """Bytes as the shortest exact binary quantity ("256Gi", "1536Mi", "1000")."""
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        unit = int(_SUFFIX[suffix])
        if value and value % unit == 0:
            return f"{value // unit}{suffix}"
    return str(value)


@dataclass(frozen=True)
class Share:
    """One resource's quota in one flavor of a tenant's ClusterQueue (integers: cores, bytes
    or GPUs)."""

    nominal: int
    """Guaranteed quota, an integer: CPU in cores, memory in bytes (write
    `memory_bytes("64Gi")`, not `"64Gi"`), GPUs in `nvidia.com/gpu` devices."""
    borrowing_limit: int | None = None
    """Most it may borrow above `nominal` from the cohort, same unit (None: no limit)."""
    lending_limit: int | None = None
    """Most of its unused `nominal` the cohort may borrow, same unit, at most `nominal`
    (None: all of it)."""

    def limits(self) -> tuple[int | None, int | None]:
        return self.borrowing_limit, self.lending_limit

    @property
    def lendable(self) -> int:
        """What the cohort may borrow from this share while it is unused."""
        return self.nominal if self.lending_limit is None else min(self.lending_limit, self.nominal)


@dataclass(frozen=True)
class NetworkSpec:
    """What a tenant namespace may reach, and who may reach it, beyond its default-deny policy
    and DNS (substrate.components.workloads.tenant_manifests.network_policies turns it into
    NetworkPolicies)."""

    within_tenant: bool = True
    """Pods of the tenant's namespaces reach each other (distributed training, services)."""
    pod_identity_agent: bool = False
    """Egress to the EKS Pod Identity agent (169.254.170.23:80): AWS credentials for pods."""
    https_cidrs: tuple[str, ...] = ()
    """Further egress on TCP 443 to these CIDRs (e.g. a partner API through NAT)."""
    aws_endpoints: bool = False
    """Egress on TCP 443 to the subnets that hold the VPC's interface endpoints (STS, ECR, SSM,
    Bedrock, ...), and to no other VPC address."""
    s3: bool = False
    """Egress on TCP 443 to the Region's S3 prefix list (`com.amazonaws.<region>.s3`, the
    addresses the S3 gateway endpoint routes), resolved at deploy time."""
    monitoring_ports: tuple[int, ...] = ()
    """TCP ports on which the platform's Prometheus may scrape every pod of the tenant."""
    from_tenants: tuple[tuple[str, tuple[int, ...]], ...] = ()
    """(other tenant, TCP ports) whose pods may open those ports on this tenant's pods; the
    other tenant gets the matching egress."""
    load_balancer_ports: tuple[int, ...] = ()
    """TCP ports reachable from load balancers (`load_balancer_cidrs`)."""
    load_balancer_cidrs: tuple[str, ...] | None = None
    """Where load-balancer traffic comes from; None: the VPC's public subnets."""
    load_balancer_services: int = 0
    """Services of type LoadBalancer each of the tenant's namespaces may hold (its
    ResourceQuota's `services.loadbalancers`); 0 without load-balancer ingress."""

    def accepts(self, tenant: str) -> tuple[int, ...]:
        """TCP ports ``tenant``'s pods may open here (none unless declared)."""
        return dict(self.from_tenants).get(tenant, ())


@dataclass(frozen=True)
class TenantSpec:
    """Everything the platform knows about one tenant (team). Later layers (agents) reference a
    tenant by `name` and place workloads in one of its `namespaces`."""

    name: str
    """Tenant name: its ClusterQueue, LocalQueues and admin group are named after it."""
    namespaces: tuple[str, ...]
    """Namespaces created for the tenant (PSA restricted, quota, default-deny, a LocalQueue
    each); a tuple."""
    admins: tuple[str, ...] = ()
    """IAM role or user ARNs administering its namespaces: their Kubernetes group `admin_group`
    is bound to the tenant-admin ClusterRole there (TenantAccess maps ARNs to groups)."""
    gpu: bool = False
    """May run GPU work: namespaces labelled `substrate.io/gpu: "true"`; without it, no `gpus`."""
    tier: str = "batch"
    """Priority tier, a WorkloadPriorityClass name (e.g. a `DEFAULT_TIERS` key): the
    `substrate.io/priority-tier` label of its namespaces and ClusterQueue."""
    fair_share_weight: str = "1"
    """Kueue fair-sharing weight of its ClusterQueue, a quantity string ("1", "0.5";
    `weight(0.5)` writes one)."""
    cpu: Share = Share(0)
    """CPU quota on the default flavor, in cores."""
    memory: Share = Share(0)
    """Memory quota on the default flavor, in bytes."""
    gpus: tuple[tuple[str, Share], ...] = ()
    """(GPU pool, share); Kueue tries the flavors in the pools' Karpenter order."""
    container_cpu: str = "250m"
    """LimitRange default CPU request per container, a Kubernetes quantity ("250m")."""
    container_memory: str = "512Mi"
    """LimitRange default memory request and limit per container, a Kubernetes quantity
    ("512Mi")."""
    network: NetworkSpec = field(default_factory=NetworkSpec)
    """What its namespaces may reach beyond default-deny and DNS."""

    def gpu_share(self, pool: str) -> Share | None:
        return dict(self.gpus).get(pool)

    @property
    def queue_name(self) -> str:
        """ClusterQueue name and the LocalQueue name in each of its namespaces."""
        return self.name

    @property
    def admin_group(self) -> str:
        """Kubernetes group its admins get through their EKS access entries."""
        return f"substrate:tenant:{self.name}:admins"


# -- arithmetic ------------------------------------------------------------------------------
def ceiling(own: Share, others: Iterable[Share]) -> int:
    """The most of one (flavor, resource) a tenant can ever hold: its nominal quota plus what it
    may borrow, which is the others' lendable quota capped by its own borrowing limit."""
    lendable = sum(o.lendable for o in others)
    borrow = lendable if own.borrowing_limit is None else min(own.borrowing_limit, lendable)
    return own.nominal + borrow


def _others(tenant: TenantSpec, tenants: Sequence[TenantSpec]) -> list[TenantSpec]:
    return [t for t in tenants if t.name != tenant.name]


def cpu_ceiling(tenant: TenantSpec, tenants: Sequence[TenantSpec]) -> int:
    return ceiling(tenant.cpu, [t.cpu for t in _others(tenant, tenants)])


def memory_ceiling(tenant: TenantSpec, tenants: Sequence[TenantSpec]) -> int:
    return ceiling(tenant.memory, [t.memory for t in _others(tenant, tenants)])


def gpu_ceiling(
    tenant: TenantSpec,
    tenants: Sequence[TenantSpec],
    resources: Mapping[str, str] | None = None,
    resource: str = GPU_RESOURCE,
) -> int:
    """Units of `resource` over the pools counted in it (`resources`: pool -> its GPU unit,
    default whole GPUs); 0 for tenants without GPU rights."""
    if not tenant.gpu:
        return 0
    total = 0
    for pool, share in tenant.gpus:
        if (resources or {}).get(pool, GPU_RESOURCE) != resource:
            continue
        others = [s for t in _others(tenant, tenants) if (s := t.gpu_share(pool)) is not None]
        total += ceiling(share, others)
    return total


def resource_quota_hard(
    tenant: TenantSpec,
    tenants: Sequence[TenantSpec],
    gpu_resources: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """ResourceQuota `hard` for each of the tenant's namespaces: what Kueue could ever admit
    for it, so the quota is a backstop for work that bypasses Kueue, never a second limit.
    `gpu_resources` (pool -> GPU unit): with a time-sliced pool, `nvidia.com/gpu.shared` is
    bounded too (0 for tenants without GPU rights)."""
    memory = format_bytes(memory_ceiling(tenant, tenants))
    hard = {
        "requests.cpu": str(cpu_ceiling(tenant, tenants)),
        "requests.memory": memory,
        "limits.memory": memory,
    }
    for resource in GPU_RESOURCES:
        if resource == GPU_RESOURCE or resource in (gpu_resources or {}).values():
            hard[f"requests.{resource}"] = str(
                gpu_ceiling(tenant, tenants, gpu_resources, resource)
            )
    # Load balancers only where the tenant declared load-balancer ingress, and never a node
    # port: tenant NetworkPolicies do not cover traffic to node ports, and a LoadBalancer
    # Service needs none when it sets `allocateLoadBalancerNodePorts: false` (the AWS Load
    # Balancer Controller's IP targets reach the pods directly).
    hard["services.loadbalancers"] = str(tenant.network.load_balancer_services)
    hard["services.nodeports"] = "0"
    return hard


@dataclass(frozen=True)
class Overcommit:
    pool: str
    nominal: int
    limit: int
    by_tenant: tuple[tuple[str, int], ...]

    resource: str = GPU_RESOURCE

    def describe(self) -> str:
        parts = " + ".join(f"{n} {t}" for t, n in self.by_tenant)
        return (
            f"tenants' nominal {self.resource} quota on pool {self.pool!r} is {self.nominal} "
            f"({parts}), above the pool's limit of {self.limit}"
        )


def gpu_nominal_by_pool(tenants: Sequence[TenantSpec]) -> dict[str, list[tuple[str, int]]]:
    out: dict[str, list[tuple[str, int]]] = {}
    for tenant in tenants:
        for pool, share in tenant.gpus:
            if share.nominal:
                out.setdefault(pool, []).append((tenant.name, share.nominal))
    return out


def overcommitted(tenants: Sequence[TenantSpec], limits: Mapping[str, int]) -> list[Overcommit]:
    """GPU pools whose tenants' nominal quotas add up to more than the pool's NodePool
    `nvidia.com/gpu` limit: Karpenter could never launch what Kueue promised."""
    found = []
    for pool, parts in sorted(gpu_nominal_by_pool(tenants).items()):
        total = sum(n for _, n in parts)
        limit = limits.get(pool)
        if limit is not None and total > limit:
            found.append(Overcommit(pool, total, limit, tuple(parts)))
    return found


def weight(value: float) -> str:
    """A fair-sharing weight as a Kubernetes quantity string ("2", "0.5")."""
    return format(Decimal(str(value)).normalize(), "f")


# -- Kueue objects -----------------------------------------------------------------------------
def _resource(name: str, share: Share) -> dict[str, Any]:
    fmt = format_bytes if name == "memory" else str
    out: dict[str, object] = {"name": name, "nominalQuota": fmt(share.nominal)}
    if share.borrowing_limit is not None:
        out["borrowingLimit"] = fmt(share.borrowing_limit)
    if share.lending_limit is not None:
        out["lendingLimit"] = fmt(share.lending_limit)
    return out


class EfaNode(TypedDict):
    """GPUs (`gpus`) and EFA interfaces (`interfaces`) per node of an instance type an EFA pool
    may launch (substrate.engines.karpenter.instance_types.efa_nodes)."""

    gpus: int
    interfaces: int


def efa_interfaces(gpus: int, nodes: Sequence[EfaNode]) -> int:
    """The interfaces of as many whole nodes as hold `gpus` GPUs, the most over the pool's
    instance types (0 without EFA types)."""
    return max((n["interfaces"] * -(-gpus // n["gpus"]) for n in nodes), default=0)


def efa_share(share: Share, nodes: Sequence[EfaNode]) -> Share:
    """EFA quota on an EFA pool's flavor: nominal, borrowing and lending limits each sized from
    the GPU share's by :func:`efa_interfaces`."""
    limits = [None if g is None else efa_interfaces(g, nodes) for g in share.limits()]
    return Share(efa_interfaces(share.nominal, nodes), *limits)


def cluster_queue_spec(
    tenant: TenantSpec,
    gpu_pools: Sequence[str],
    cohort: str = DEFAULT_COHORT,
    gpu_resources: Mapping[str, str] | None = None,
    efa_nodes: Mapping[str, Sequence[EfaNode]] | None = None,
) -> dict[str, Any]:
    """ClusterQueue spec (kueue.x-k8s.io/v1beta2): CPU and memory on the default flavor; for GPU
    tenants, one flavor per GPU pool they hold a share of, in `gpu_pools`' order (Karpenter's
    order: the flavor Kueue tries first is the pool Karpenter would pick), each in its pool's
    unit (`gpu_resources`: pool -> `nvidia.com/gpu` or `nvidia.com/gpu.shared`; one resource
    group per unit, since a Kueue flavor belongs to one group).
    Pools a tenant lists with nominal 0 and a borrowing limit let it borrow there only.
    The whole-GPU group also covers `vpc.amazonaws.com/efa`: :func:`efa_share` on an EFA pool's
    flavor (`efa_nodes`: pool -> its EFA instance types), 0 on every other flavor."""
    groups: list[dict[str, object]] = [
        {
            "coveredResources": ["cpu", "memory"],
            "flavors": [
                {
                    "name": DEFAULT_FLAVOR,
                    "resources": [
                        _resource("cpu", tenant.cpu),
                        _resource("memory", tenant.memory),
                    ],
                }
            ],
        }
    ]
    by_resource: dict[str, list[dict[str, Any]]] = {}
    shares = sorted(
        ((p, s) for p, s in tenant.gpus if p in gpu_pools), key=lambda ps: gpu_pools.index(ps[0])
    )
    for pool, share in shares:
        resource = (gpu_resources or {}).get(pool, GPU_RESOURCE)
        resources = [_resource(resource, share)]
        if resource == GPU_RESOURCE:
            nodes = (efa_nodes or {}).get(pool, ())
            resources.append(
                _resource(EFA_RESOURCE, efa_share(share, nodes) if nodes else Share(0))
            )
        by_resource.setdefault(resource, []).append({"name": pool, "resources": resources})
    if tenant.gpu:
        for resource, flavors in by_resource.items():
            covered = [resource, EFA_RESOURCE] if resource == GPU_RESOURCE else [resource]
            groups.append({"coveredResources": covered, "flavors": flavors})
    return {
        "cohortName": cohort,
        "namespaceSelector": {
            "matchExpressions": [
                {
                    "key": "kubernetes.io/metadata.name",
                    "operator": "In",
                    "values": sorted(tenant.namespaces),
                }
            ]
        },
        "queueingStrategy": "BestEffortFIFO",
        "resourceGroups": groups,
        "preemption": {
            # A tenant always gets its nominal quota back from borrowers, whatever their
            # priority; inside its own queue, higher priority preempts lower.
            "reclaimWithinCohort": "Any",
            "withinClusterQueue": "LowerPriority",
        },
        "fairSharing": {"weight": tenant.fair_share_weight},
    }
