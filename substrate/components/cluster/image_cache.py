"""Platform chart images through the account's ECR registry (ECR pull-through cache).

The pinned charts pull from public registries (Amazon ECR Public, registry.k8s.io, Quay, GitHub
Container Registry, Docker Hub). Those are not among the stack's allowed registries (R28), pulls
from them bypass ECR's scanning, and they need a route to the internet. Amazon ECR caches all
five (Amazon ECR User Guide, "Sync an upstream registry with an Amazon ECR private registry":
"Amazon ECR Public, Kubernetes container image registry, and Quay (doesn't require
authentication)"; "Docker Hub, ..., GitHub Container Registry, ... (requires authentication with
AWS Secrets Manager secret)"). So this component creates one pull-through cache rule per
upstream, under a per-environment prefix (two stacks of one account and Region must not share a
rule), and the charts' images are rewritten to
``<account>.dkr.ecr.<region>.amazonaws.com/<environment>/<upstream>/<repository>``, tags and
digests unchanged. The two upstreams that need credentials are cached only when the stack names
their Secrets Manager secret (``substrate:admission.pullThroughCredentials``); ECR reads it with
its pull-through service-linked role, whose policy admits only secrets named
``ecr-pullthroughcache/...`` in the registry's own account.

Kyverno's default registry, reg.kyverno.io, is not one ECR can cache; Kyverno's release workflow
publishes every image of a release to ghcr.io/kyverno with the release tag, so the chart's
registry is pointed at the GHCR cache instead.

The cache repositories are created with the rules
(substrate.components.cluster.pull_through_cache), so a pull
needs only ``ecr:BatchImportUpstreamImage`` beyond an ordinary pull, which
AmazonEC2ContainerRegistryPullOnly grants the node roles.

Pure Python (stack-file checks use it); the resources are
substrate.components.cluster.pull_through_cache.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Upstream:
    """An upstream registry ECR can cache (CreatePullThroughCacheRule)."""

    url: str
    """`upstreamRegistryUrl` as ECR spells it."""
    short: str
    """Last segment of the cache prefix."""
    credentials: bool = False
    """The rule needs a Secrets Manager secret (`credentialArn`)."""


UPSTREAMS: Mapping[str, Upstream] = {
    "public.ecr.aws": Upstream("public.ecr.aws", "ecr-public"),
    "registry.k8s.io": Upstream("registry.k8s.io", "k8s"),
    "quay.io": Upstream("quay.io", "quay"),
    "ghcr.io": Upstream("ghcr.io", "ghcr", credentials=True),
    # Images name Docker Hub as docker.io; ECR's upstream URL for it is registry-1.docker.io.
    "docker.io": Upstream("registry-1.docker.io", "docker-hub", credentials=True),
}
"""Registry host as images name it -> the upstream ECR caches for it."""
CREDENTIALED: tuple[str, ...] = tuple(h for h, u in UPSTREAMS.items() if u.credentials)
MAX_PREFIX = 30
"""Longest ECR repository prefix of a pull-through cache rule (AWS::ECR::PullThroughCacheRule,
EcrRepositoryPrefix: maximum 30)."""
SECRET_PREFIX = "ecr-pullthroughcache/"
"""Name prefix of the secrets a rule may use (AWS::ECR::PullThroughCacheRule, CredentialArn
pattern; the pull-through service-linked role reads only these)."""


@dataclass(frozen=True)
class ChartImage:
    """One image of a chart and the values key that names its registry or repository."""

    key: tuple[str, ...]
    """Values path of the key to set."""
    upstream: str
    """The image's repository upstream, ``<host>/<path>``."""
    kind: Literal["repository", "registry"] = "repository"
    """`repository`: the key holds ``<host>/<path>``; `registry`: it holds the host only."""

    @property
    def host(self) -> str:
        return self.upstream.partition("/")[0]


DOCKER_BASH = "public.ecr.aws/docker/library/bash"
"""Docker's official bash image on ECR Public: the SPIRE agent's init containers
(substrate.components.identity.spire pins its tag)."""


def _registry(*key: str, upstream: str) -> ChartImage:
    return ChartImage((*key, "registry"), upstream, "registry")


