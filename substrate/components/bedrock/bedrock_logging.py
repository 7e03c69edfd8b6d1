"""Amazon Bedrock model invocation logging to a KMS-encrypted CloudWatch Logs group (R25).

Bedrock keeps ONE logging configuration per account and Region
(`aws:bedrockmodel/invocationLoggingConfiguration`): exactly one stack per account and Region
may own it, or the stacks overwrite each other and destroying one turns logging off for all.
Every call through `bedrock-runtime` (InvokeModel, InvokeModelWithResponseStream, Converse,
ConverseStream) is logged with the caller's identity, the model and token counts, plus the
prompt and completion text when text delivery is on.

Children: a customer managed key usable by CloudWatch Logs for this one group, the group
(retention from config), the role Bedrock assumes to write (trust `bedrock.amazonaws.com`
with `aws:SourceAccount` and `aws:SourceArn` = Bedrock in this account and Region; permission
to create and write the `aws/bedrock/modelinvocations` stream only) and the configuration.
"""

from collections.abc import Mapping
from typing import NotRequired, Required, TypedDict

import pulumi
import pulumi_aws as aws

from substrate.components.bedrock import bedrock_policies
from substrate.components.bedrock.bedrock_policies import invocation_logging_statements
from substrate.components.core import iam, validators
from substrate.components.core._args import check_args
from substrate.components.core.aws_context import AwsContext, aws_context
from substrate.components.core.kms_key import customer_key
from substrate.components.core.kms_policies import log_group_key_policy

LargeDataArgs = aws.bedrockmodel.InvocationLoggingConfigurationLoggingConfigCloudwatchConfigLargeDataDeliveryS3ConfigArgs  # noqa: E501


class BedrockInvocationLoggingArgs(TypedDict, total=False):
    log_group_name: Required[str]
    """CloudWatch Logs group that receives the invocation records."""
    retention_days: Required[int]
    """How long CloudWatch keeps the records (a value CloudWatch Logs accepts)."""
    text_data: NotRequired[bool]
    """Log prompt and completion text (default true; without it only metadata is logged)."""
    image_data: NotRequired[bool]
    """Log image data (default false; Bedrock delivers images to S3 only, not configured)."""
    embedding_data: NotRequired[bool]
    """Log embedding vectors (default false: large and rarely useful for audit)."""
    video_data: NotRequired[bool]
    """Log video data (default false; delivered to S3 only, not configured)."""
    large_data_prefix: NotRequired[str | None]
    """Deliver request and response bodies over 100 KB (and binary data) to an S3 bucket of
    this component under this key prefix; CloudWatch Logs keeps a reference. None (default): no
    bucket, such bodies are not delivered."""
    tags: NotRequired[Mapping[str, str]]
    """Tags for the key, the group and the role."""


def _validate(args: BedrockInvocationLoggingArgs) -> None:
    name = args["log_group_name"]
    if not name or len(name) > 512 or not all(c.isalnum() or c in "_-/.#" for c in name):
        raise ValueError(
            f"BedrockInvocationLoggingArgs.log_group_name: {name!r} is not a log group name"
        )
    prefix = args.get("large_data_prefix")
    if prefix is not None and not (
        prefix and len(prefix) <= 200 and all(c.isalnum() or c in "-_." for c in prefix)
    ):
        raise ValueError(
            f"BedrockInvocationLoggingArgs.large_data_prefix: {prefix!r} is not a key prefix "
            "(letters, digits, '-', '_', '.')"
        )
    problem = validators.log_retention_days(args["retention_days"])
    if problem:
        raise ValueError(
            f"BedrockInvocationLoggingArgs.retention_days: {args['retention_days']!r} {problem}"
        )


