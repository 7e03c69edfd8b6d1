"""Journeys: an agent with `applicationProfiles` calls Bedrock through its own application
inference profiles, and the IAM evaluator decides each request.

The agent sends what its pods are told (`SUBSTRATE_BEDROCK_MODELS`: the ARN of its profile per
model); the call is authorized on that ARN in the stack's Region and on the foundation model in
the Region Bedrock routes it to, with `bedrock:InferenceProfileArn` naming the profile
(`substrate.engines.bedrock_calls`). Role and endpoint policies come from the stack's plan.
"""

from __future__ import annotations

import pytest

from substrate.components.bedrock.bedrock_models import ModelKind, ModelRef
from substrate.engines import bedrock_calls
from substrate.layers.bedrock import profiled
from tests.conftest import planned
from tests.helpers import STACKS, stack_yaml
from tests.journeys.bedrock_access import StackAccess, access, allowed, first_denial
from tests.journeys.journey import journey

COST = "docs/agents.md#cost-per-agent-application-inference-profiles"
PROFILE_TYPE = "aws:bedrock/inferenceProfile:InferenceProfile"


def _with_profiles(stack: str) -> list[str]:
    agents = stack_yaml(stack).get("substrate:agents", {})
    return sorted(n for n, a in agents.items() if a.get("applicationProfiles"))


PROFILED = [s for s in STACKS if _with_profiles(s)]


def _profiled(s: StackAccess) -> list[str]:
    return [a for a in s.agents() if s.cfg.agents[a].application_profiles]


def _models(s: StackAccess, agent: str) -> list[ModelRef]:
    """The agent's models it calls through its own profiles (under a guardrail, the models that
    support one: `substrate.layers.bedrock.profiled`)."""
    return [s.catalog[n] for n in profiled(s.cfg, s.catalog, agent)]


def test_some_stack_gives_an_agent_application_profiles() -> None:
    assert PROFILED, "no stack opts an agent into applicationProfiles: the journeys prove nothing"


@journey(
    user="an agent with applicationProfiles (its pod, through the bedrock-runtime endpoint)",
    stack="staging, prod",
    steps=[
        "the agent reads the ARN of its application inference profile for each granted model "
        "from SUBSTRATE_BEDROCK_MODELS",
        "it calls each with every operation the model supports, with the stack's guardrail "
        "exactly when the model supports guardrails",
        "Bedrock routes each call to every Region of the profile it was copied from",
    ],
    outcome="every authorization (the application profile, the foundation model in each "
    "destination Region through it, ApplyGuardrail) is allowed by the role and the endpoint",
    docs=[COST],
)
@pytest.mark.parametrize("stack", PROFILED)
def test_an_agent_calls_its_models_through_its_application_profiles(stack: str) -> None:
    s = access(stack)
    denied, calls = [], 0
    for agent in _profiled(s):
        for model in _models(s, agent):
            app = s.application_profile(agent, model)
            assert app is not None, f"{agent} is not told a profile for {model.name}"
            guardrail = s.sdk_guardrail(model)
            for operation in bedrock_calls.operations(model):
                if operation == "CountTokens":
                    continue
                for region in bedrock_calls.routes(model, s.plan.region):
                    call = s.call(
                        operation, model, destination=region, guardrail=guardrail, agent=agent
                    )
                    assert call.authorizations[0].resource == app
                    calls += 1
                    refusal = first_denial(s.decide(s.pod(agent), call))
                    if refusal is not None:
                        denied.append(f"{agent} {operation} {model.name} -> {region}: {refusal}")
    assert calls > 0
    assert denied == []