CHART_IMAGES: Mapping[str, tuple[ChartImage, ...]] = {
    "karpenter": (
        ChartImage(("controller", "image", "repository"), "public.ecr.aws/karpenter/controller"),
    ),
    "kueue": (
        ChartImage(
            ("controllerManager", "manager", "image", "repository"), "registry.k8s.io/kueue/kueue"
        ),
    ),
    "jobset": (ChartImage(("image", "repository"), "registry.k8s.io/jobset/jobset"),),
    "lws": (ChartImage(("image", "manager", "repository"), "registry.k8s.io/lws/lws"),),
    "kuberay-operator": (ChartImage(("image", "repository"), "quay.io/kuberay/operator"),),
    "aws-load-balancer-controller": (
        ChartImage(("image", "repository"), "public.ecr.aws/eks/aws-load-balancer-controller"),
    ),
    "keda": tuple(
        _registry("image", k, upstream=f"ghcr.io/kedacore/{r}")
        for k, r in (
            ("keda", "keda"),
            ("metricsApiServer", "keda-metrics-apiserver"),
            ("webhooks", "keda-admission-webhooks"),
        )
    ),
    "kyverno": tuple(
        _registry(*k, "image", upstream=f"ghcr.io/kyverno/{r}")
        for k, r in (
            (("crds", "migration"), "kyverno-cli"),
            (("test",), "readiness-checker"),
            (("webhooksCleanup",), "readiness-checker"),
            (("admissionController", "initContainer"), "kyvernopre"),
            (("admissionController", "container"), "kyverno"),
            (("backgroundController",), "background-controller"),
            (("cleanupController",), "cleanup-controller"),
            (("reportsController",), "reports-controller"),
        )
    ),
    "spark-operator": (
        _registry("image", upstream="ghcr.io/kubeflow/spark-operator/controller"),
        _registry("hook", "image", upstream="ghcr.io/kubeflow/spark-operator/kubectl"),
    ),
    "spire": (
        _registry("spire-server", "image", upstream="ghcr.io/spiffe/spire-server"),
        _registry(
            "spire-server",
            "controllerManager",
            "image",
            upstream="ghcr.io/spiffe/spire-controller-manager",
        ),
        _registry("spire-server", "tools", "kubectl", "image", upstream="registry.k8s.io/kubectl"),
        _registry("spire-agent", "image", upstream="ghcr.io/spiffe/spire-agent"),
        # components.identity.spire points both init images at Docker's bash on ECR Public.
        _registry("spire-agent", "fsGroupFix", "image", upstream=DOCKER_BASH),
        _registry("spire-agent", "socketAlternate", "image", upstream=DOCKER_BASH),
        _registry("spiffe-csi-driver", "image", upstream="ghcr.io/spiffe/spiffe-csi-driver"),
        _registry(
            "spiffe-csi-driver",
            "nodeDriverRegistrar",
            "image",
            upstream="registry.k8s.io/sig-storage/csi-node-driver-registrar",
        ),
    ),
    "kube-prometheus-stack": (
        _registry(
            "alertmanager", "alertmanagerSpec", "image", upstream="quay.io/prometheus/alertmanager"
        ),
        _registry(
            "prometheus", "prometheusSpec", "image", upstream="quay.io/prometheus/prometheus"
        ),
        _registry(
            "prometheusOperator",
            "image",
            upstream="quay.io/prometheus-operator/prometheus-operator",
        ),
        # Not a container of the release: the operator adds it to every Prometheus pod.
        _registry(
            "prometheusOperator",
            "prometheusConfigReloader",
            "image",
            upstream="quay.io/prometheus-operator/prometheus-config-reloader",
        ),
        _registry(
            "prometheusOperator",
            "admissionWebhooks",
            "patch",
            "image",
            upstream="ghcr.io/jkroepke/kube-webhook-certgen",
        ),
        _registry("grafana", "image", upstream="docker.io/grafana/grafana"),
        _registry("grafana", "sidecar", "image", upstream="quay.io/kiwigrid/k8s-sidecar"),
        _registry(
            "kube-state-metrics",
            "image",
            upstream="registry.k8s.io/kube-state-metrics/kube-state-metrics",
        ),
    ),
}
"""Chart -> its images as the stacks render them, and the values keys that place them."""


