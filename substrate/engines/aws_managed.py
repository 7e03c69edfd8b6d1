"""AWS managed policies the platform attaches, as AWS publishes them.

A plan names AWS managed policies only by ARN; their statements are AWS's. Only the documents a
journey needs are here, each as the default version the AWS Managed Policy Reference Guide
shows (read 2026), so the IAM evaluator can judge a role that carries them instead of refusing
it (``aws_plan.UnresolvedPolicyError``). A policy not listed stays unresolved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from substrate.engines.iam import Kind, Policy

DOCUMENTS: Mapping[str, Mapping[str, Any]] = {
    # AWS Managed Policy Reference, "AmazonEC2ContainerRegistryPullOnly": v1 (default),
    # created 2024-10-04.
    "AmazonEC2ContainerRegistryPullOnly": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "ecr:GetAuthorizationToken",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchImportUpstreamImage",
                ],
                "Resource": "*",
            }
        ],
    },
    # AWS Managed Policy Reference, "AmazonEKSWorkerNodePolicy": v3 (default), edited
    # 2023-11-27.
    "AmazonEKSWorkerNodePolicy": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WorkerNodePermissions",
                "Effect": "Allow",
                "Action": [
                    "ec2:DescribeInstances",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeRouteTables",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeVolumes",
                    "ec2:DescribeVolumesModifications",
                    "ec2:DescribeVpcs",
                    "eks:DescribeCluster",
                    "eks-auth:AssumeRoleForPodIdentity",
                ],
                "Resource": "*",
            }
        ],
    },
    # AWS Managed Policy Reference, "AWSECRPullThroughCache_ServiceRolePolicy": v3 (default),
    # edited 2025-03-06. Attached to the service-linked role
    # AWSServiceRoleForECRPullThroughCache, which ECR uses to read a cache rule's credentials.
    "aws-service-role/AWSECRPullThroughCache_ServiceRolePolicy": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ECR",
                "Effect": "Allow",
                "Action": [
                    "ecr:GetAuthorizationToken",
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:InitiateLayerUpload",
                    "ecr:UploadLayerPart",
                    "ecr:CompleteLayerUpload",
                    "ecr:PutImage",
                    "ecr:BatchGetImage",
                    "ecr:BatchImportUpstreamImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:GetImageCopyStatus",
                ],
                "Resource": "*",
            },
            {
                "Sid": "SecretsManager",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": "arn:aws:secretsmanager:*:*:secret:ecr-pullthroughcache/*",
                "Condition": {"StringEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}},
            },
        ],
    },
}


def arn(partition: str, name: str) -> str:
    """``arn:<partition>:iam::aws:policy/<name>``."""
    return f"arn:{partition}:iam::aws:policy/{name}"


def policies(partition: str) -> dict[str, Policy]:
    """The documented AWS managed policies, by ARN in ``partition``."""
    return {
        arn(partition, name): Policy.parse(name, Kind.IDENTITY, document)
        for name, document in DOCUMENTS.items()
    }
