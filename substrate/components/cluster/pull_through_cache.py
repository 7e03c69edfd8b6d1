"""The ECR pull-through cache of the platform images (substrate.components.cluster.image_cache):
one rule per credential-free upstream and per upstream the stack has a secret for, and the cache
repositories of the charts' images, created ahead of the first pull. A first pull would
otherwise create them, which needs ``ecr:CreateRepository`` on the puller (Amazon ECR User
Guide, "IAM permissions required to sync an upstream registry with an Amazon ECR private
registry"); node roles carry no such policy (R21), and the registry permissions policy is one
per account and Region, shared by every stack there. The pull itself needs
``ecr:BatchImportUpstreamImage``, which AmazonEC2ContainerRegistryPullOnly grants."""

from collections.abc import Mapping
from typing import NotRequired, Required, TypedDict

import pulumi
import pulumi_aws as aws

from substrate.components.cluster.image_cache import UPSTREAMS, CacheTarget, prefix, repositories
from substrate.components.core._args import check_args


class ImageCacheArgs(TypedDict):
    environment: Required[str]
    """Environment name: the first segment of every cache prefix."""
    tags: NotRequired[Mapping[str, str]]
    """Tags of the cache repositories."""
    credentials: NotRequired[Mapping[str, str]]
    """Upstream host (ghcr.io, docker.io) -> ARN of its `ecr-pullthroughcache/` secret; an
    upstream that needs credentials gets a rule only when listed."""


class ImageCache(pulumi.ComponentResource):
    """Pull-through cache rules and the cache repositories of the platform charts' images."""

    def __init__(
        self, name: str, args: ImageCacheArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__("substrate:images:ImageCache", name, None, opts)
        env = args["environment"]
        target = CacheTarget("", env, dict(args.get("credentials", {})))
        child = pulumi.ResourceOptions(parent=self)
        for host in target.upstreams:
            upstream = UPSTREAMS[host]
            aws.ecr.PullThroughCacheRule(
                f"{name}-{upstream.short}",
                ecr_repository_prefix=prefix(env, host),
                upstream_registry_url=upstream.url,
                credential_arn=target.credentials.get(host),
                opts=child,
            )
        cache = repositories(target)
        for repository in cache:
            aws.ecr.Repository(
                f"{name}-{repository.replace('/', '-')}",
                name=repository,
                # R26. The charts pin version tags (Karpenter also a digest); a tag cached once
                # keeps naming the image that was scanned.
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                    scan_on_push=True
                ),
                # Cached images come back from the upstream on the next pull.
                force_delete=True,
                tags=dict(args.get("tags", {})),
                opts=child,
            )
        self.repositories = cache
        self.register_outputs({"repositories": cache})
