"""The endpoint policy's own part of a decision (``through_endpoint``): the rules of the
PrivateLink Guide ("Control access to VPC endpoints using endpoint policies": a request through
an endpoint must be allowed by its policy, an explicit Deny in it refuses) and the Amazon ECR
User Guide's minimum S3 endpoint policy ("Minimum Amazon S3 bucket permissions for Amazon
ECR")."""

from __future__ import annotations

from substrate.engines.iam import Kind, Policy, Principal, Request, through_endpoint
from tests.engines.iam_helpers import USER

QUEUE = "arn:aws:sqs:us-east-2:123456789012:MyQueue"
SEND_ONLY = Policy.parse(
    "sqs-endpoint",
    Kind.ENDPOINT,
    {
        "Statement": [
            {
                "Principal": "*",
                "Effect": "Allow",
                "Action": ["sqs:SendMessage"],
                "Resource": QUEUE,
            }
        ]
    },
)
ECR_LAYERS = Policy.parse(
    "s3-endpoint",
    Kind.ENDPOINT,
    {
        "Statement": [
            {
                "Sid": "Access-to-specific-bucket-only",
                "Principal": "*",
                "Action": ["s3:GetObject"],
                "Effect": "Allow",
                "Resource": ["arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*"],
            }
        ]
    },
)


def test_an_endpoint_policy_allows_only_what_it_names() -> None:
    """A policy allowing only SendMessage to MyQueue lets nothing else through."""
    assert through_endpoint(Request(USER, "sqs:SendMessage", QUEUE), SEND_ONLY).allowed
    refused = through_endpoint(Request(USER, "sqs:ReceiveMessage", QUEUE), SEND_ONLY)
    assert refused.reason == "because no VPC endpoint policy allows the sqs:ReceiveMessage action"
    other = QUEUE.replace("MyQueue", "OtherQueue")
    assert not through_endpoint(Request(USER, "sqs:SendMessage", other), SEND_ONLY)


def test_principal_star_admits_anonymous_and_other_accounts() -> None:
    """ECR User Guide: the S3 gateway endpoint's minimum policy lets any caller read the layer
    bucket, and nothing else: the presigned layer URL is not signed by the account."""
    layer = "arn:aws:s3:::prod-us-east-1-starport-layer-bucket/sha256/ab"
    stranger = Principal.role_session("arn:aws:iam::999999999999:role/x", "s")
    for who in (Principal.anonymous(), stranger, USER):
        assert through_endpoint(Request(who, "s3:GetObject", layer), ECR_LAYERS).allowed
        bucket = "arn:aws:s3:::my-bucket/k"
        assert not through_endpoint(Request(who, "s3:GetObject", bucket), ECR_LAYERS)


def test_an_explicit_deny_in_the_endpoint_policy_wins() -> None:
    """A Deny statement in the endpoint policy refuses the request even when another statement
    allows it."""
    policy = Policy.parse(
        "deny-delete",
        Kind.ENDPOINT,
        {
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
                {
                    "Sid": "NoDelete",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sqs:DeleteQueue",
                    "Resource": "*",
                },
            ]
        },
    )
    decision = through_endpoint(Request(USER, "sqs:DeleteQueue", QUEUE), policy)
    assert decision.reason == "with an explicit deny in a VPC endpoint policy"
    assert decision.statements == ("deny-delete#NoDelete",)
    assert through_endpoint(Request(USER, "sqs:SendMessage", QUEUE), policy).allowed
