"""A small managed node group reserved for platform controllers.

Tainted `CriticalAddonsOnly=true:NoSchedule` so only controllers that tolerate it (Karpenter,
CoreDNS, Kueue, KEDA, Kyverno, ...) land there; workloads go to Karpenter capacity. Nodes use
IMDSv2 with hop limit 1 (R9, R10), encrypted gp3 volumes with the cluster's EBS key (R13), no
public IP and no SSH key (R11, R12), and a node role with only worker and ECR pull policies (R21;
the VPC CNI gets its own Pod Identity role).
"""

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import NotRequired, Required, TypedDict

import pulumi
import pulumi_aws as aws

from substrate.components.capacity.node_classes import BOTTLEROCKET_OS_VOLUME_GIB
from substrate.components.cluster.node_role import node_role
from substrate.components.core import validators
from substrate.components.core._args import check_args
from substrate.components.core.aws_context import aws_context
from substrate.components.core.labels import SYSTEM_NODE_SELECTOR


class AmiType(StrEnum):
    """EKS AMI type of the system nodes (x86 or Arm, Amazon Linux 2023 or Bottlerocket)."""

    AL2023_X86_64_STANDARD = "AL2023_x86_64_STANDARD"
    AL2023_ARM_64_STANDARD = "AL2023_ARM_64_STANDARD"
    BOTTLEROCKET_X86_64 = "BOTTLEROCKET_x86_64"
    BOTTLEROCKET_ARM_64 = "BOTTLEROCKET_ARM_64"


class NodeGroupCapacity(StrEnum):
    """Capacity type of the system managed node group."""

    ON_DEMAND = "ON_DEMAND"
    SPOT = "SPOT"


class SystemNodeGroupArgs(TypedDict, total=False):
    cluster_name: Required[pulumi.Input[str]]
    """Cluster the nodes join."""
    kubernetes_version: Required[str]
    """Kubelet version; keep it equal to the control plane's."""
    subnet_ids: Required[pulumi.Input[Sequence[pulumi.Input[str]]]]
    """Private subnets, one per AZ."""
    volume_kms_key_arn: Required[pulumi.Input[str]]
    """Customer managed KMS key for the root/data volumes."""
    instance_types: NotRequired[Sequence[str]]
    """Instance types in order of preference (default m7i.large)."""
    ami_type: NotRequired[AmiType]
    """EKS-optimized AMI type (default AL2023_x86_64_STANDARD)."""
    capacity_type: NotRequired[NodeGroupCapacity]
    """Capacity type (default ON_DEMAND)."""
    min_size: NotRequired[int]
    """Minimum nodes (default 2)."""
    desired_size: NotRequired[int]
    """Initial nodes (default 2); later changes by the autoscaler are kept."""
    max_size: NotRequired[int]
    """Maximum nodes (default 4)."""
    disk_size_gib: NotRequired[int]
    """Volume size in GiB (default 50)."""
    tags: NotRequired[Mapping[str, str]]
    """Tags for every AWS resource created, and for instances and volumes."""


def _validate(args: SystemNodeGroupArgs) -> None:
    low, want, high = (
        args.get("min_size", 2),
        args.get("desired_size", 2),
        args.get("max_size", 4),
    )
    if not 1 <= low <= want <= high:
        raise ValueError(
            f"SystemNodeGroupArgs.min_size/desired_size/max_size: {low}/{want}/"
            f"{high} must satisfy 1 <= min <= desired <= max"
        )
    for i, itype in enumerate(args.get("instance_types", ["m7i.large"])):
        problem = validators.instance_type(itype)
        if problem:
            raise ValueError(f"SystemNodeGroupArgs.instance_types[{i}]: {itype!r} {problem}")
    if not 20 <= args.get("disk_size_gib", 50) <= 16384:
        raise ValueError("SystemNodeGroupArgs.disk_size_gib: must be 20..16384")


def _mapping(
    device: str, size: int, key_arn: pulumi.Input[str]
) -> aws.ec2.LaunchTemplateBlockDeviceMappingArgs:
    return aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
        device_name=device,
        ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
            volume_size=size,
            volume_type="gp3",
            encrypted="true",
            kms_key_id=key_arn,
            delete_on_termination="true",
        ),
    )


def block_devices(
    ami_type: str, size: int, key_arn: pulumi.Input[str]
) -> list[aws.ec2.LaunchTemplateBlockDeviceMappingArgs]:
    """AL2023 boots and stores images on /dev/xvda. Bottlerocket keeps the OS on /dev/xvda and
    images/containers on its data volume /dev/xvdb, the one sized here; its OS volume is mapped
    too, so it is encrypted with the key instead of coming unencrypted from the AMI."""
    if not ami_type.startswith("BOTTLEROCKET"):
        return [_mapping("/dev/xvda", size, key_arn)]
    return [
        _mapping("/dev/xvda", BOTTLEROCKET_OS_VOLUME_GIB, key_arn),
        _mapping("/dev/xvdb", size, key_arn),
    ]


class SystemNodeGroup(pulumi.ComponentResource):
    node_group_name: pulumi.Output[str]
    node_role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: SystemNodeGroupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__("substrate:cluster:SystemNodeGroup", name, None, opts)
        _validate(args)
        tags = dict(args.get("tags", {}))
        child = pulumi.ResourceOptions(parent=self)
        ctx = aws_context(self)
        ami_type = args.get("ami_type", "AL2023_x86_64_STANDARD")

        nodes = node_role(self, name, ctx, "Node role of the Substrate system node group", tags)
        role, attachments = nodes.role, nodes.attachments
        launch_template = aws.ec2.LaunchTemplate(
            f"{name}-lt",
            description="Substrate system nodes: IMDSv2 only, hop limit 1, encrypted volumes",
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=1,
                instance_metadata_tags="disabled",
            ),
            block_device_mappings=block_devices(
                ami_type, args.get("disk_size_gib", 50), args["volume_kms_key_arn"]
            ),
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=tags)
                for kind in ("instance", "volume", "network-interface")
            ]
            if tags
            else None,
            update_default_version=True,
            tags=tags,
            opts=child,
        )
        group = aws.eks.NodeGroup(
            f"{name}-nodes",
            cluster_name=args["cluster_name"],
            version=args["kubernetes_version"],
            node_role_arn=role.arn,
            subnet_ids=args["subnet_ids"],
            ami_type=ami_type,
            capacity_type=args.get("capacity_type", "ON_DEMAND"),
            instance_types=list(args.get("instance_types", ["m7i.large"])),
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=args.get("min_size", 2),
                desired_size=args.get("desired_size", 2),
                max_size=args.get("max_size", 4),
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=launch_template.id, version=launch_template.latest_version.apply(str)
            ),
            labels=dict(SYSTEM_NODE_SELECTOR),
            taints=[aws.eks.NodeGroupTaintArgs(**validators.CRITICAL_ADDONS_TAINT)],
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=attachments, ignore_changes=["scalingConfig.desiredSize"]
            ),
        )
        self.node_group_name = group.node_group_name
        self.node_role_arn = role.arn
        self.register_outputs({"nodeGroupName": group.node_group_name, "nodeRoleArn": role.arn})
