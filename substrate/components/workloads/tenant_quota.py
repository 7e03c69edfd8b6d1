"""Each tenant namespace's ResourceQuota `hard`: the tenant's ceiling split over its namespaces.

Kubernetes has no ResourceQuota across namespaces, and Kueue bounds only what it admits (a
ClusterQueue, across the tenant's namespaces). The ResourceQuota is the backstop for everything
else, so the tenant's ceiling (substrate.components.workloads.tenancy.resource_quota_hard: what
Kueue could ever admit for it, and its storage grant) is divided among its namespaces by weight:
the namespaces' quotas add up to exactly the ceiling, never more. Integer amounts (CPU in
millicores, memory and storage in bytes, GPUs, claims) are split by largest remainder, ties to
the namespace listed first, so the split is deterministic.

Storage (Kubernetes' storage resource quota): per StorageClass the stack defines,
`<class>.storageclass.storage.k8s.io/requests.storage` and `.../persistentvolumeclaims`, the
tenant's grant (0 for a class it was not granted: no claim of that class is ever admitted), and
`requests.storage`, the sum of its grants. In a namespace that runs agents, their memory claims
count against this quota too (and against the agents' own `agent-memory` quota,
substrate.components.agents.agent_memory_quota): the stack-file checks refuse agents whose
claims do not fit the namespace's share of the grant.

Pure Python, like tenancy: the config checks use it.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from substrate.components.cluster.ebs import STORAGE_CLASSES
from substrate.components.workloads.tenancy import (
    TenantSpec,
    format_bytes,
    memory_bytes,
    quantity,
    resource_quota_hard,
)

STORAGE_SUFFIX = ".storageclass.storage.k8s.io"
SPLIT_KEYS = ("requests.cpu", "requests.memory", "limits.memory")
"""CPU and memory keys of the ceiling that are divided (and every `requests.<gpu unit>`)."""


@dataclass(frozen=True)
class StorageGrant:
    """What a tenant's claims of one StorageClass may hold in total, over its namespaces."""

    requests: int
    """Bytes of storage requested by all its claims of the class."""
    claims: int
    """PersistentVolumeClaims of the class."""


def storage_keys(storage_class: str) -> tuple[str, str]:
    """The storage-quota keys of one class: (requests.storage, persistentvolumeclaims)."""
    prefix = f"{storage_class}{STORAGE_SUFFIX}"
    return f"{prefix}/requests.storage", f"{prefix}/persistentvolumeclaims"


def split(total: int, weights: Sequence[tuple[str, int]]) -> dict[str, int]:
    """``total`` divided among names in proportion to their weights (at least one positive):
    the parts add up to ``total``; what floor division leaves goes one unit each to the largest
    remainders, ties to the name listed first."""
    whole = sum(w for _, w in weights)
    if whole <= 0:
        raise ValueError(f"weights {list(weights)}: none is positive")
    parts = {n: total * w // whole for n, w in weights}
    left = total - sum(parts.values())
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i][1] % whole), i))
    for i in order[:left]:
        parts[weights[i][0]] += 1
    return parts


def namespace_weights(
    tenant: TenantSpec, weights: Mapping[str, int] | None = None
) -> list[tuple[str, int]]:
    """(namespace, weight) in the tenant's order; namespaces ``weights`` does not name weigh 1."""
    return [(ns, (weights or {}).get(ns, 1)) for ns in tenant.namespaces]


def _cpu(text: str) -> int:
    return int(quantity(text) * 1000)


def _format_cpu(millis: int) -> str:
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def tenant_hard(
    tenant: TenantSpec,
    tenants: Sequence[TenantSpec],
    gpu_resources: Mapping[str, str] | None = None,
    storage: Mapping[str, StorageGrant] | None = None,
) -> dict[str, str]:
    """The tenant's whole ceiling: compute and Services (resource_quota_hard) and storage."""
    hard = resource_quota_hard(tenant, tenants, gpu_resources)
    total = 0
    for storage_class in STORAGE_CLASSES:
        grant = (storage or {}).get(storage_class, StorageGrant(0, 0))
        requests, claims = storage_keys(storage_class)
        hard[requests] = format_bytes(grant.requests)
        hard[claims] = str(grant.claims)
        total += grant.requests
    hard["requests.storage"] = format_bytes(total)
    return hard


def _split_key(key: str) -> bool:
    return key in SPLIT_KEYS or key.startswith("requests.nvidia.com/") or "storage" in key


def namespace_hard(
    tenant: TenantSpec,
    tenants: Sequence[TenantSpec],
    gpu_resources: Mapping[str, str] | None = None,
    storage: Mapping[str, StorageGrant] | None = None,
    weights: Mapping[str, int] | None = None,
) -> dict[str, dict[str, str]]:
    """Namespace -> ResourceQuota `hard`: the tenant's ceiling (tenant_hard) split by
    ``weights`` (namespace -> weight; unnamed namespaces weigh 1). Service counts
    (`services.loadbalancers`, `services.nodeports`) are per namespace as declared."""
    ceiling = tenant_hard(tenant, tenants, gpu_resources, storage)
    shares = namespace_weights(tenant, weights)
    out: dict[str, dict[str, str]] = {ns: {} for ns, _ in shares}
    for key, value in ceiling.items():
        if not _split_key(key):
            for hard in out.values():
                hard[key] = value
            continue
        if key == "requests.cpu":
            parts = {ns: _format_cpu(v) for ns, v in split(_cpu(value), shares).items()}
        elif "memory" in key or ("storage" in key and not key.endswith("persistentvolumeclaims")):
            parts = {ns: format_bytes(v) for ns, v in split(memory_bytes(value), shares).items()}
        else:
            parts = {ns: str(v) for ns, v in split(int(value), shares).items()}
        for ns, part in parts.items():
            out[ns][key] = part
    return out
