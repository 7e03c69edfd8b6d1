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

from __future__ import annotations

from collections.abc import Mapping
from typing import NotRequired, Required, TypedDict

import pulumi
import pulumi_aws as aws

from components import iam, validators
from components._args import check_args
from components.aws_context import aws_context
from components.bedrock_policies import invocation_logging_statements
from components.kms_key import customer_key
from components.kms_policies import log_group_key_policy


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
    tags: NotRequired[Mapping[str, str]]
    """Tags for the key, the group and the role."""


def _validate(args: BedrockInvocationLoggingArgs) -> None:
    name = args["log_group_name"]
    if not name or len(name) > 512 or not all(c.isalnum() or c in "_-/.#" for c in name):
        raise ValueError(
            f"BedrockInvocationLoggingArgs.log_group_name: {name!r} is not a log group name"
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
        aws.bedrockmodel.InvocationLoggingConfiguration(
            f"{name}-configuration",
            logging_config=aws.bedrockmodel.InvocationLoggingConfigurationLoggingConfigArgs(
                cloudwatch_config=aws.bedrockmodel.InvocationLoggingConfigurationLoggingConfigCloudwatchConfigArgs(
                    log_group_name=group.name,
                    role_arn=role.arn,
                ),
                text_data_delivery_enabled=args.get("text_data", True),
                image_data_delivery_enabled=args.get("image_data", False),
                embedding_data_delivery_enabled=args.get("embedding_data", False),
                video_data_delivery_enabled=args.get("video_data", False),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        self.log_group_arn = group.arn
        self.key_arn = key.arn
        self.role_arn = role.arn
        self.register_outputs({"logGroupArn": group.arn, "keyArn": key.arn, "roleArn": role.arn})
