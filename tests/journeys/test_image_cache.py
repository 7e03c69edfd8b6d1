"""Journeys: the system nodes pull the platform controllers' images through the account's ECR
pull-through cache (substrate.components.cluster.image_cache), as Helm renders them and the IAM
evaluator judges
every request of a first pull.

A first pull through a cache rule is the pull of substrate.engines.ecr_pulls plus
``ecr:BatchImportUpstreamImage``, and ``ecr:CreateRepository`` when the cache repository does
not exist yet (Amazon ECR User Guide, "IAM permissions required to sync an upstream registry
with an Amazon ECR private registry"); the plan creates the repositories, so nodes never need
the latter. The images name the account's registry
of the stack file (allowedRegistries); the plan's resources live in the plan's mock account,
which stands for it, so requests are judged on the same repository in that account.
"""

from __future__ import annotations

import pytest

from substrate.components.cluster.image_cache import CHART_IMAGES
from substrate.engines import aws_managed, ecr_pulls
from substrate.engines.ecr_pulls import Image, Step
from substrate.engines.iam import Decision, Policies, Principal, Request, evaluate
from substrate.layers.foundation import account_registry
from tests.conftest import planned
from tests.helm.rendered import chart_releases
from tests.helm.test_rendered_images import images
from tests.helpers import STACKS
from tests.journeys.image_pulls import pulls
from tests.journeys.journey import journey

CACHE = "docs/deploy.md#platform-images-through-the-ecr-pull-through-cache"


def _cached_images(stack: str) -> dict[str, set[str]]:
    """Chart -> every image its release runs in ``stack``, as Helm renders it."""
    out: dict[str, set[str]] = {}
    for chart in CHART_IMAGES:
        for render, release in chart_releases(chart):
            if render.stack != stack:
                continue
            for obj in render.installed(release):
                out.setdefault(chart, set()).update(images(obj))
    return out


def _first_pull(image: Image, partition: str) -> tuple[Step, ...]:
    repository = image.repository_arn(partition)
    return (
        *ecr_pulls.pull(image, partition),
        # Authorized on the registry pull itself (the ecr.dkr endpoint).
        Step("ecr.dkr", "ecr:BatchImportUpstreamImage", repository, True),
    )


@journey(
    user="the kubelet of a system node starting a platform chart's pods (Karpenter, Kueue, "
    "JobSet, LeaderWorkerSet, KubeRay, Kyverno, KEDA, SPIRE, the monitoring stack, the Spark "
    "Operator) for the first time",
    stack="dev, staging, prod",
    steps=[
        "Helm renders the chart: each of its images is in the account's registry under "
        "<environment>/<upstream>/, tag and digest unchanged",
        "the node pulls it through the ecr.api, ecr.dkr and S3 endpoints from the cache "
        "repository the plan created, importing the upstream image (ecr:BatchImportUpstreamImage)",
    ],
    outcome="every image is in the registry the stack allows, its cache repository exists, and "
    "every request of the first pull is allowed for the system node role",
    docs=[CACHE],
)
@pytest.mark.parametrize("stack", STACKS)
def test_system_nodes_pull_platform_images_through_the_cache(stack: str) -> None:
    s = pulls(stack)
    registry = account_registry(s.cfg)
    assert registry is not None
    images = _cached_images(stack)
    repositories = {
        str(r.inputs["name"])
        for r in planned(stack).records
        if r.type == "aws:ecr/repository:Repository"
    }
    assert {"karpenter", "kyverno", "spire", "kube-prometheus-stack"} <= set(images)
    assert set(images) <= set(CHART_IMAGES)
    node = s.node(s.node_roles["system node group"])
    refused = []
    for chart, references in sorted(images.items()):
        for reference in sorted(references):
            assert reference.startswith(f"{registry}/{s.cfg.environment.name}/"), reference
            image = Image.parse(reference)
            assert image.repository in repositories, image.repository
            in_plan = Image(s.plan.account, image.region, image.repository)
            for step in _first_pull(in_plan, s.partition):
                decision = s.decide(node, step)
                if not decision:
                    refused.append(f"{chart}: {step.action}: {decision.reason}")
    assert refused == []


