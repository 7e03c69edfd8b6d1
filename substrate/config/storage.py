"""``substrate:storage``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from substrate.components.cluster.ebs import (
    GP3_BASELINE_IOPS,
    GP3_BASELINE_THROUGHPUT,
    GP3_MIB_PER_IOPS,
)
from substrate.config.checks import Memory, between
from substrate.config.schema import ConfigError, doc


@dataclass(frozen=True)
class StorageConfig:
    """Cluster StorageClasses (all encrypted with the cluster's EBS customer key)."""

    reclaim_policy: Literal["Delete", "Retain"] = doc(
        "What happens to a volume when its claim is deleted; `Retain` keeps data (production).",
        default="Delete",
    )
    fast_iops_per_gib: Annotated[int, between(1, 500)] = doc(
        "Provisioned IOPS per GiB of `nvme-fast` (EBS io2) volumes, the agent memory class on "
        "request (`memoryVolume.volumeType: io2`); small claims are raised to io2's minimum.",
        default=50,
    )
    agent_memory_iops: Annotated[int, between(GP3_BASELINE_IOPS, 16000)] = doc(
        "Provisioned IOPS of each `agent-gp3` volume (EBS gp3), the default agent memory class; "
        f"{GP3_BASELINE_IOPS} are included in gp3's price. gp3 allows at most 500 IOPS per GiB, "
        "so agent memory volumes must be at least IOPS/500 GiB.",
        default=6000,
    )
    agent_memory_throughput: Annotated[int, between(GP3_BASELINE_THROUGHPUT, 1000)] = doc(
        "Provisioned throughput of each `agent-gp3` volume in MiB/s; at most 0.25 MiB/s per "
        f"provisioned IOPS ({GP3_BASELINE_THROUGHPUT} are included in gp3's price).",
        default=250,
    )
    max_agent_memory_volume: Memory = doc(
        "Hard cap on one agent replica's memory volume (`substrate:agents.<name>.memoryVolume."
        "size`): a larger size is refused (`MemoryVolumeTooLargeError`). io2 is billed per "
        "provisioned GiB and IOPS, and every replica gets its own volume.",
        default="100Gi",
    )

    def check(self, path: str) -> None:
        most = int(self.agent_memory_iops * GP3_MIB_PER_IOPS)
        if self.agent_memory_throughput > most:
            raise ConfigError(
                f"{path}.agentMemoryThroughput",
                self.agent_memory_throughput,
                f"is more than gp3 provisions for agentMemoryIops {self.agent_memory_iops} "
                f"({GP3_MIB_PER_IOPS} MiB/s per IOPS)",
                f"at most {most}",
            )
