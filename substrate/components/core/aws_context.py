"""Account, partition and Region of the AWS provider a component runs with."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class AwsContext:
    account_id: pulumi.Output[str]
    partition: pulumi.Output[str]
    region: pulumi.Output[str]


def aws_context(parent: pulumi.Resource) -> AwsContext:
    """Look up the caller's account, partition and Region with the parent's AWS provider."""
    opts = pulumi.InvokeOptions(parent=parent)
    identity = aws.get_caller_identity_output(opts=opts)
    partition = aws.get_partition_output(opts=opts)
    region = aws.get_region_output(opts=opts)
    return AwsContext(
        account_id=identity.account_id,
        partition=partition.partition,
        region=region.region,
    )
