"""The image cache: one pull-through cache rule per credential-free upstream per environment,
and chart values pointing the controllers' images at it."""

from __future__ import annotations

import pytest

from substrate.components.cluster.image_cache import cached, chart_values, merged, prefix
from tests.conftest import planned
from tests.helpers import STACKS, Resources, config_error, stack_yaml

RULE = "aws:ecr/pullThroughCacheRule:PullThroughCacheRule"


@pytest.mark.parametrize("stack", STACKS)
def test_each_environment_caches_the_three_upstreams_under_its_own_prefix(stack: str) -> None:
    env = stack_yaml(stack)["substrate:environment"]["name"]
    rules = Resources(planned(stack).records).of_type(RULE)
    assert sorted(
        (r.inputs["ecrRepositoryPrefix"], r.inputs["upstreamRegistryUrl"]) for r in rules
    ) == [
        (f"{env}/ecr-public", "public.ecr.aws"),
        (f"{env}/k8s", "registry.k8s.io"),
        (f"{env}/quay", "quay.io"),
    ]
    assert all("credentialArn" not in r.inputs for r in rules)
    repositories = Resources(planned(stack).records).of_type("aws:ecr/repository:Repository")
    assert sorted(r.inputs["name"] for r in repositories) == [
        f"{env}/ecr-public/karpenter/controller",
        f"{env}/k8s/jobset/jobset",
        f"{env}/k8s/kueue/kueue",
        f"{env}/k8s/lws/lws",
        f"{env}/quay/kuberay/operator",
    ]
    assert all(r.inputs["imageScanningConfiguration"] == {"scanOnPush": True} for r in repositories)


def test_images_keep_their_path_under_the_cache_prefix() -> None:
    registry = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
    assert cached(registry, "dev", "public.ecr.aws/karpenter/controller") == (
        f"{registry}/dev/ecr-public/karpenter/controller"
    )
    values = merged(
        {"image": {"manager": {"tag": "v0.10.0"}}, "replicaCount": 2},
        chart_values("lws", registry, "dev"),
    )
    assert values == {
        "image": {"manager": {"tag": "v0.10.0", "repository": f"{registry}/dev/k8s/lws/lws"}},
        "replicaCount": 2,
    }
    assert chart_values("kyverno", registry, "dev") == {}


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
