"""Journeys: an agent counts tokens (bedrock:CountTokens) as its role and the bedrock-runtime
endpoint policy grant it, judged by the IAM evaluator with the calls
``substrate.engines.bedrock_calls`` builds. The policies are built by the functions the plan
uses (``agent_policy``, ``runtime_endpoint_policy``).

Dev's catalog holds no model whose tokens bedrock-runtime counts (Claude Sonnet 4.5 counts on
bedrock-mantle; Nova and Titan not at all); staging's and prod's Claude Sonnet 4.6 counts (their
agents' counting is in test_bedrock_access). This catalog has both kinds, behind a
foundation-model entry and a geographic profile, with a guardrail."""

from __future__ import annotations

import pytest

from substrate.components.bedrock import bedrock_capabilities
from substrate.components.bedrock.bedrock_models import ModelKind, ModelRef, resolve
from substrate.components.bedrock.bedrock_policies import (
    agent_policy,
    guardrail_grant,
    runtime_endpoint_policy,
)
from substrate.engines.bedrock_calls import Guardrail, call
from substrate.engines.iam import Kind, Policies, Policy, Principal, Request, evaluate
from tests.journeys.journey import journey

ACCOUNT = "123456789012"
REGION = "us-east-1"
CLUSTER = f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/substrate"
AGENT = Principal.role_session(
    f"arn:aws:iam::{ACCOUNT}:role/agent-support-bedrock-identity-role-1a2b3c4",
    "eks-substrate-support-0",
    role_tags={"substrate.io/bedrock-agent": "true"},
    session_tags={"eks-cluster-arn": CLUSTER},
)
GUARDRAIL = Guardrail("guard01", "2")
SONNET_V2 = ModelRef(
    "sonnet-v2", ModelKind.FOUNDATION_MODEL, "anthropic.claude-3-5-sonnet-20241022-v2:0"
)
SONNET_37 = ModelRef(
    "sonnet-37", ModelKind.INFERENCE_PROFILE, "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
)
SONNET_45 = ModelRef(
    "sonnet-45", ModelKind.INFERENCE_PROFILE, "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
)
TITAN = ModelRef("titan", ModelKind.FOUNDATION_MODEL, "amazon.titan-embed-text-v2:0")
HAIKU = ModelRef("haiku", ModelKind.FOUNDATION_MODEL, "anthropic.claude-3-5-haiku-20241022-v1:0")
GRANTED = (SONNET_V2, SONNET_37, SONNET_45, TITAN)
CALLING = "docs/agents.md#what-an-agent-may-call"
USER = "an agent granted Claude 3.5 Sonnet v2, Claude 3.7 Sonnet (us. profile), Claude Sonnet 4.5"
USER += " (us. profile) and Titan Text Embeddings V2, with a guardrail"
STACK = "a us-east-1 catalog (dev grants no model bedrock-runtime counts)"


def _policies() -> Policies:
    models = [resolve(m, "aws", REGION, ACCOUNT) for m in GRANTED]
    grant = guardrail_grant("aws", REGION, ACCOUNT, GUARDRAIL.id, GUARDRAIL.version)
    role = Policy.parse("role", Kind.IDENTITY, agent_policy(models, REGION, grant))
    endpoint = Policy.parse(
        "endpoint", Kind.ENDPOINT, runtime_endpoint_policy(models, ACCOUNT, CLUSTER, grant)
    )
    return Policies(identity=[role], endpoint=endpoint)


def _allowed(operation: str, model: ModelRef, guardrail: Guardrail | None = None) -> bool:
    made = call(
        operation, model, partition="aws", region=REGION, account=ACCOUNT, guardrail=guardrail
    )
    policies = _policies()
    return all(
        evaluate(Request(AGENT, a.action, a.resource, a.context), policies)
        for a in made.authorizations
    )


@journey(
    user=USER,
    stack=STACK,
    steps=["the agent calls CountTokens on each granted model that supports it, no guardrail"],
    outcome="allowed by role and endpoint; invoking the same model still needs the guardrail",
    docs=[CALLING],
)
@pytest.mark.parametrize("model", [SONNET_V2, SONNET_37], ids=lambda m: m.name)
def test_an_agent_counts_the_tokens_of_granted_models_that_support_it(model: ModelRef) -> None:
    """No guardrail on the count (none applies), the model named in the stack's Region; the
    same agent still invokes the model only with the guardrail."""
    assert "CountTokens" in bedrock_capabilities.of(model.foundation_model_id).operations
    assert _allowed("CountTokens", model)
    assert _allowed("Converse", model, GUARDRAIL)
    assert not _allowed("Converse", model)


@journey(
    user=USER,
    stack=STACK,
    steps=[
        "the agent calls CountTokens on granted models bedrock-runtime does not count",
        "and on Claude 3.5 Haiku, which counts but is not granted",
    ],
    outcome="all denied",
    docs=[CALLING],
)
@pytest.mark.parametrize("model", [SONNET_45, TITAN, HAIKU], ids=lambda m: m.name)
def test_counting_is_refused_where_bedrock_runtime_cannot_count_or_nothing_granted(
    model: ModelRef,
) -> None:
    """Sonnet 4.5 and Titan are granted but bedrock-runtime does not count their tokens; Claude
    3.5 Haiku counts but is not granted."""
    assert not _allowed("CountTokens", model)


@journey(
    user=USER,
    stack=STACK,
    steps=["the agent invokes Claude 3.7 Sonnet's foundation model directly, around the profile"],
    outcome="denied: the CountTokens grant on that model ARN allows no invocation",
    docs=[CALLING],
)
def test_the_count_grant_opens_no_call_around_the_profile() -> None:
    """CountTokens names Claude 3.7 Sonnet's foundation model in the stack's Region; invoking
    that model directly, around the us. profile, stays refused."""
    direct = ModelRef("around", ModelKind.FOUNDATION_MODEL, SONNET_37.foundation_model_id)
    assert not _allowed("Converse", direct, GUARDRAIL)
    assert not _allowed("InvokeModel", direct, GUARDRAIL)
