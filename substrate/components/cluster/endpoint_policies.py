"""Endpoint policies that must admit callers without this account's credentials.

The baseline endpoints admit this account's principals only (``perimeter_statement``). Two
kinds of request the platform depends on carry no such principal:

**The S3 gateway endpoint: AWS-owned buckets nodes read.**

Nodes in private subnets reach S3 only through the gateway endpoint, and two kinds of request
they make there are not signed by a principal of the stack's account:

- ECR image layers. The registry answers a layer request with a presigned S3 URL "created with
  an Amazon ECR service account identity" (AWS data perimeter guidance for Amazon ECR); the
  layers live in ``arn:aws:s3:::prod-<region>-starport-layer-bucket`` (Amazon ECR User Guide,
  "Amazon ECR interface VPC endpoints (AWS PrivateLink)": "Creating the Amazon S3 gateway
  endpoint" and "Minimum Amazon S3 bucket permissions for Amazon ECR": ``s3:GetObject`` on
  ``arn:aws:s3:::prod-region-starport-layer-bucket/*``).
- Amazon Linux package repositories (``al2023-repos-<region>-de612dc2``), read anonymously. The
  platform's nodes install no packages (EKS-optimized AL2023 and Bottlerocket AMIs bootstrap
  with nodeadm / Bottlerocket settings only), so that bucket is NOT allowed: a node that runs
  ``dnf`` from a private subnet is refused at the endpoint.

So the endpoint admits any principal for ``s3:GetObject`` on exactly the Region's ECR layer
bucket, and every action only for this account's principals.

**The STS interface endpoint: the deployer's OIDC exchange.** A CI runner inside or routed into
the VPC resolves STS to the endpoint (private DNS) and trades its GitHub OIDC token for the
deploy or preview role with ``sts:AssumeRoleWithWebIdentity``. That caller has no AWS identity
yet, so "the request context doesn't include principal-based condition keys such as
aws:PrincipalOrgID, aws:PrincipalAccount, or aws:PrincipalArn" (IAM User Guide, "Control access
to AWS STS with VPC endpoint policies"): the perimeter statement refuses it. The STS endpoint
therefore also admits any caller for that one action on exactly the stack's deploy and preview
roles (whose trust policies decide who may assume them).

R24 accepts a statement open to ``*`` only in these two shapes (:func:`aws_owned_read`,
:func:`web_identity_to_roles`).

Pure Python: the layer renders the document inside ``Output.apply``; the policy pack and the
tests read the same functions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from substrate.components.core.iam import Statement, to_json

AWS_OWNED_READ_ACTIONS = ("s3:GetObject",)
AWS_OWNED_SID = "AwsOwnedBucketsNodesRead"
_LAYER_BUCKET = re.compile(
    r"^arn:(?P<partition>aws(-[a-z]+)*):s3:::prod-(?P<region>[a-z]{2}(-[a-z]+)+-\d)"
    r"-starport-layer-bucket/\*$"
)


def ecr_layer_objects(partition: str, region: str) -> str:
    """Every object of the Region's ECR layer bucket (ECR User Guide: the ARN of the Amazon S3
    bucket containing the layers, ``arn:aws:s3:::prod-region-starport-layer-bucket/*``)."""
    return f"arn:{partition}:s3:::prod-{region}-starport-layer-bucket/*"


def aws_owned_buckets(partition: str, region: str) -> tuple[str, ...]:
    """The AWS-owned objects nodes of ``region`` read through the S3 gateway endpoint."""
    return (ecr_layer_objects(partition, region),)


def perimeter_statement(account: str) -> Statement:
    """Any action, by principals of ``account`` only."""
    return {
        "Sid": "OnlyThisAccountsPrincipals",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "*",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalAccount": account}},
    }


def s3_gateway_policy(account: str, partition: str, region: str) -> str:
    """The S3 gateway endpoint policy: this account's principals, and ``s3:GetObject`` on the
    AWS-owned buckets nodes read by anyone (the presigned ECR layer URLs)."""
    return to_json(
        [
            perimeter_statement(account),
            {
                "Sid": AWS_OWNED_SID,
                "Effect": "Allow",
                "Principal": "*",
                "Action": list(AWS_OWNED_READ_ACTIONS),
                "Resource": list(aws_owned_buckets(partition, region)),
            },
        ]
    )


def aws_owned_read(actions: Sequence[str], resources: Sequence[str], region: str | None) -> bool:
    """Is a statement open to any principal limited to reading AWS-owned buckets: only
    ``s3:GetObject``, only ECR layer buckets, all of one Region (``region`` when it is known)?"""
    if not actions or any(a != "s3:GetObject" for a in actions) or not resources:
        return False
    regions = set()
    for resource in resources:
        match = _LAYER_BUCKET.match(resource)
        if match is None:
            return False
        regions.add(match["region"])
    return len(regions) == 1 and (region is None or regions == {region})


WEB_IDENTITY_SID = "DeployersExchangeTheirOidcTokens"
_ROLE_ARN = re.compile(r"^arn:aws(-[a-z]+)*:iam::\d{12}:role/[\w+=,.@/-]+$")


def sts_policy(account: str, web_identity_roles: Sequence[str]) -> str:
    """The STS endpoint policy: this account's principals, and AssumeRoleWithWebIdentity on
    exactly ``web_identity_roles`` by any caller (none: the perimeter alone)."""
    statements = [perimeter_statement(account)]
    if web_identity_roles:
        statements.append(
            {
                "Sid": WEB_IDENTITY_SID,
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["sts:AssumeRoleWithWebIdentity"],
                "Resource": sorted(set(web_identity_roles)),
            }
        )
    return to_json(statements)


def web_identity_to_roles(actions: Sequence[str], resources: Sequence[str]) -> bool:
    """Is a statement open to any principal limited to AssumeRoleWithWebIdentity on named roles
    (no wildcard)?"""
    return (
        list(actions) == ["sts:AssumeRoleWithWebIdentity"]
        and bool(resources)
        and all(_ROLE_ARN.match(r) for r in resources)
    )
