"""Invocation logging: encrypted, retained group; least-privilege, confused-deputy-safe role."""

from __future__ import annotations

import pytest

from substrate.components.bedrock.bedrock_logging import BedrockInvocationLogging
from substrate.components.core.validators import is_customer_kms_key_arn
from substrate.engines.iam import Kind, Policies, Policy, Principal, Request, evaluate
from tests.helpers import Resources, policy_json, run_program

CONFIG = "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration"
GROUP = "/aws/bedrock/substrate-prod/model-invocations"
GROUP_ARN = f"arn:aws:logs:us-east-1:123456789012:log-group:{GROUP}"
ACCOUNT = "123456789012"


def test_prod_logs_to_a_kms_encrypted_group_kept_a_year(prod: Resources) -> None:
    group = prod.named("bedrock-logging-log-group")
    assert group.inputs["name"] == GROUP
    assert group.inputs["retentionInDays"] == 365
    # Its own customer managed key, not the control plane's.
    assert is_customer_kms_key_arn(group.inputs["kmsKeyId"])
    assert group.inputs["kmsKeyId"] != prod.named("cluster-control-plane-logs").inputs["kmsKeyId"]


def test_key_policy_lets_cloudwatch_logs_use_the_key_for_this_group_only(prod: Resources) -> None:
    key = prod.named("bedrock-logging-key")
    assert key.inputs["enableKeyRotation"] is True
    logs = next(
        s for s in policy_json(key)["Statement"] if s["Sid"] == "AllowCloudWatchLogsForOneGroup"
    )
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert logs["Condition"] == {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": GROUP_ARN}}


def test_bedrock_role_writes_one_stream_and_trusts_bedrock_of_this_account_and_region(
    prod: Resources,
) -> None:
    (trust,) = policy_json(prod.named("bedrock-logging-role"), "assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"Service": "bedrock.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": "arn:aws:bedrock:us-east-1:123456789012:*"},
    }
    (stmt,) = policy_json(prod.named("bedrock-logging-policy"))["Statement"]
    assert stmt["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert stmt["Resource"] == [f"{GROUP_ARN}:log-stream:aws/bedrock/modelinvocations"]


def test_configuration_logs_text_to_the_group_with_the_role(prod: Resources) -> None:
    config = prod.one(CONFIG).inputs["loggingConfig"]
    assert config == {
        "cloudwatchConfig": {
            "logGroupName": GROUP,
            "roleArn": "arn:aws:iam::123456789012:role/"
            + prod.named("bedrock-logging-role").inputs["name"],
            "largeDataDeliveryS3Config": {
                "bucketName": "bedrock-logging-large-data",
                "keyPrefix": "invocation-data",
            },
        },
        "textDataDeliveryEnabled": True,
        "imageDataDeliveryEnabled": False,
        "embeddingDataDeliveryEnabled": False,
        "videoDataDeliveryEnabled": False,
    }


def test_dev_leaves_the_account_configuration_to_staging(dev: Resources) -> None:
    assert dev.of_type(CONFIG) == []


def test_invalid_retention_names_the_input() -> None:
    def program() -> None:
        BedrockInvocationLogging("logs", {"log_group_name": "/aws/bedrock/x", "retention_days": 42})

    with pytest.raises(
        ValueError, match=r"^BedrockInvocationLoggingArgs.retention_days: 42 is not"
    ):
        run_program(program)


def test_large_bodies_go_to_a_private_bucket_only_bedrock_of_this_account_writes(
    prod: Resources,
) -> None:
    """prod sets invocationLogging.largeDataPrefix: judged by the IAM evaluator on the bucket
    policy, Bedrock of this account and Region may put objects under the documented path only,
    over TLS; the bucket keeps ACLs off, public access blocked and its own KMS key."""
    config = prod.one(CONFIG).inputs["loggingConfig"]["cloudwatchConfig"]
    bucket = prod.named("bedrock-logging-large-data").inputs
    large = config["largeDataDeliveryS3Config"]
    assert large == {"bucketName": "bedrock-logging-large-data", "keyPrefix": "invocation-data"}
    policy = Policy.parse(
        "bucket", Kind.RESOURCE, policy_json(prod.named("bedrock-logging-large-data-policy"))
    )
    arn = "arn:aws:s3:::bedrock-logging-large-data"
    bedrock = Principal.service("bedrock.amazonaws.com")
    logs = f"{arn}/invocation-data/AWSLogs/{ACCOUNT}/BedrockModelInvocationLogs/2026/01/02/x.gz"

    def put(obj: str, account: str = ACCOUNT, tls: str = "true") -> str:
        context = {
            "aws:SourceAccount": account,
            "aws:SourceArn": f"arn:aws:bedrock:us-east-1:{account}:model-invocation-logging",
            "aws:SecureTransport": tls,
        }
        request = Request(bedrock, "s3:PutObject", obj, context, resource_account=ACCOUNT)
        return evaluate(request, Policies(resource=policy)).reason

    assert put(logs) == "allowed"
    assert put(logs, tls="false") == "with an explicit deny in a resource-based policy"
    refused = "because no resource-based policy allows the s3:PutObject action"
    assert put(logs, account="210987654321") == refused
    assert put(f"{arn}/elsewhere/x.gz") == refused
    assert bucket.get("acl") is None
    assert prod.named("bedrock-logging-large-data-ownership").inputs["rule"] == {
        "objectOwnership": "BucketOwnerEnforced"
    }
    blocks = prod.named("bedrock-logging-large-data-public-access").inputs
    assert all(
        blocks[k]
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    (rule,) = prod.named("bedrock-logging-large-data-encryption").inputs["rules"]
    key = rule["applyServerSideEncryptionByDefault"]
    assert key["sseAlgorithm"] == "aws:kms" and is_customer_kms_key_arn(key["kmsMasterKeyId"])
    writes = next(
        s
        for s in policy_json(prod.named("bedrock-logging-large-data-key"))["Statement"]
        if s["Sid"] == "BedrockWritesInvocationData"
    )
    assert writes["Action"] == "kms:GenerateDataKey"
    assert writes["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
