"""``substrate:storage``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from substrate.config.checks import Memory, between
from substrate.config.schema import doc


@dataclass(frozen=True)
class StorageConfig:
    """Cluster StorageClasses (all encrypted with the cluster's EBS customer key)."""

    reclaim_policy: Literal["Delete", "Retain"] = doc(
        "What happens to a volume when its claim is deleted; `Retain` keeps data (production).",
        default="Delete",
    )
    fast_iops_per_gib: Annotated[int, between(1, 500)] = doc(
        "Provisioned IOPS per GiB of `nvme-fast` (EBS io2) volumes for agent memory; small "
        "claims are raised to io2's minimum.",
        default=50,
    )
    max_agent_memory_volume: Memory = doc(
        "Hard cap on one agent replica's memory volume (`substrate:agents.<name>.memoryVolume."
        "size`): a larger size is refused (`MemoryVolumeTooLargeError`). io2 is billed per "
        "provisioned GiB and IOPS, and every replica gets its own volume.",
        default="100Gi",
    )
