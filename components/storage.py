"""StorageClasses backed by the EBS CSI driver, encrypted with the cluster's EBS key.

- `gp3` (default): general-purpose volumes.
- `nvme-fast`: durable, low-latency volumes for agent memory and other state that must survive
  its node: EBS io2 (99.999% durability, sub-millisecond latency, attached as NVMe on Nitro),
  IOPS provisioned per GiB. Ephemeral caches (model weights, datasets) belong on the nodes'
  local NVMe instead: NVMe pools' EC2NodeClasses use `instanceStorePolicy: RAID0`, so
  `emptyDir` and image layers already live on the RAID0 array; no StorageClass is involved.
"""

from __future__ import annotations

from typing import Literal, NotRequired, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

EBS_CSI_PROVISIONER = "ebs.csi.aws.com"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
FAST_CLASS = "nvme-fast"


class StorageClassesArgs(TypedDict, total=False):
    volume_kms_key_arn: Required[pulumi.Input[str]]
    """Customer managed KMS key for every volume these classes provision (R13)."""
    reclaim_policy: NotRequired[Literal["Delete", "Retain"]]
    """What happens to a volume when its claim is deleted (Retain in production)."""
    fast_iops_per_gib: NotRequired[int]
    """Provisioned IOPS per GiB of `nvme-fast` (io2) volumes, 1-500 (default 50)."""


class StorageClasses(pulumi.ComponentResource):
    """`gp3` (the default) and `nvme-fast`: encrypted, expandable, bound where the pod lands
    (`WaitForFirstConsumer`, so a volume is created in the pod's AZ)."""

    default_class: pulumi.Output[str]

    def __init__(
        self, name: str, args: StorageClassesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("substrate:storage:StorageClasses", name, None, opts)
        reclaim = args.get("reclaim_policy", "Delete")
        if reclaim not in ("Delete", "Retain"):
            raise ValueError(
                f"StorageClassesArgs.reclaim_policy: {reclaim!r}; allowed: Delete, Retain"
            )
        gp3 = k8s.storage.v1.StorageClass(
            f"{name}-gp3",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="gp3", annotations={DEFAULT_CLASS_ANNOTATION: "true"}
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
        if not 1 <= fast_iops <= 500:
            raise ValueError(f"StorageClassesArgs.fast_iops_per_gib: {fast_iops} must be 1..500")
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
