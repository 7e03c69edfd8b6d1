"""StorageClasses backed by the EBS CSI driver, encrypted with the cluster's EBS key, and the
VolumeSnapshotClass of its volumes.

- `gp3` (default): general-purpose volumes (3,000 IOPS, 125 MiB/s).
- `agent-gp3`: the default class of agent memory: EBS gp3 with provisioned IOPS and throughput
  (`iops`, `throughput` parameters of the EBS CSI driver), the same for every volume whatever its
  size.
- `nvme-fast`: EBS io2 on request (99.999% durability, sub-millisecond latency, attached as
  NVMe on Nitro), IOPS provisioned per GiB: about 13x the price of gp3 with the same IOPS, for
  state that needs io2's durability or more than gp3's 16,000 IOPS.
- VolumeSnapshotClass `ebs-snapshots` (driver `ebs.csi.aws.com`, the default class): on-demand
  `VolumeSnapshot`s of any of these volumes, kept (or deleted) with their VolumeSnapshot as
  volumes are (`reclaim_policy`: Retain in production keeps a manual snapshot's EBS snapshot
  after its object is deleted). The CRDs and the snapshot controller come from the EKS
  `snapshot-controller` add-on.
- VolumeSnapshotClass `ebs-scheduled-snapshots` (same driver, deletionPolicy Delete): the class
  of scheduled snapshots (substrate.components.agents.agent_snapshots), whose CronJob prunes
  VolumeSnapshots beyond `keep`; Delete makes pruning delete the EBS snapshot too (with Retain
  every pruned snapshot would stay in EBS, billed, with no object left to find it by).

Ephemeral caches (model weights, datasets) belong on the nodes' local NVMe instead: NVMe pools'
EC2NodeClasses use `instanceStorePolicy: RAID0`, so `emptyDir` and image layers already live on
the RAID0 array; no StorageClass is involved.
"""

from enum import StrEnum
from typing import NotRequired, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from substrate.components.cluster.ebs import (
    AGENT_CLASS,
    DEFAULT_CLASS,
    FAST_CLASS,
    GP3_BASELINE_IOPS,
    GP3_BASELINE_THROUGHPUT,
    GP3_MIB_PER_IOPS,
)
from substrate.components.core._args import check_args
from substrate.components.core.tokens import component_args

EBS_CSI_PROVISIONER = "ebs.csi.aws.com"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
DEFAULT_SNAPSHOT_CLASS_ANNOTATION = "snapshot.storage.kubernetes.io/is-default-class"
SNAPSHOT_CLASS = "ebs-snapshots"
SCHEDULED_SNAPSHOT_CLASS = "ebs-scheduled-snapshots"
SNAPSHOT_API = "snapshot.storage.k8s.io/v1"


class ReclaimPolicy(StrEnum):
    """What happens to an EBS volume when its claim is deleted."""

    DELETE = "Delete"
    """The volume is deleted with its claim."""
    RETAIN = "Retain"
    """The volume stays (and keeps costing) until deleted by hand."""


class StorageClassesArgs(TypedDict, total=False):
    volume_kms_key_arn: Required[pulumi.Input[str]]
    """Customer managed KMS key for every volume these classes provision (R13)."""
    reclaim_policy: NotRequired[ReclaimPolicy]
    """What happens to a volume when its claim is deleted (Retain in production)."""
    fast_iops_per_gib: NotRequired[int]
    """Provisioned IOPS per GiB of `nvme-fast` (io2) volumes, 1-500 (default 50)."""
    agent_iops: NotRequired[int]
    """Provisioned IOPS of every `agent-gp3` volume, 3000-16000 (default 6000)."""
    agent_throughput: NotRequired[int]
    """Provisioned throughput of every `agent-gp3` volume in MiB/s, 125-1000 and at most
    0.25 per IOPS (default 250)."""


def _check(args: StorageClassesArgs) -> None:
    reclaim = args.get("reclaim_policy", "Delete")
    if reclaim not in ("Delete", "Retain"):
        raise ValueError(f"StorageClassesArgs.reclaim_policy: {reclaim!r}; allowed: Delete, Retain")
    fast_iops = args.get("fast_iops_per_gib", 50)
    if not 1 <= fast_iops <= 500:
        raise ValueError(f"StorageClassesArgs.fast_iops_per_gib: {fast_iops} must be 1..500")
    iops = args.get("agent_iops", 6000)
    if not GP3_BASELINE_IOPS <= iops <= 16000:
        raise ValueError(f"StorageClassesArgs.agent_iops: {iops} must be 3000..16000")
    throughput = args.get("agent_throughput", 250)
    if not GP3_BASELINE_THROUGHPUT <= throughput <= iops * GP3_MIB_PER_IOPS:
        raise ValueError(
            f"StorageClassesArgs.agent_throughput: {throughput} must be 125..{int(iops / 4)} "
            "(gp3: 0.25 MiB/s per IOPS)"
        )


