"""The inference profile routing table and ARN resolution."""

from __future__ import annotations

import pytest

from substrate.components.bedrock import bedrock_capabilities
from substrate.components.bedrock.bedrock_models import (
    COMMERCIAL,
    ModelKind,
    ModelRef,
    destinations,
    partition_of,
    profile_table,
    resolve,
)


def test_documented_example_routes_differ_by_source_region() -> None:
    # User Guide: us.anthropic.claude-3-haiku-20240307-v1:0 from us-east-2 routes to three
    # Regions, from us-west-2 only to us-east-1 and us-west-2.
    haiku = "us.anthropic.claude-3-haiku-20240307-v1:0"
    assert destinations(haiku, "us-east-2") == ("us-east-1", "us-east-2", "us-west-2")
    assert destinations(haiku, "us-west-2") == ("us-east-1", "us-west-2")
    assert destinations(haiku, "eu-west-1") is None


@pytest.mark.parametrize("profile", sorted(profile_table()))
def test_every_profile_routes_within_its_geography(profile: str) -> None:
    geo = profile.split(".", 1)[0]
    prefixes = {
        "us": ("us-", "ca-"),
        "us-gov": ("us-gov-",),
        "eu": ("eu-", "il-"),
        "apac": ("ap-", "me-"),
        "jp": ("ap-northeast-",),
        "au": ("ap-southeast-",),
        "ca": ("ca-",),
        "global": ("",),
    }[geo]
    for source, routed in profile_table()[profile].items():
        assert routed, f"{profile} from {source} routes nowhere"
        assert source.startswith(prefixes)
        if geo == "global":
            assert routed == (COMMERCIAL,)
        else:
            assert all(r.startswith(prefixes) for r in routed)
            assert partition_of(source) == ("aws-us-gov" if geo == "us-gov" else "aws")


def test_profile_resolves_to_profile_arn_and_models_in_source_and_destinations() -> None:
    ref = ModelRef(
        "c", ModelKind.INFERENCE_PROFILE, "us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0"
    )
    got = resolve(ref, "aws-us-gov", "us-gov-east-1", "123456789012")
    model = "anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert got.invoke_arn == (
        "arn:aws-us-gov:bedrock:us-gov-east-1:123456789012:inference-profile/" + ref.id
    )
    # Routes only to us-gov-west-1, but the source Region's model is authorized too.
    assert got.routed_model_arns == tuple(
        f"arn:aws-us-gov:bedrock:{r}::foundation-model/{model}"
        for r in ("us-gov-east-1", "us-gov-west-1")
    )
    assert got.direct_model_arns == () and got.global_model_arn is None


def test_foundation_model_resolves_to_the_stack_region_only() -> None:
    got = resolve(
        ModelRef("t", ModelKind.FOUNDATION_MODEL, "amazon.titan-embed-text-v2:0"),
        "aws",
        "us-west-2",
        "1",
    )
    assert got.all_arns == (
        "arn:aws:bedrock:us-west-2::foundation-model/amazon.titan-embed-text-v2:0",
    )


@pytest.mark.parametrize("profile", sorted(profile_table()))
def test_every_routed_model_has_recorded_capabilities(profile: str) -> None:
    """A profile the routing table accepts is usable: its model's capabilities are known, so
    the role can grant exactly what the model supports."""
    assert bedrock_capabilities.table().get(profile.split(".", 1)[1]) is not None


def test_embedding_models_answer_invoke_model_only_and_refuse_guardrails() -> None:
    for model in ("amazon.titan-embed-text-v2:0", "cohere.embed-v4:0"):
        caps = bedrock_capabilities.of(model)
        assert caps.operations == ("InvokeModel",)
        assert caps.actions == ("bedrock:InvokeModel",)
        assert not caps.guardrails
    claude = bedrock_capabilities.of("anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert claude.operations == (
        "InvokeModel",
        "InvokeModelWithResponseStream",
        "Converse",
        "ConverseStream",
    )
    assert claude.guardrails and claude.on_demand is False


def test_guardrail_profiles_route_within_their_geography() -> None:
    for profile, routes in bedrock_capabilities.guardrail_profiles().items():
        geo = profile.split(".", 1)[0]
        for source, destinations_ in routes.items():
            assert source in destinations_, (profile, source)
            assert all(d.startswith(f"{geo}-") for d in destinations_), profile