@dataclass(frozen=True)
class CacheTarget:
    """Where a stack's platform images come from: its account registry's pull-through cache."""

    registry: str
    """``<account>.dkr.ecr.<region>.amazonaws.com``."""
    environment: str
    """First segment of every cache prefix."""
    credentials: Mapping[str, str] = field(default_factory=dict)
    """Upstream host -> ARN of the Secrets Manager secret its rule authenticates with."""

    @property
    def upstreams(self) -> tuple[str, ...]:
        """Hosts this stack caches: every credential-free upstream, and those with a secret."""
        return tuple(h for h, u in UPSTREAMS.items() if not u.credentials or h in self.credentials)


def account_registry(registries: Sequence[str], region: str) -> str | None:
    """The account's private ECR registry in ``region`` among ``registries`` (the stack's
    allowedRegistries), if listed."""
    pattern = re.compile(rf"^\d{{12}}\.dkr\.ecr\.{re.escape(region)}\.amazonaws\.com(\.cn)?$")
    return next((r for r in registries if pattern.match(r)), None)


def longest_environment() -> int:
    """The longest environment name whose cache prefixes fit ECR's limit."""
    return MAX_PREFIX - 1 - max(len(u.short) for u in UPSTREAMS.values())


def prefix(environment: str, upstream: str) -> str:
    """The cache rule's ECR repository prefix for ``upstream`` (a host) in ``environment``."""
    value = f"{environment}/{UPSTREAMS[upstream].short}"
    if len(value) > MAX_PREFIX:
        raise ValueError(
            f"ImageCacheArgs.environment: {environment!r} makes the prefix {value!r} longer than "
            f"{MAX_PREFIX} characters"
        )
    return value


def cache_repository(environment: str, repository: str) -> str:
    """The ECR repository that caches ``repository`` (``<upstream host>/<path>``)."""
    host, _, path = repository.partition("/")
    return f"{prefix(environment, host)}/{path}"


def cached(registry: str, environment: str, repository: str) -> str:
    """``repository`` (``<upstream host>/<path>``) as pulled through the cache in ``registry``."""
    return f"{registry}/{cache_repository(environment, repository)}"


def cached_images(chart: str, target: CacheTarget) -> tuple[ChartImage, ...]:
    """``chart``'s images whose upstream ``target`` caches."""
    return tuple(i for i in CHART_IMAGES.get(chart, ()) if i.host in target.upstreams)


def chart_values(chart: str, target: CacheTarget) -> dict[str, Any]:
    """Values that point ``chart``'s images at the cache (empty for charts not listed)."""
    out: dict[str, Any] = {}
    for image in cached_images(chart, target):
        node = out
        for key in image.key[:-1]:
            node = node.setdefault(key, {})
        if image.kind == "registry":
            node[image.key[-1]] = f"{target.registry}/{prefix(target.environment, image.host)}"
        else:
            node[image.key[-1]] = cached(target.registry, target.environment, image.upstream)
    return out


def repositories(target: CacheTarget) -> list[str]:
    """Every cache repository the charts' images need in ``target``, sorted."""
    return sorted(
        {
            cache_repository(target.environment, image.upstream)
            for chart in CHART_IMAGES
            for image in cached_images(chart, target)
        }
    )


def merged(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` merged in, mappings recursively (Helm's own value merge)."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


SECRET_ARN = re.compile(
    r"^arn:(?P<partition>aws|aws-cn|aws-us-gov):secretsmanager:(?P<region>[a-z0-9-]+):"
    r"(?P<account>\d{12}):secret:ecr-pullthroughcache/[a-zA-Z0-9/_+=.@-]+$"
)
"""A secret a pull-through cache rule accepts (AWS::ECR::PullThroughCacheRule, CredentialArn)."""


def credential_problem(arn: str, registry: str, region: str) -> str | None:
    """Why ``arn`` cannot authenticate a cache rule of ``registry`` (None: it can). ECR requires
    the secret in the rule's account and Region, named ``ecr-pullthroughcache/...``."""
    match = SECRET_ARN.match(arn)
    if match is None:
        return f"is not the ARN of a Secrets Manager secret named {SECRET_PREFIX}..."
    account = registry.partition(".")[0]
    if match["account"] != account or match["region"] != region:
        return (
            f"is in {match['account']}/{match['region']}; ECR reads a rule's secret only in the "
            f"registry's own account and Region ({account}/{region})"
        )
    return None
