"""The Karpenter controller's IAM policy, as the upstream reference grants it.

Statements and Sids follow the six managed policies of Karpenter v1.14's getting-started
CloudFormation template (node lifecycle, IAM integration, EKS integration, interruption,
resource discovery, zonal shift), with the same resource scoping and tag conditions. Every
upstream action is granted; `tests/components/test_karpenter.py` compares them statement by
statement. One statement is Substrate's own: use of the cluster's EBS key, which Karpenter
needs because every node volume is encrypted with that customer managed key (EBS user guide,
"Permissions for users": CreateGrant, Decrypt, DescribeKey, GenerateDataKeyWithoutPlaintext,
ReEncrypt), restricted to calls EC2 makes on Karpenter's behalf in this account.

Pure Python: rendered inside `Output.apply` once ARNs are known.
"""

from __future__ import annotations

from dataclasses import dataclass

from substrate.components.core.iam import Statement, allow, to_json

UPSTREAM_NODE_ROLE_POLICIES = (
    "AmazonEKS_CNI_Policy",
    "AmazonEKSWorkerNodePolicy",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonSSMManagedInstanceCore",
)


@dataclass(frozen=True)
class ControllerScope:
    partition: str
    region: str
    account_id: str
    cluster_name: str
    node_role_arn: str
    queue_arn: str
    volume_key_arn: str

    def ec2(self, kind: str, account: str = "*") -> str:
        return f"arn:{self.partition}:ec2:{self.region}:{account}:{kind}/*"

    @property
    def cluster_arn(self) -> str:
        return (
            f"arn:{self.partition}:eks:{self.region}:{self.account_id}:cluster/{self.cluster_name}"
        )

    @property
    def instance_profiles(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:instance-profile/*"


def _node_lifecycle(s: ControllerScope) -> list[Statement]:
    owned = {f"aws:ResourceTag/kubernetes.io/cluster/{s.cluster_name}": "owned"}
    any_pool = {"aws:ResourceTag/karpenter.sh/nodepool": "*"}
    request_owned = {
        f"aws:RequestTag/kubernetes.io/cluster/{s.cluster_name}": "owned",
        "aws:RequestTag/eks:eks-cluster-name": s.cluster_name,
    }
    request_pool = {"aws:RequestTag/karpenter.sh/nodepool": "*"}
    tagged = [
        s.ec2(k)
        for k in (
            "fleet",
            "instance",
            "volume",
            "network-interface",
            "launch-template",
            "spot-instances-request",
        )
    ]
    return [
        allow(
            ["ec2:RunInstances", "ec2:CreateFleet"],
            [
                s.ec2("image", ""),
                s.ec2("snapshot", ""),
                s.ec2("security-group"),
                s.ec2("subnet"),
                s.ec2("capacity-reservation"),
                s.ec2("placement-group"),
            ],
            sid="AllowScopedEC2InstanceAccessActions",
        ),
        allow(
            ["ec2:RunInstances", "ec2:CreateFleet"],
            s.ec2("launch-template"),
            sid="AllowScopedEC2LaunchTemplateAccessActions",
            condition={"StringEquals": owned, "StringLike": any_pool},
        ),
        allow(
            ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
            tagged,
            sid="AllowScopedEC2InstanceActionsWithTags",
            condition={"StringEquals": request_owned, "StringLike": request_pool},
        ),
        allow(
            ["ec2:CreateTags"],
            tagged,
            sid="AllowScopedResourceCreationTagging",
            condition={
                "StringEquals": {
                    **request_owned,
                    "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"],
                },
                "StringLike": request_pool,
            },
        ),
        allow(
            ["ec2:CreateTags"],
            s.ec2("instance"),
            sid="AllowScopedResourceTagging",
            condition={
                "StringEquals": owned,
                "StringLike": any_pool,
                "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": s.cluster_name},
                "ForAllValues:StringEquals": {
                    "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]
                },
            },
        ),
        allow(
            ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
            [s.ec2("instance"), s.ec2("launch-template")],
            sid="AllowScopedDeletion",
            condition={"StringEquals": owned, "StringLike": any_pool},
        ),
    ]


def _iam_integration(s: ControllerScope) -> list[Statement]:
    region_tag = "topology.kubernetes.io/region"
    resource_owned = {
        f"aws:ResourceTag/kubernetes.io/cluster/{s.cluster_name}": "owned",
        f"aws:ResourceTag/{region_tag}": s.region,
    }
    request_owned = {
        f"aws:RequestTag/kubernetes.io/cluster/{s.cluster_name}": "owned",
        "aws:RequestTag/eks:eks-cluster-name": s.cluster_name,
        f"aws:RequestTag/{region_tag}": s.region,
    }
    resource_class = {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*"}
    request_class = {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"}
    return [
        allow(
            ["iam:PassRole"],
            s.node_role_arn,
            sid="AllowPassingInstanceRole",
            condition={
                "StringEquals": {
                    "iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]
                }
            },
        ),
        allow(
            ["iam:CreateInstanceProfile"],
            s.instance_profiles,
            sid="AllowScopedInstanceProfileCreationActions",
            condition={"StringEquals": request_owned, "StringLike": request_class},
        ),
        allow(
            ["iam:TagInstanceProfile"],
            s.instance_profiles,
            sid="AllowScopedInstanceProfileTagActions",
            condition={
                "StringEquals": {**resource_owned, **request_owned},
                "StringLike": {**resource_class, **request_class},
            },
        ),
        allow(
            [
                "iam:AddRoleToInstanceProfile",
                "iam:RemoveRoleFromInstanceProfile",
                "iam:DeleteInstanceProfile",
            ],
            s.instance_profiles,
            sid="AllowScopedInstanceProfileActions",
            condition={"StringEquals": resource_owned, "StringLike": resource_class},
        ),
    ]


def _discovery(s: ControllerScope) -> list[Statement]:
    return [
        allow(
            [
                "ec2:DescribeCapacityReservations",
                "ec2:DescribeImages",
                "ec2:DescribeInstances",
                "ec2:DescribeInstanceStatus",
                "ec2:DescribeInstanceTypeOfferings",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplates",
                "ec2:DescribePlacementGroups",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSpotPriceHistory",
                "ec2:DescribeSubnets",
            ],
            "*",
            sid="AllowRegionalReadActions",
            condition={"StringEquals": {"aws:RequestedRegion": s.region}},
        ),
        allow(
            ["ssm:GetParameter"],
            f"arn:{s.partition}:ssm:{s.region}::parameter/aws/service/*",
            sid="AllowSSMReadActions",
        ),
        allow(["pricing:GetProducts"], "*", sid="AllowPricingReadActions"),
        allow(["iam:ListInstanceProfiles"], "*", sid="AllowUnscopedInstanceProfileListAction"),
        allow(
            ["iam:GetInstanceProfile"], s.instance_profiles, sid="AllowInstanceProfileReadActions"
        ),
    ]


def volume_key_statements(s: ControllerScope) -> list[Statement]:
    """Launching nodes whose volumes use the cluster's customer managed EBS key."""
    via_ec2 = {
        "kms:ViaService": f"ec2.{s.region}.amazonaws.com",
        "kms:CallerAccount": s.account_id,
    }
    return [
        allow(
            [
                "kms:Decrypt",
                "kms:DescribeKey",
                "kms:GenerateDataKeyWithoutPlaintext",
                "kms:ReEncryptFrom",
                "kms:ReEncryptTo",
            ],
            s.volume_key_arn,
            sid="AllowEbsVolumeKeyUseThroughEc2",
            condition={"StringEquals": via_ec2},
        ),
        allow(
            ["kms:CreateGrant"],
            s.volume_key_arn,
            sid="AllowEbsVolumeKeyGrantsThroughEc2",
            condition={
                "StringEquals": via_ec2,
                "Bool": {"kms:GrantIsForAWSResource": "true"},
            },
        ),
    ]


def controller_statements(s: ControllerScope) -> list[Statement]:
    return [
        *_node_lifecycle(s),
        *_iam_integration(s),
        allow(["eks:DescribeCluster"], s.cluster_arn, sid="AllowAPIServerEndpointDiscovery"),
        allow(
            ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
            s.queue_arn,
            sid="AllowInterruptionQueueActions",
        ),
        allow(
            ["arc-zonal-shift:GetManagedResource"],
            "*",
            sid="AllowZonalShiftStatusReadOnly",
            condition={"StringEquals": {"arc-zonal-shift:ResourceIdentifier": s.cluster_arn}},
        ),
        *_discovery(s),
        *volume_key_statements(s),
    ]


def controller_policy(s: ControllerScope) -> str:
    return to_json(controller_statements(s))
