"""``substrate:storage``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from substrate.config.checks import between
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
