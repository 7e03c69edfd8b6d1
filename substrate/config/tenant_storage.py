"""A tenant's storage grant and the weights that split its quota over its namespaces
(``substrate:tenants.<name>.storage`` and ``.namespaceWeights``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from substrate.components.cluster.ebs import STORAGE_CLASSES
from substrate.components.workloads.tenancy import memory_bytes
from substrate.components.workloads.tenant_quota import StorageGrant
from substrate.config.checks import Memory, between
from substrate.config.schema import Invalid, doc


def _storage_class(value: str) -> None:
    if value not in STORAGE_CLASSES:
        raise Invalid("is not a StorageClass of the stack", ", ".join(STORAGE_CLASSES))


StorageClassName = Annotated[str, _storage_class]
Weight = Annotated[int, between(0, 1000)]


@dataclass(frozen=True)
class StorageGrantConfig:
    """What the tenant's claims of one StorageClass may hold in total, over all its
    namespaces (split like the rest of its quota)."""

    requests: Memory = doc('Storage all its claims of the class request together, e.g. "500Gi".')
    claims: Annotated[int, between(0, 10000)] = doc("PersistentVolumeClaims of the class.")

    def grant(self) -> StorageGrant:
        return StorageGrant(memory_bytes(self.requests), self.claims)


STORAGE_DOC = (
    "StorageClass (`gp3`, `agent-gp3`, `nvme-fast`) -> what the tenant's claims of it may hold "
    "(ResourceQuota `<class>.storageclass.storage.k8s.io/requests.storage` and "
    "`.../persistentvolumeclaims`; `requests.storage` is their sum). A class not listed is held "
    "at 0: no claim of it is admitted (e.g. io2 `nvme-fast` unless granted). Agents' memory "
    "claims count here too."
)
WEIGHTS_DOC = (
    "Namespace -> its weight in the split of the tenant's ResourceQuota ceiling (CPU, memory, "
    "GPUs, storage) over its namespaces, so together they never hold more than the tenant's "
    "ceiling; namespaces not listed weigh 1."
)
