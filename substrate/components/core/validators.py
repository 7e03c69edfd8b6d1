"""Rules shared by stack-file validation, component argument checks and policy-pack policies.

Each function returns ``None`` when the value is acceptable, or a :class:`Problem` saying what is
wrong and what is allowed. Callers phrase it for their audience: the config layer as a one-line
stack-file error, components as a ``ValueError`` naming the input, policies as a violation.
Pure Python: no Pulumi import, so the policy pack can use it cheaply.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from substrate.components.capacity.karpenter_rules import (
    AMI_ALIAS_FAMILIES,
    alias_is_pinned,
    ami_alias,
    budget_duration,
    budget_nodes,
    cron,
    duration,
    maintenance_schedule,
)
from substrate.components.cluster.network_rules import (
    NOT_ON_THE_INTERNET,
    PRIVATE_RANGES,
    Problem,
    endpoint_service,
    ipv4_cidr,
    overlapping,
    private_source_cidr,
    public_access_cidr,
)
from substrate.components.core.versions import SUPPORTED_KUBERNETES_VERSIONS

__all__ = [
    "AMI_ALIAS_FAMILIES",
    "NOT_ON_THE_INTERNET",
    "PRIVATE_RANGES",
    "Problem",
    "alias_is_pinned",
    "ami_alias",
    "budget_duration",
    "budget_nodes",
    "cron",
    "duration",
    "endpoint_service",
    "ipv4_cidr",
    "maintenance_schedule",
    "overlapping",
    "private_source_cidr",
    "public_access_cidr",
]
"""Network and Karpenter rules live in substrate.components.cluster.network_rules and
substrate.components.capacity.karpenter_rules
(one place each) and are re-exported."""


CONTROL_PLANE_LOG_TYPES: tuple[str, ...] = (
    "api",
    "audit",
    "authenticator",
    "controllerManager",
    "scheduler",
)

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS: tuple[int, ...] = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

KARPENTER_DISCOVERY_TAG = "karpenter.sh/discovery"
CRITICAL_ADDONS_TAINT = {"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}
CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"

_IAM_PRINCIPAL = re.compile(
    r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:(role|user)(/[\w+=,.@-]+)*/[\w+=,.@-]{1,128}$"
)
_CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")


def partition_of(region: str) -> str:
    """The AWS partition a Region belongs to."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def kubernetes_version(
    version: str, supported: Sequence[str] = SUPPORTED_KUBERNETES_VERSIONS
) -> Problem | None:
    if version in supported:
        return None
    return Problem(
        "is not a Kubernetes version Amazon EKS offers in standard support",
        ", ".join(f'"{v}"' for v in supported),
    )


def iam_principal_arn(arn: str) -> Problem | None:
    if _IAM_PRINCIPAL.match(arn):
        return None
    return Problem(
        "is not an IAM role or user ARN",
        'an ARN such as "arn:aws:iam::123456789012:role/platform-admin"',
    )


def access_entry_suffix(arn: str) -> str:
    """The resource-name suffix of a cluster admin's access entry: the principal's path and name
    (what follows `role/` or `user/`), lowercased, other characters as `-`, at most 40."""
    tail = arn.split(":", 5)[-1].split("/", 1)[-1]
    return re.sub(r"[^a-z0-9-]+", "-", tail.lower()).strip("-")[:40]


def colliding(names: Sequence[str]) -> tuple[int, int] | None:
    """The first pair of indexes (earlier, later) whose names are equal, or None."""
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            return seen[name], i
        seen[name] = i
    return None


def cluster_name(name: str) -> Problem | None:
    if _CLUSTER_NAME.match(name):
        return None
    return Problem(
        "is not a valid EKS cluster name",
        "1-100 letters, digits, '-' or '_', starting with a letter or digit",
    )


def dns_label(name: str, max_length: int = 63) -> Problem | None:
    if _DNS_LABEL.match(name) and len(name) <= max_length:
        return None
    return Problem(
        "is not a DNS label", f"lowercase letters, digits and '-', at most {max_length} characters"
    )


def region(name: str) -> Problem | None:
    if _REGION.match(name):
        return None
    return Problem("is not an AWS Region name", 'a Region such as "us-west-2"')


def availability_zone(zone: str, region_name: str) -> Problem | None:
    if zone.startswith(region_name) and re.fullmatch(r"[a-z]", zone[len(region_name) :]):
        return None
    return Problem(
        f"is not an Availability Zone of {region_name}", f'zone names such as "{region_name}a"'
    )


def instance_type(name: str) -> Problem | None:
    if _INSTANCE_TYPE.match(name):
        return None
    return Problem("is not an EC2 instance type name", 'a type such as "m7i.large"')


def log_retention_days(days: int) -> Problem | None:
    if days in LOG_RETENTION_DAYS:
        return None
    return Problem(
        "is not a retention period CloudWatch Logs accepts",
        ", ".join(str(d) for d in LOG_RETENTION_DAYS),
    )


def missing_log_types(enabled: Iterable[str]) -> list[str]:
    """Control-plane log types (R1) absent from ``enabled``."""
    have = set(enabled)
    return [t for t in CONTROL_PLANE_LOG_TYPES if t not in have]


def is_customer_kms_key_arn(arn: object) -> bool:
    """True for a KMS key ARN (R4/R13 want a customer managed key, never an alias or default)."""
    return isinstance(arn, str) and bool(
        re.fullmatch(r"arn:aws(-cn|-us-gov)?:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+", arn)
    )