@journey(
    user="an agent with applicationProfiles",
    stack="staging, prod",
    steps=[
        "the agent calls a granted model by the catalog's system-defined profile id or "
        "foundation model id instead of its application profile",
        "it calls the foundation model directly, around every profile",
    ],
    outcome="both are denied by its role (the foundation model is granted only with "
    "bedrock:InferenceProfileArn equal to its own application profile): none of its spend "
    "escapes the profile tagged with its name",
    docs=[COST],
)
@pytest.mark.parametrize("stack", PROFILED)
def test_calls_around_the_agents_application_profile_are_denied(stack: str) -> None:
    s = access(stack)
    let_through, tried = [], 0
    for agent in _profiled(s):
        for model in _models(s, agent):
            direct = ModelRef(model.name, ModelKind.FOUNDATION_MODEL, model.foundation_model_id)
            for target in {model, direct}:
                call = s.call("InvokeModel", target, guardrail=s.sdk_guardrail(target))
                tried += 1
                by_role = first_denial(s.decide(s.pod(agent), call, through_endpoint=False))
                if by_role is None:
                    let_through.append(f"{agent}: {target.kind} {target.id}")
    assert tried > 0
    assert let_through == []


@journey(
    user="another agent of the same tenant",
    stack="staging, prod",
    steps=[
        "an agent learns another agent's application profile ARN (it is no secret: the "
        "other agent's pods carry it in their environment)",
        "it calls a model it was granted too, through that profile",
    ],
    outcome="denied by its role: an agent may invoke only its own profiles, so another "
    "agent's cost line cannot be charged by it",
    docs=[COST],
)
@pytest.mark.parametrize("stack", PROFILED)
def test_an_agent_cannot_call_through_another_agents_profile(stack: str) -> None:
    s = access(stack)
    tried = 0
    for owner in _profiled(s):
        for other in s.agents():
            if other == owner:
                continue
            shared = set(s.cfg.agents[owner].models) & set(s.cfg.agents[other].models)
            for name in sorted(shared):
                model = s.catalog[name]
                theirs = s.application_profile(owner, model)
                assert theirs is not None
                call = bedrock_calls.call(
                    "Converse",
                    model,
                    partition=s.partition,
                    region=s.plan.region,
                    account=s.plan.account,
                    guardrail=s.sdk_guardrail(model),
                    application_profile=theirs,
                )
                tried += 1
                # The endpoint admits every application profile of the account: the role is
                # what refuses.
                decisions = s.decide(s.pod(other), call)
                assert not allowed(decisions), f"{other} called through {owner}'s profile"
                refusal = first_denial(decisions)
                assert refusal is not None
                assert refusal.reason.startswith("because no identity-based policy allows")
    assert tried > 0, "no other agent shares a model with an agent that has profiles"


@journey(
    user="the platform team reading the bill",
    stack="staging, prod",
    steps=[
        "the stack is planned",
        "each agent with applicationProfiles gets one aws.bedrock.InferenceProfile per model",
    ],
    outcome="each profile copies the catalog's system-defined profile (or foundation model) in "
    "the stack's Region, is tagged with the agent, tenant and model, and its ARN is what the "
    "agent is told and what its role grants",
    docs=[COST],
)
@pytest.mark.parametrize("stack", PROFILED)
def test_each_profile_copies_the_catalog_model_and_names_agent_and_tenant(stack: str) -> None:
    s = access(stack)
    records = [r for r in planned(stack).records if r.type == PROFILE_TYPE]
    for agent in _profiled(s):
        tenant = s.cfg.agents[agent].tenant
        for model in _models(s, agent):
            (record,) = [
                r
                for r in records
                if r.inputs["tags"].get("substrate.io/agent") == agent
                and r.inputs["tags"].get("substrate.io/model") == model.name
            ]
            assert record.inputs["tags"]["substrate.io/tenant"] == tenant
            source = record.inputs["modelSource"]["copyFrom"]
            assert source.endswith(f"/{model.id}")
            kind = "inference-profile" if model.kind == "inference-profile" else "foundation-model"
            assert f":{s.plan.region}:" in source and f":{kind}/" in source
            arn = s.application_profile(agent, model)
            assert arn is not None
            role = s.plan.role(s.association(agent).role_arn)
            granted = {
                r
                for p in s.plan.identity_policies(role)
                for st in p.statements
                if st.effect == "Allow"
                for r in st.resources or ()
            }
            assert arn in granted
    others = {r.inputs["tags"].get("substrate.io/agent") for r in records}
    assert others == set(_profiled(s)), "a profile for an agent without applicationProfiles"
