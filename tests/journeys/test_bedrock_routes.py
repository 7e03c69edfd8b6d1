"""Journeys: profile routing and the catalog's current models. AWS's deploy-time answer
(GetInferenceProfile, read by the Bedrock layer) decides the destinations an agent's role grants;
the shipped table is only the offline fallback. Judged by the IAM evaluator on the policy the
plan builds (``agent_policy``) and the calls an SDK sends; the config check is the one a stack
file goes through."""

from __future__ import annotations

import pulumi_aws as aws

from substrate.components.bedrock.bedrock_models import (
    ModelKind,
    ModelRef,
    check_model,
    destinations,
    resolve,
)
from substrate.components.bedrock.bedrock_policies import agent_policy
from substrate.engines.bedrock_calls import call
from substrate.engines.iam import Kind, Policies, Policy, Principal, Request, evaluate
from substrate.layers.bedrock import _regions  # pyright: ignore[reportPrivateUsage]
from tests.journeys.journey import journey

ACCOUNT = "123456789012"
REGION = "us-east-1"
SONNET = ModelRef("claude", ModelKind.INFERENCE_PROFILE, "us.anthropic.claude-sonnet-4-6")
CATALOG = "docs/agents.md#the-model-catalog"
AGENT = Principal.role_session(f"arn:aws:iam::{ACCOUNT}:role/agent", "eks-substrate-agent-0")


def _answer(profile: str, regions: list[str]) -> aws.bedrock.GetInferenceProfileResult:
    """What GetInferenceProfile answers in REGION: the model ARN in each destination."""
    model = profile.split(".", 1)[1]
    return aws.bedrock.GetInferenceProfileResult(
        inference_profile_id=profile,
        models=[
            aws.bedrock.outputs.GetInferenceProfileModelResult(
                model_arn=f"arn:aws:bedrock:{r}::foundation-model/{model}"
            )
            for r in regions
        ],
    )


def _allowed_in(routed: list[str] | None, destination: str) -> bool:
    policy = agent_policy([resolve(SONNET, "aws", REGION, ACCOUNT, routed)], REGION)
    policies = Policies(identity=[Policy.parse("role", Kind.IDENTITY, policy)])
    made = call(
        "Converse", SONNET, partition="aws", region=REGION, account=ACCOUNT, destination=destination
    )
    return all(
        evaluate(Request(AGENT, a.action, a.resource, a.context), policies)
        for a in made.authorizations
    )


@journey(
    user="an agent granted Claude Sonnet 4.6 through us.anthropic.claude-sonnet-4-6",
    stack="a us-east-1 catalog",
    steps=[
        "at deploy time AWS answers the profile's destinations (GetInferenceProfile)",
        "the agent's Converse call is routed to each Region AWS answered",
    ],
    outcome="allowed in every Region AWS answered, also one the shipped table lacks; refused in "
    "a Region AWS no longer answers; with no answer the table's three Regions are granted",
    docs=[CATALOG],
)
def test_the_role_grants_the_destinations_aws_answers_at_deploy_time() -> None:
    """The table (Sonnet 4.6's card, read 2026-12-02) routes us-east-1 to three Regions. If AWS
    answers a fourth at deploy time, the role built from that answer lets the agent's call land
    there; built from the table it would be refused; a Region AWS no longer lists is dropped."""
    table = list(destinations(SONNET.id, REGION) or ())
    assert table == ["us-east-1", "us-east-2", "us-west-2"]
    wider = _regions(_answer(SONNET.id, [*table, "us-west-1"]))
    assert wider == ["us-east-1", "us-east-2", "us-west-1", "us-west-2"]
    assert _allowed_in(wider, "us-west-1")
    assert not _allowed_in(None, "us-west-1")
    narrower = _regions(_answer(SONNET.id, ["us-east-1", "us-west-2"]))
    assert not _allowed_in(narrower, "us-east-2")
    assert all(_allowed_in(None, r) for r in table)


@journey(
    user="a platform engineer writing substrate:bedrock.models",
    stack="stacks in eu-west-2, ap-southeast-2 (config check)",
    steps=["name Claude Sonnet 4.6, then Claude Opus 4.8, by their bare foundation model ids"],
    outcome="Sonnet 4.6 accepted in eu-west-2 only; elsewhere refused, the error naming the "
    "profiles the Region may call; Opus 4.8 refused everywhere",
    docs=[CATALOG],
)
def test_a_current_claude_is_refused_as_a_bare_id_except_where_its_card_serves_it() -> None:
    """Claude Sonnet 4.6 is served on demand (bare id on bedrock-runtime) only in eu-west-2;
    elsewhere the error names the profiles the stack's Region may call instead."""
    bare = ModelRef("claude", ModelKind.FOUNDATION_MODEL, "anthropic.claude-sonnet-4-6")
    assert check_model(bare, "eu-west-2") is None
    problem = check_model(bare, "ap-southeast-2")
    assert problem is not None
    assert problem.allowed == (
        "inferenceProfile: au.anthropic.claude-sonnet-4-6 or global.anthropic.claude-sonnet-4-6"
    )
    opus = ModelRef("opus", ModelKind.FOUNDATION_MODEL, "anthropic.claude-opus-4-8")
    assert check_model(opus, "eu-west-2") is not None