class StorageClasses(pulumi.ComponentResource):
    """`gp3` (the default), `agent-gp3` and `nvme-fast`: encrypted, expandable, bound where the
    pod lands (`WaitForFirstConsumer`, so a volume is created in the pod's AZ); the
    `ebs-snapshots` VolumeSnapshotClass and the `ebs-scheduled-snapshots` one (deletionPolicy
    Delete) scheduled snapshots prune on (both need the EKS snapshot-controller add-on first)."""

    default_class: pulumi.Output[str]

    def __init__(
        self, name: str, args: StorageClassesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__(*component_args("substrate:storage:StorageClasses", name, opts))
        _check(args)
        reclaim = args.get("reclaim_policy", "Delete")
        child = pulumi.ResourceOptions(parent=self)
        encrypted = {"encrypted": "true", "kmsKeyId": args["volume_kms_key_arn"]}
        gp3 = k8s.storage.v1.StorageClass(
            f"{name}-gp3",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=DEFAULT_CLASS, annotations={DEFAULT_CLASS_ANNOTATION: "true"}
            ),
            provisioner=EBS_CSI_PROVISIONER,
            parameters={
                "type": "gp3",
                "encrypted": "true",
                "kmsKeyId": args["volume_kms_key_arn"],
                "csi.storage.k8s.io/fstype": "ext4",
            },
            reclaim_policy=reclaim,
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        fast_iops = args.get("fast_iops_per_gib", 50)
        k8s.storage.v1.StorageClass(
            f"{name}-agent-gp3",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=AGENT_CLASS),
            provisioner=EBS_CSI_PROVISIONER,
            parameters={
                "type": "gp3",
                "iops": str(args.get("agent_iops", 6000)),
                "throughput": str(args.get("agent_throughput", 250)),
                **encrypted,
                "csi.storage.k8s.io/fstype": "xfs",
            },
            reclaim_policy=reclaim,
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            opts=child,
        )
        # A VolumeSnapshotClass has no `spec` (driver and deletionPolicy are top-level), which
        # the SDK's CustomResource cannot express: register the object under its type token.
        pulumi.CustomResource(
            f"kubernetes:{SNAPSHOT_API}:VolumeSnapshotClass",
            f"{name}-snapshot-class",
            props={
                "apiVersion": SNAPSHOT_API,
                "kind": "VolumeSnapshotClass",
                "metadata": {
                    "name": SNAPSHOT_CLASS,
                    "annotations": {DEFAULT_SNAPSHOT_CLASS_ANNOTATION: "true"},
                },
                "driver": EBS_CSI_PROVISIONER,
                # A snapshot is kept (or deleted) with its VolumeSnapshot as volumes are.
                "deletionPolicy": reclaim,
            },
            opts=child,
        )
        # Scheduled snapshots are pruned by deleting their VolumeSnapshots: the EBS snapshot
        # must go with them whatever the volumes' reclaim policy.
        pulumi.CustomResource(
            f"kubernetes:{SNAPSHOT_API}:VolumeSnapshotClass",
            f"{name}-scheduled-snapshot-class",
            props={
                "apiVersion": SNAPSHOT_API,
                "kind": "VolumeSnapshotClass",
                "metadata": {"name": SCHEDULED_SNAPSHOT_CLASS},
                "driver": EBS_CSI_PROVISIONER,
                "deletionPolicy": "Delete",
            },
            opts=child,
        )
        k8s.storage.v1.StorageClass(
            f"{name}-nvme-fast",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=FAST_CLASS),
            provisioner=EBS_CSI_PROVISIONER,
            parameters={
                "type": "io2",
                "iopsPerGB": str(fast_iops),
                # Small claims still get io2's minimum IOPS instead of failing to provision.
                "allowAutoIOPSPerGBIncrease": "true",
                "encrypted": "true",
                "kmsKeyId": args["volume_kms_key_arn"],
                "csi.storage.k8s.io/fstype": "xfs",
            },
            reclaim_policy=reclaim,
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.default_class = gp3.metadata.apply(
            lambda m: m["name"] if isinstance(m, dict) else m.name
        )
        self.register_outputs({"defaultClass": self.default_class})
