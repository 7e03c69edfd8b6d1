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

The cache repositories are created with the rules
(substrate.components.cluster.pull_through_cache), so a pull
needs only ``ecr:BatchImportUpstreamImage`` beyond an ordinary pull, which
AmazonEC2ContainerRegistryPullOnly grants the node roles.

Upstreams that require credentials (Docker Hub, GitHub Container Registry, Chainguard) and
registries ECR cannot cache (reg.kyverno.io) are not handled here.

Pure Python (stack-file checks use it); the resources are
substrate.components.cluster.pull_through_cache.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

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


def account_registry(registries: Sequence[str], region: str) -> str | None:
    """The account's private ECR registry in ``region`` among ``registries`` (the stack's
    allowedRegistries), if listed."""
    pattern = re.compile(rf"^\d{{12}}\.dkr\.ecr\.{re.escape(region)}\.amazonaws\.com(\.cn)?$")
    return next((r for r in registries if pattern.match(r)), None)


def longest_environment() -> int:
    """The longest environment name whose cache prefixes fit ECR's limit."""
    return MAX_PREFIX - 1 - max(len(v) for v in UPSTREAMS.values())


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
    return f"{registry}/{cache_repository(environment, repository)}"


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


def cache_repository(environment: str, repository: str) -> str:
    """The ECR repository that caches ``repository`` (``<upstream host>/<path>``)."""
    host, _, path = repository.partition("/")
    return f"{prefix(environment, host)}/{path}"
