"""The IAM role EC2 nodes run with, shared by the system node group and Karpenter's nodes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from substrate.components.core import iam
from substrate.components.core.aws_context import AwsContext

NODE_ROLE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly")
"""Managed policies of every node role (R21). Karpenter's upstream reference also attaches
AmazonEKS_CNI_Policy and AmazonSSMManagedInstanceCore; Substrate leaves both out: the VPC CNI
has its own Pod Identity role, and SSM shell access to nodes is not opened by default."""


@dataclass(frozen=True)
class NodeRole:
    role: aws.iam.Role
    attachments: list[aws.iam.RolePolicyAttachment]


def node_role(
    parent: pulumi.Resource, name: str, ctx: AwsContext, description: str, tags: Mapping[str, str]
) -> NodeRole:
    """`<name>-node-role` trusted by EC2, with `<name>-node-<policy>` attachments, as children
    of ``parent``."""
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        f"{name}-node-role",
        assume_role_policy=iam.ec2_trust(),
        description=description,
        tags=dict(tags),
        opts=child,
    )
    attachments = [
        aws.iam.RolePolicyAttachment(
            f"{name}-node-{policy}",
            role=role.name,
            policy_arn=ctx.partition.apply(lambda p, n=policy: iam.managed_policy_arn(p, n)),
            opts=child,
        )
        for policy in NODE_ROLE_POLICIES
    ]
    return NodeRole(role, attachments)
