"""Amazon EBS volume facts the storage classes, node classes and config checks share (pure data).

gp3: 3,000 IOPS and 125 MiB/s are included in the price; provisioned IOPS up to 500 per GiB of
volume size, provisioned throughput up to 0.25 MiB/s per provisioned IOPS (Amazon EBS volume
types; the EBS CSI driver's `gp3MinTotalIOPS` and `gp3MaxIOPSPerGB`, pkg/cloud/cloud.go).
"""

from __future__ import annotations

GP3_BASELINE_IOPS = 3000
GP3_BASELINE_THROUGHPUT = 125
"""MiB/s."""
GP3_MAX_IOPS_PER_GIB = 500
GP3_MIB_PER_IOPS = 0.25
OS_VOLUME_MAX_GIB = 100
"""Largest root volume a node needs when images and ephemeral storage live on its instance-store
RAID0 (Karpenter `instanceStorePolicy: RAID0`): the OS, its logs and the GPU driver only."""

DEFAULT_CLASS = "gp3"
"""The cluster's default StorageClass (EBS gp3): claims that name no class get it."""
AGENT_CLASS = "agent-gp3"
"""EBS gp3 with provisioned IOPS and throughput: the default class of agent memory."""
FAST_CLASS = "nvme-fast"
"""EBS io2 (IOPS provisioned per GiB, about 13x gp3's price)."""
STORAGE_CLASSES = (DEFAULT_CLASS, AGENT_CLASS, FAST_CLASS)
"""Every StorageClass the stack defines (substrate.components.cluster.storage)."""
AGENT_MEMORY_CLASSES = {"gp3": AGENT_CLASS, "io2": FAST_CLASS}
"""An agent's `memoryVolume.volumeType` -> the StorageClass of its memory claims."""
