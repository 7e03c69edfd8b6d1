"""The image cache: one pull-through cache rule per upstream per environment (GHCR and Docker Hub
with the stack's secret), and chart values pointing the charts' images at it."""

from __future__ import annotations

import pytest

from substrate.components.cluster.image_cache import (
    CacheTarget,
    cached,
    chart_values,
    merged,
    prefix,
)
from tests.conftest import planned
from tests.helpers import STACKS, Resources, config_error, stack_yaml

RULE = "aws:ecr/pullThroughCacheRule:PullThroughCacheRule"


@pytest.mark.parametrize("stack", STACKS)
def test_each_environment_caches_the_five_upstreams_under_its_own_prefix(stack: str) -> None:
    env = stack_yaml(stack)["substrate:environment"]["name"]
    secrets = stack_yaml(stack)["substrate:admission"]["pullThroughCredentials"]
    rules = Resources(planned(stack).records).of_type(RULE)
    assert sorted(
        (
            r.inputs["ecrRepositoryPrefix"],
            r.inputs["upstreamRegistryUrl"],
            r.inputs.get("credentialArn"),
        )
        for r in rules
    ) == [
        (f"{env}/docker-hub", "registry-1.docker.io", secrets["docker.io"]),
        (f"{env}/ecr-public", "public.ecr.aws", None),
        (f"{env}/ghcr", "ghcr.io", secrets["ghcr.io"]),
        (f"{env}/k8s", "registry.k8s.io", None),
        (f"{env}/quay", "quay.io", None),
    ]
    repositories = Resources(planned(stack).records).of_type("aws:ecr/repository:Repository")
    names = {r.inputs["name"] for r in repositories}
    assert {
        f"{env}/ecr-public/karpenter/controller",
        f"{env}/k8s/kueue/kueue",
        f"{env}/ghcr/kyverno/kyverno",
        f"{env}/docker-hub/grafana/grafana",
        f"{env}/ecr-public/docker/library/bash",
    } <= names
    assert all(r.inputs["imageScanningConfiguration"] == {"scanOnPush": True} for r in repositories)


def test_without_a_secret_an_upstream_is_not_cached() -> None:
    registry = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
    bare = CacheTarget(registry, "dev")
    assert bare.upstreams == ("public.ecr.aws", "registry.k8s.io", "quay.io")
    assert chart_values("keda", bare) == {}
    arn = "arn:aws:secretsmanager:us-west-2:123456789012:secret:ecr-pullthroughcache/g-AbCdEf"
    assert chart_values("keda", CacheTarget(registry, "dev", {"ghcr.io": arn}))["image"] == {
        key: {"registry": f"{registry}/dev/ghcr"}
        for key in ("keda", "metricsApiServer", "webhooks")
    }


@pytest.mark.parametrize(
    ("arn", "problem"),
    [
        ("arn:aws:secretsmanager:us-west-2:123456789012:secret:github-AbCdEf", "is not the ARN"),
        (
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/g-AbCdEf",
            "is in 123456789012/us-east-1; ECR reads a rule's secret only in the registry's own "
            "account and Region (123456789012/us-west-2)",
        ),
        (
            "arn:aws:secretsmanager:us-west-2:999999999999:secret:ecr-pullthroughcache/g-AbCdEf",
            "is in 999999999999/us-west-2",
        ),
    ],
)
def test_a_secret_ecr_cannot_use_is_refused(arn: str, problem: str) -> None:
    message = config_error(
        "dev",
        lambda c: c["substrate:admission"]["pullThroughCredentials"].update({"ghcr.io": arn}),
    )
    assert message.startswith(f'substrate:admission.pullThroughCredentials.ghcr.io = "{arn}": ')
    assert problem in message


def test_only_credentialed_upstreams_take_a_secret() -> None:
    arn = "arn:aws:secretsmanager:us-west-2:123456789012:secret:ecr-pullthroughcache/q-AbCdEf"
    message = config_error(
        "dev",
        lambda c: c["substrate:admission"]["pullThroughCredentials"].update({"quay.io": arn}),
    )
    assert "lists 'quay.io', an upstream that needs no credentials" in message


def test_images_keep_their_path_under_the_cache_prefix() -> None:
    registry = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
    assert cached(registry, "dev", "public.ecr.aws/karpenter/controller") == (
        f"{registry}/dev/ecr-public/karpenter/controller"
    )
    values = merged(
        {"image": {"manager": {"tag": "v0.10.0"}}, "replicaCount": 2},
        chart_values("lws", CacheTarget(registry, "dev")),
    )
    assert values == {
        "image": {"manager": {"tag": "v0.10.0", "repository": f"{registry}/dev/k8s/lws/lws"}},
        "replicaCount": 2,
    }
    assert chart_values("nvidia-device-plugin", CacheTarget(registry, "dev")) == {}


def test_a_prefix_over_ecrs_limit_is_refused() -> None:
    assert prefix("a" * 19, "public.ecr.aws") == "a" * 19 + "/ecr-public"
    with pytest.raises(ValueError, match="longer than 30 characters"):
        prefix("a" * 20, "public.ecr.aws")


def test_an_environment_name_too_long_for_the_cache_prefixes_is_refused() -> None:
    name = "analytics-sandbox-20"
    message = config_error("dev", lambda c: c["substrate:environment"].update(name=name))
    assert message == (
        f'substrate:environment.name = "{name}": is too long for the ECR pull-through cache '
        f'prefixes of the platform images ("{name}/ecr-public" exceeds ECR\'s 30 characters) '
        "(allowed: at most 19 characters)"
    )
