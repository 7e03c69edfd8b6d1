"""Storage rules spanning `substrate:storage`, `substrate:agents` and `substrate:karpenter`.

- An agent memory volume on `agent-gp3` is provisioned with `agentMemoryIops`; gp3 allows at most
  500 IOPS per GiB, so a smaller volume would fail to provision (the EBS CSI driver passes `iops`
  as given).
- A node class all of whose pools launch instances with local NVMe keeps images and ephemeral
  storage on the RAID0 array (`instanceStorePolicy: RAID0`; on Bottlerocket the bootstrap binds
  /var/lib/containerd, /var/lib/kubelet and /var/log/pods to it): its EBS volume only holds the
  OS, so size, IOPS and throughput above gp3's baseline are paid for and never used.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from substrate.components.capacity.instance_families import FAMILIES
from substrate.components.cluster.ebs import (
    GP3_BASELINE_IOPS,
    GP3_BASELINE_THROUGHPUT,
    GP3_MAX_IOPS_PER_GIB,
    OS_VOLUME_MAX_GIB,
)
from substrate.components.workloads.tenancy import memory_bytes
from substrate.config.schema import ConfigError

if TYPE_CHECKING:
    from substrate.config.platform import PlatformConfig

GIB = 1024**3


def check_storage(cfg: PlatformConfig) -> None:
    _check_agent_volumes(cfg)
    _check_os_volumes(cfg)


def _check_agent_volumes(cfg: PlatformConfig) -> None:
    iops = cfg.storage.agent_memory_iops
    smallest = math.ceil(iops / GP3_MAX_IOPS_PER_GIB)
    for name, agent in cfg.agents.items():
        volume = agent.memory_volume
        if volume.volume_type == "gp3" and memory_bytes(volume.size) < smallest * GIB:
            raise ConfigError(
                f"substrate:agents.{name}.memoryVolume.size",
                volume.size,
                f"is too small for {iops} provisioned IOPS (substrate:storage.agentMemoryIops; "
                f"gp3 allows {GP3_MAX_IOPS_PER_GIB} IOPS per GiB)",
                f"at least {smallest}Gi, or fewer agentMemoryIops",
            )


def _check_os_volumes(cfg: PlatformConfig) -> None:
    if cfg.karpenter is None:
        return
    for name, node_class in sorted(cfg.karpenter.node_classes.items()):
        pools = sorted(p for p, pool in cfg.node_pools.items() if pool.node_class == name)
        families = {f for p in pools for f in cfg.node_pools[p].instance_families if f in FAMILIES}
        if not pools or not all(FAMILIES[f].local_nvme for f in families):
            continue
        path = f"substrate:karpenter.nodeClasses.{name}"
        why = (
            f"every pool on the class ({', '.join(pools)}) launches instances with local NVMe, "
            "where images and ephemeral storage live on the RAID0 array"
        )
        for key, value, most in (
            ("volumeGib", node_class.volume_gib, OS_VOLUME_MAX_GIB),
            ("volumeIops", node_class.volume_iops, GP3_BASELINE_IOPS),
            ("volumeThroughput", node_class.volume_throughput, GP3_BASELINE_THROUGHPUT),
        ):
            if value > most:
                raise ConfigError(
                    f"{path}.{key}",
                    value,
                    f"is paid for and unused: {why}",
                    f"at most {most} (the volume holds only the OS)",
                )
