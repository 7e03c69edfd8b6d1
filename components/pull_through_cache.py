"""The ECR pull-through cache rules of the platform images (components.image_cache)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Required, TypedDict

import pulumi
import pulumi_aws as aws

from components.aws_context import aws_context
from components.image_cache import UPSTREAMS, create_repository_policy, prefix


class ImageCacheArgs(TypedDict):
    environment: Required[str]
    """Environment name: the first segment of every cache prefix."""
    puller_role_arns: Required[Sequence[pulumi.Input[str]]]
    """Node roles whose nodes pull the cached images (the system node group's)."""


class ImageCache(pulumi.ComponentResource):
    """One pull-through cache rule per credential-free upstream, and the pullers' permission to
    create the cache repositories."""

    def __init__(
        self, name: str, args: ImageCacheArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("substrate:images:ImageCache", name, None, opts)
        env = args["environment"]
        child = pulumi.ResourceOptions(parent=self)
        for upstream, short in sorted(UPSTREAMS.items()):
            aws.ecr.PullThroughCacheRule(
                f"{name}-{short}",
                ecr_repository_prefix=prefix(env, upstream),
                upstream_registry_url=upstream,
                opts=child,
            )
        ctx = aws_context(self)
        policy = pulumi.Output.all(ctx.partition, ctx.region, ctx.account_id).apply(
            lambda v: create_repository_policy(v[0], v[1], v[2], env)
        )
        for i, role_arn in enumerate(args["puller_role_arns"]):
            aws.iam.RolePolicy(
                f"{name}-create-repositories-{i}",
                role=pulumi.Output.from_input(role_arn).apply(lambda a: a.rsplit("/", 1)[-1]),
                policy=policy,
                opts=child,
            )
        self.register_outputs({})
