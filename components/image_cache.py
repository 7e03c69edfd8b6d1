"""Platform chart images through the account's ECR registry (ECR pull-through cache).

The controllers of several pinned charts pull from public registries (Karpenter from Amazon ECR
Public, Kueue, JobSet and LeaderWorkerSet from registry.k8s.io, KubeRay from Quay). Those
registries are not among the stack's allowed registries (R28), pulls from them bypass ECR's
scanning, and they need a route to the internet. Amazon ECR caches images of these three
upstreams without credentials (Amazon ECR User Guide, "Sync an upstream registry with an Amazon
ECR private registry": "Amazon ECR Public, Kubernetes container image registry, and Quay (doesn't
require authentication)"), so this component creates one pull-through cache rule per upstream,
under a per-environment prefix (two stacks of one account and Region must not share a rule),
and the charts' image repositories are rewritten to
``<account>.dkr.ecr.<region>.amazonaws.com/<environment>/<upstream>/<repository>``, tags and
digests unchanged.

The first pull of an image creates its repository: the pulling principal needs
``ecr:BatchImportUpstreamImage`` (in AmazonEC2ContainerRegistryPullOnly) and
``ecr:CreateRepository`` ("IAM permissions required to sync an upstream registry with an Amazon
ECR private registry"). These controllers run on the system nodes only, so the system node role
gets ``ecr:CreateRepository`` on exactly the cache prefixes.

Upstreams that require credentials (Docker Hub, GitHub Container Registry, Chainguard) and
registries ECR cannot cache (reg.kyverno.io) are not handled here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Required, TypedDict

import pulumi
import pulumi_aws as aws

from components.aws_context import aws_context

UPSTREAMS: Mapping[str, str] = {
    "public.ecr.aws": "ecr-public",
    "registry.k8s.io": "k8s",
    "quay.io": "quay",
}
"""Upstream registry URL -> ECR's name for it (CreatePullThroughCacheRule `upstreamRegistry`),
also the last segment of the cache prefix."""
MAX_PREFIX = 30
"""Longest ECR repository prefix of a pull-through cache rule (AWS::ECR::PullThroughCacheRule,
EcrRepositoryPrefix: maximum 30)."""

CHART_IMAGES: Mapping[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    "karpenter": ((("controller", "image", "repository"), "public.ecr.aws/karpenter/controller"),),
    "kueue": (
        (("controllerManager", "manager", "image", "repository"), "registry.k8s.io/kueue/kueue"),
    ),
    "jobset": ((("image", "repository"), "registry.k8s.io/jobset/jobset"),),
    "lws": ((("image", "manager", "repository"), "registry.k8s.io/lws/lws"),),
    "kuberay-operator": ((("image", "repository"), "quay.io/kuberay/operator"),),
}
"""Chart -> (values path of an image repository, the chart's default repository)."""


def prefix(environment: str, upstream: str) -> str:
    """The cache rule's ECR repository prefix for ``upstream`` in ``environment``."""
    value = f"{environment}/{UPSTREAMS[upstream]}"
    if len(value) > MAX_PREFIX:
        raise ValueError(
            f"ImageCacheArgs.environment: {environment!r} makes the prefix {value!r} longer than "
            f"{MAX_PREFIX} characters"
        )
    return value


def cached(registry: str, environment: str, repository: str) -> str:
    """``repository`` (``<upstream host>/<path>``) as pulled through the cache in ``registry``."""
    host, _, path = repository.partition("/")
    return f"{registry}/{prefix(environment, host)}/{path}"


def chart_values(chart: str, registry: str, environment: str) -> dict[str, Any]:
    """Values that point ``chart``'s images at the cache (empty for charts not listed)."""
    out: dict[str, Any] = {}
    for path, repository in CHART_IMAGES.get(chart, ()):
        node = out
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = cached(registry, environment, repository)
    return out


def merged(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` merged in, mappings recursively (Helm's own value merge)."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def create_repository_policy(partition: str, region: str, account: str, environment: str) -> str:
    """ecr:CreateRepository on the cache prefixes of ``environment`` and nothing else."""
    resources = [
        f"arn:{partition}:ecr:{region}:{account}:repository/{prefix(environment, u)}/*"
        for u in sorted(UPSTREAMS)
    ]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "CreateCacheRepositoriesOnFirstPull",
                    "Effect": "Allow",
                    "Action": ["ecr:CreateRepository"],
                    "Resource": resources,
                }
            ],
        },
        sort_keys=True,
    )


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
