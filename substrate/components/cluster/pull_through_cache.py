"""The ECR pull-through cache of the platform images (substrate.components.cluster.image_cache):
one rule per
credential-free upstream, and the cache repositories of the charts' images, created ahead of the
first pull. A first pull would otherwise create them, which needs ``ecr:CreateRepository`` on
the puller (Amazon ECR User Guide, "IAM permissions required to sync an upstream registry with
an Amazon ECR private registry"); node roles carry no such policy (R21), and the registry
permissions policy is one per account and Region, shared by every stack there. The pull itself
needs ``ecr:BatchImportUpstreamImage``, which AmazonEC2ContainerRegistryPullOnly grants."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NotRequired, Required, TypedDict

import pulumi
import pulumi_aws as aws

from substrate.components.cluster.image_cache import (
    CHART_IMAGES,
    UPSTREAMS,
    cache_repository,
    prefix,
)
from substrate.components.core._args import check_args


class ImageCacheArgs(TypedDict):
    environment: Required[str]
    """Environment name: the first segment of every cache prefix."""
    tags: NotRequired[Mapping[str, str]]
    """Tags of the cache repositories."""


class ImageCache(pulumi.ComponentResource):
    """Pull-through cache rules and the cache repositories of the platform charts' images."""

    def __init__(
        self, name: str, args: ImageCacheArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
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
        repositories = sorted(
            {
                cache_repository(env, upstream)
                for images in CHART_IMAGES.values()
                for _, upstream in images
            }
        )
        for repository in repositories:
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
        self.repositories = repositories
        self.register_outputs({"repositories": repositories})
