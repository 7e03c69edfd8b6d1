"""``substrate:storage``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from substrate.config.schema import doc


@dataclass(frozen=True)
class StorageConfig:
    """Cluster StorageClasses (all encrypted with the cluster's EBS customer key)."""

    reclaim_policy: Literal["Delete", "Retain"] = doc(
        "What happens to a volume when its claim is deleted; `Retain` keeps data (production).",
        default="Delete",
    )