@journey(
    user="a node (a system node, or a Karpenter node running tenant work)",
    stack="dev, staging, prod",
    steps=["the node creates an ECR repository, under the cache prefixes or elsewhere"],
    outcome="refused: node roles carry only the node and pull policies (R21); the cache "
    "repositories exist before any pull",
    docs=[CACHE],
)
@pytest.mark.parametrize("stack", STACKS)
def test_nodes_create_no_repositories(stack: str) -> None:
    s = pulls(stack)
    env = s.cfg.environment.name
    for kind, role in sorted(s.node_roles.items()):
        node = s.node(role)
        for repository in (f"{env}/k8s/kueue/kueue", "team/app"):
            image = Image(s.plan.account, s.plan.region, repository)
            arn = image.repository_arn(s.partition)
            decision = s.decide(node, Step("ecr.dkr", "ecr:CreateRepository", arn, True))
            assert not decision, f"{kind}: {repository}"


SERVICE_ROLE = (
    "arn:{partition}:iam::{account}:role/aws-service-role/pullthroughcache.ecr.amazonaws.com/"
    "AWSServiceRoleForECRPullThroughCache"
)


def _reads_secret(stack: str, secret: str) -> Decision:
    """ECR's pull-through service-linked role (its AWS managed policy) reading ``secret``."""
    s = pulls(stack)
    registry = account_registry(s.cfg)
    assert registry is not None
    account = registry.partition(".")[0]
    role = SERVICE_ROLE.format(partition=s.partition, account=account)
    policy = aws_managed.policies(s.partition)[
        aws_managed.arn(s.partition, "aws-service-role/AWSECRPullThroughCache_ServiceRolePolicy")
    ]
    who = Principal.role_session(role, "pullthroughcache")
    owner = secret.split(":")[4]
    # aws:ResourceAccount: the account that owns the secret (IAM User Guide, global keys).
    context = {"aws:ResourceAccount": owner}
    request = Request(who, "secretsmanager:GetSecretValue", secret, context, owner)
    return evaluate(request, Policies(identity=(policy,)))


@journey(
    user="Amazon ECR, caching a GitHub Container Registry or Docker Hub image on a node's "
    "first pull",
    stack="dev, staging, prod",
    steps=[
        "the plan's pull-through cache rule for the upstream names the stack's secret "
        "(substrate:admission.pullThroughCredentials)",
        "ECR's service-linked role AWSServiceRoleForECRPullThroughCache reads it "
        "(secretsmanager:GetSecretValue, AWSECRPullThroughCache_ServiceRolePolicy)",
    ],
    outcome="allowed for the stack's secrets (ecr-pullthroughcache/ names in the registry's "
    "account); refused for a secret of another name or another account",
    docs=[CACHE],
)
@pytest.mark.parametrize("stack", STACKS)
def test_ecr_reads_the_upstream_credentials(stack: str) -> None:
    rules = [
        r
        for r in planned(stack).records
        if r.type == "aws:ecr/pullThroughCacheRule:PullThroughCacheRule"
        and r.inputs.get("credentialArn")
    ]
    upstreams = sorted(str(r.inputs["upstreamRegistryUrl"]) for r in rules)
    assert upstreams == ["ghcr.io", "registry-1.docker.io"]
    for rule in rules:
        secret = str(rule.inputs["credentialArn"])
        assert _reads_secret(stack, secret), secret
        fields = secret.split(":")
        elsewhere = ":".join([*fields[:4], "999999999999", *fields[5:]])
        assert not _reads_secret(stack, elsewhere)
        renamed = secret.replace("ecr-pullthroughcache/", "ci/")
        assert not _reads_secret(stack, renamed)