class BedrockInvocationLogging(pulumi.ComponentResource):
    log_group_arn: pulumi.Output[str]
    key_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: BedrockInvocationLoggingArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        check_args(self, args)
        super().__init__("substrate:bedrock:BedrockInvocationLogging", name, None, opts)
        _validate(args)
        tags = dict(args.get("tags", {}))
        child = pulumi.ResourceOptions(parent=self)
        ctx = aws_context(self)
        group_name = args["log_group_name"]
        key = customer_key(
            f"{name}-key",
            description=f"Bedrock model invocation logs ({group_name})",
            policy=pulumi.Output.all(ctx.account_id, ctx.partition, ctx.region).apply(
                lambda v: log_group_key_policy(v[0], v[1], v[2], group_name)
            ),
            tags=tags,
            opts=child,
        )
        group = aws.cloudwatch.LogGroup(
            f"{name}-log-group",
            name=group_name,
            retention_in_days=args["retention_days"],
            kms_key_id=key.arn,
            tags=tags,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=pulumi.Output.all(ctx.account_id, ctx.partition, ctx.region).apply(
                lambda v: iam.service_trust(
                    "bedrock.amazonaws.com", v[0], f"arn:{v[1]}:bedrock:{v[2]}:{v[0]}:*"
                )
            ),
            description=f"Bedrock writes model invocation logs to {group_name}",
            tags=tags,
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.name,
            policy=group.arn.apply(lambda arn: iam.to_json(invocation_logging_statements(arn))),
            opts=child,
        )
        waits: list[pulumi.Resource] = [policy]
        large = None
        prefix = args.get("large_data_prefix")
        if prefix:
            bucket, ready = _large_data_bucket(
                name, prefix, args["retention_days"], tags, self, ctx
            )
            waits += ready
            large = LargeDataArgs(bucket_name=bucket.bucket, key_prefix=prefix)
        aws.bedrockmodel.InvocationLoggingConfiguration(
            f"{name}-configuration",
            logging_config=aws.bedrockmodel.InvocationLoggingConfigurationLoggingConfigArgs(
                cloudwatch_config=aws.bedrockmodel.InvocationLoggingConfigurationLoggingConfigCloudwatchConfigArgs(
                    log_group_name=group.name,
                    role_arn=role.arn,
                    large_data_delivery_s3_config=large,
                ),
                text_data_delivery_enabled=args.get("text_data", True),
                image_data_delivery_enabled=args.get("image_data", False),
                embedding_data_delivery_enabled=args.get("embedding_data", False),
                video_data_delivery_enabled=args.get("video_data", False),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=waits),
        )
        self.log_group_arn = group.arn
        self.key_arn = key.arn
        self.role_arn = role.arn
        self.register_outputs({"logGroupArn": group.arn, "keyArn": key.arn, "roleArn": role.arn})


def _large_data_bucket(  # noqa: PLR0917 - one private helper of the component
    name: str,
    prefix: str,
    retention_days: int,
    tags: dict[str, str],
    parent: pulumi.Resource,
    ctx: AwsContext,
) -> tuple[aws.s3.Bucket, list[pulumi.Resource]]:
    """The large-data bucket: its own KMS key Bedrock may generate data keys with, ACLs off
    (the bucket policy decides, as the User Guide requires), no public access, TLS only, Bedrock
    writing under the prefix only, objects kept `retention_days` like the log group."""
    child = pulumi.ResourceOptions(parent=parent)
    facts = pulumi.Output.all(ctx.account_id, ctx.partition, ctx.region)
    key = customer_key(
        f"{name}-large-data-key",
        description="Bedrock model invocation data over 100 KB",
        policy=facts.apply(lambda v: bedrock_policies.large_data_key_policy(v[0], v[1], v[2])),
        tags=tags,
        opts=child,
    )
    bucket = aws.s3.Bucket(f"{name}-large-data", force_destroy=False, tags=tags, opts=child)
    owner = aws.s3.BucketOwnershipControls(
        f"{name}-large-data-ownership",
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=child,
    )
    public = aws.s3.BucketPublicAccessBlock(
        f"{name}-large-data-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-large-data-encryption",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms", kms_master_key_id=key.arn
                ),
                bucket_key_enabled=True,
            )
        ],
        opts=child,
    )
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-large-data-retention",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-invocation-data",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=f"{prefix}/"),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                    days=retention_days
                ),
            )
        ],
        opts=child,
    )
    policy = aws.s3.BucketPolicy(
        f"{name}-large-data-policy",
        bucket=bucket.id,
        policy=pulumi.Output.all(bucket.arn, facts).apply(
            lambda v: bedrock_policies.large_data_bucket_policy(v[0], prefix, *v[1])
        ),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[public, owner]),
    )
    return bucket, [owner, public, encryption, policy]
