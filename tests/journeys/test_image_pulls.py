"""Journeys: nodes in private subnets pull images from Amazon ECR, and the IAM evaluator decides
every request the pull makes.

A pull is four authorizations (substrate.engines.ecr_pulls): ecr:GetAuthorizationToken through
the ecr.api endpoint, ecr:BatchGetImage and ecr:GetDownloadUrlForLayer through ecr.dkr (signed
by the node's instance profile session, judged with the node role's policies, AWS managed ones
included, and the endpoint policy), and the layer download from ECR's AWS-owned bucket through
the S3 gateway endpoint (a presigned URL signed by ECR's own account: the endpoint policy is the
only part of that decision the stack owns).
"""

from __future__ import annotations

import pytest

from substrate.components.cluster.endpoint_policies import ecr_layer_objects
from substrate.engines import ecr_pulls
from substrate.engines.iam import Principal
from tests.helpers import STACKS
from tests.journeys.image_pulls import pulls
from tests.journeys.journey import journey

PULLS = "docs/deploy.md#image-pulls-from-private-subnets"
REFUSED = "because no VPC endpoint policy allows the s3:GetObject action"


@journey(
    user="the kubelet of a new node (a Karpenter node of every node class, and a system node)",
    stack="dev, staging, prod",
    steps=[
        "the ECR credential provider calls ecr:GetAuthorizationToken through the ecr.api endpoint",
        "containerd fetches the manifest (ecr:BatchGetImage) and a layer's download URL "
        "(ecr:GetDownloadUrlForLayer) of an image in the account's registry through ecr.dkr",
        "it downloads the layer from the presigned URL (signed by ECR's account) through the S3 "
        "gateway endpoint",
    ],
    outcome="every request is allowed: the node role (AmazonEC2ContainerRegistryPullOnly) and "
    "the ECR endpoint policies allow the ECR calls, and the S3 endpoint policy admits the layer "
    "download from the Region's ECR layer bucket",
    docs=[PULLS],
)
@pytest.mark.parametrize("stack", STACKS)
def test_every_node_pulls_an_ecr_image_through_the_endpoints(stack: str) -> None:
    s = pulls(stack)
    assert "system node group" in s.node_roles
    assert any(k.startswith("Karpenter node class") for k in s.node_roles)
    refused = []
    for kind, role in sorted(s.node_roles.items()):
        node = s.node(role)
        for step in ecr_pulls.pull(s.own_image(), s.partition):
            decision = s.decide(node, step)
            if not decision:
                refused.append(f"{kind}: {step.action} via {step.endpoint}: {decision.reason}")
    assert refused == []


@journey(
    user="a node, ECR's layer URL signer, or anyone whose request crosses the S3 gateway endpoint",
    stack="dev, staging, prod",
    steps=[
        "a presigned download of an object in a bucket that is not the Region's ECR layer bucket "
        "(another Region's layer bucket, the Amazon Linux 2023 repositories, any other bucket)",
        "an anonymous read of the same objects",
        "a write to the ECR layer bucket by a principal of another account",
    ],
    outcome="all are refused by the S3 endpoint policy, which admits other accounts' and "
    "anonymous principals only for s3:GetObject on the Region's ECR layer bucket",
    docs=[PULLS],
)
@pytest.mark.parametrize("stack", STACKS)
def test_unknown_buckets_stay_closed_to_other_accounts(stack: str) -> None:
    s = pulls(stack)
    p, region = s.partition, s.plan.region
    other_region = "eu-west-1" if region != "eu-west-1" else "us-east-1"
    strangers = {
        "ECR's layer signer": ecr_pulls.layer_signer(p),
        "anonymous": Principal.anonymous(),
        "another account": Principal.role_session("arn:aws:iam::999988887777:role/x", "x"),
    }
    elsewhere = [
        ecr_layer_objects(p, other_region).replace("*", "layer"),
        f"arn:{p}:s3:::al2023-repos-{region}-de612dc2/core/mirrors/latest/x86_64/mirror.list",
        f"arn:{p}:s3:::exfiltration-bucket/dump.tar",
    ]
    own_layers = ecr_layer_objects(p, region).replace("*", "layer")
    for who, principal in strangers.items():
        assert s.s3_read(principal, own_layers).allowed, who
        for resource in elsewhere:
            assert s.s3_read(principal, resource).reason == REFUSED, (who, resource)
        put = s.s3_read(principal, own_layers, action="s3:PutObject")
        assert put.reason == "because no VPC endpoint policy allows the s3:PutObject action", who
