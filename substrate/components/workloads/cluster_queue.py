"""Kueue ClusterQueue objects of a tenant (substrate.components.workloads.tenancy's data model):
its CPU, memory, GPU and EFA quota per flavor."""

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from substrate.components.core.labels import EFA_RESOURCE, GPU_RESOURCE
from substrate.components.workloads.tenancy import (
    DEFAULT_COHORT,
    DEFAULT_FLAVOR,
    Share,
    TenantSpec,
    format_bytes,
)


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
        ((g.pool, g.share) for g in tenant.gpus if g.pool in gpu_pools),
        key=lambda ps: gpu_pools.index(ps[0]),
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