_IMAGE_REGISTRY = re.compile(
    r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?(/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*$"
)


SHARED_REGISTRIES = (
    "public.ecr.aws",
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "ghcr.io",
    "quay.io",
    "gcr.io",
    "nvcr.io",
    "registry.gitlab.com",
)
"""Public registries anyone can publish to: allowing one whole allows every image on it, so an
allowed prefix there must name a repository namespace (`public.ecr.aws/karpenter`)."""


def image_registry(prefix: str) -> Problem | None:
    """An allowed-image prefix: registry host (optionally with port) and optional repository
    path, without scheme, tag, digest or trailing slash (admission policies append '/'); a
    shared public registry only with a repository namespace."""
    if prefix in SHARED_REGISTRIES:
        return Problem(
            "is a public registry anyone can publish to: allowing it allows every image on it",
            f'a repository namespace on it, such as "{prefix}/<namespace>"',
        )
    if _IMAGE_REGISTRY.match(prefix) and "." in prefix.split("/", 1)[0]:
        return None
    return Problem(
        "is not a registry host or repository prefix",
        'a prefix such as "123456789012.dkr.ecr.us-east-1.amazonaws.com" or '
        '"public.ecr.aws/karpenter" (no scheme, tag or trailing slash)',
    )


IMAGE_TAG_PATTERN = r":[^/]+$"
"""An image reference ends in a tag (RE2 and Python `re` alike; the Kyverno policy uses it)."""
IMAGE_LATEST_PATTERN = r":latest($|@)"
"""An image reference uses the `latest` tag, alone or before a digest."""
_IMAGE_TAG = re.compile(IMAGE_TAG_PATTERN)
_IMAGE_LATEST = re.compile(IMAGE_LATEST_PATTERN)


def image_reference(image: str) -> Problem | None:
    """A fully qualified image with an explicit tag or digest, never `latest` (the rule the
    Kyverno `restrict-images` policy applies to every container, R28)."""
    allowed = '"<registry>/<repository>:<tag>" or "<registry>/<repository>@sha256:<digest>"'
    if not image or any(c.isspace() for c in image) or "/" not in image:
        return Problem("is not a fully qualified image reference", allowed)
    if "@" not in image and not _IMAGE_TAG.search(image):
        return Problem("has no tag or digest", allowed)
    if _IMAGE_LATEST.search(image):
        return Problem("uses the mutable latest tag", allowed + ", with a tag other than latest")
    return None


SQS_QUEUE_URL = re.compile(
    r"^https://sqs\.(?P<region>[a-z]{2}(-gov)?-[a-z]+-\d)\.amazonaws\.com(\.cn)?/"
    r"(?P<account>\d{12})/(?P<queue>[\w-]{1,80}(\.fifo)?)$"
)
"""An SQS queue URL, with the Region, account and queue name as groups."""


def sqs_queue_url(url: str) -> Problem | None:
    if SQS_QUEUE_URL.match(url):
        return None
    return Problem(
        "is not an SQS queue URL", '"https://sqs.<region>.amazonaws.com/<account>/<queue>"'
    )


def image_allowed(image: str, registries: Sequence[str]) -> bool:
    """Whether ``image`` starts with one of the allowed registry prefixes (as Kyverno checks)."""
    return any(image.startswith(prefix + "/") for prefix in registries)


# SPIFFE-ID spec §2.1: a trust domain name is lowercase letters, digits, '.', '-' and '_'
# (the ClusterFederatedTrustDomain CRD pattern is [a-z0-9._-]{1,255}).
_TRUST_DOMAIN = re.compile(r"^[a-z0-9._-]{1,255}$")
CHART_DEFAULT_TRUST_DOMAIN = "example.org"
"""The SPIRE chart's placeholder trust domain (global.spire.trustDomain); never deploy it."""


def spiffe_trust_domain(name: str) -> Problem | None:
    """A SPIFFE trust domain Substrate will deploy: valid syntax and not the chart placeholder."""
    if name == CHART_DEFAULT_TRUST_DOMAIN:
        return Problem(
            "is the SPIRE chart's placeholder trust domain",
            "a DNS-style name the platform owns, e.g. prod.substrate.internal",
        )
    if not _TRUST_DOMAIN.match(name) or name.strip(".") != name or ".." in name:
        return Problem(
            "is not a SPIFFE trust domain name",
            "1-255 lowercase letters, digits, '.', '-' or '_' (no scheme, port or path), "
            "e.g. prod.substrate.internal",
        )
    return None


_PROM_DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")


def prometheus_duration(text: str) -> Problem | None:
    """A Prometheus duration such as 30m or 1h30m (used in alert `for:` and range selectors)."""
    if _PROM_DURATION.match(text) and not re.fullmatch(r"(0+[a-z]+)+", text):
        return None
    return Problem("is not a Prometheus duration", 'a positive duration such as "30m" or "1h"')


_NUMBER = r"(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
_QUANTITY = re.compile(rf"^{_NUMBER}(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?{_NUMBER}))?$")


def quantity(value: str) -> Problem | None:
    if _QUANTITY.match(value):
        return None
    return Problem("is not a Kubernetes quantity", '"512Gi", "2Ti", "64"')


SMALLEST_MEMORY = 2**20
"""1Mi: no container, quota or volume is sized in bytes below this; a smaller size is a
forgotten unit."""


def memory_quantity(value: str) -> Problem | None:
    """A memory or storage size: 0 (none) or a quantity of at least 1Mi."""
    from substrate.components.workloads.tenancy import memory_bytes

    problem = quantity(value)
    if problem is not None:
        return Problem(problem.problem, '"512Mi", "64Gi", "2Ti"')
    if 0 < memory_bytes(value) < SMALLEST_MEMORY:
        return Problem(
            f"is {memory_bytes(value)} bytes, almost certainly a missing unit",
            f'a size with its unit, such as "{value}Mi" or "{value}Gi"',
        )
    return None
