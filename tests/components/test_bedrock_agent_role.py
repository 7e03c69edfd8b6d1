"""BedrockAgentRole: what the agent's pod may call, judged by the IAM evaluator on the rendered
role: exactly the listed models (routed Regions through the profile only), guardrail enforced,
trust for this cluster's namespace and service account only."""

from __future__ import annotations

from typing import cast

import pytest

from substrate.components.agents.bedrock_agent_role import BedrockAgentRole, BedrockAgentRoleArgs
from substrate.components.bedrock.bedrock_models import ModelKind, ModelRef
from substrate.components.bedrock.bedrock_policies import AGENT_TAG
from substrate.engines.aws_plan import AwsPlan
from substrate.engines.bedrock_calls import Guardrail
from tests.engines.iam_helpers import assume, invoke, plan_of
from tests.helpers import Resources, run_program

CLAUDE = ModelRef(
    "claude", ModelKind.INFERENCE_PROFILE, "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
)
TITAN = ModelRef("titan", ModelKind.FOUNDATION_MODEL, "amazon.titan-embed-text-v2:0")
ACCOUNT = "123456789012"
CLUSTER_ARN = f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/substrate-prod"


def _agent(region: str = "us-east-1", **extra: object) -> Resources:
    args = {
        "cluster_name": "substrate-prod",
        "cluster_arn": CLUSTER_ARN,
        "namespace": "research",
        "service_account": "planner",
        "models": [CLAUDE, TITAN],
        "tags": {"owner": "platform-team"},
        **extra,
    }
    return Resources(
        run_program(
            lambda: BedrockAgentRole("planner", cast(BedrockAgentRoleArgs, args)), region=region
        )
    )


def _plan(res: Resources, region: str = "us-east-1") -> AwsPlan:
    return plan_of(res.records, region)


def _reasons(
    plan: AwsPlan,
    model: ModelRef,
    destination: str | None = None,
    guardrail: Guardrail | None = None,
) -> list[str]:
    decisions = invoke(
        plan, "research", "planner", "Converse", model, destination=destination, guardrail=guardrail
    )
    return [d.reason for d in decisions]


def test_role_invokes_exactly_the_listed_models_and_their_routed_regions() -> None:
    """Each destination of the profile is callable through it; the model is not callable around
    the profile nor in a Region the profile does not route to; Titan only in the stack's Region."""
    plan = _plan(_agent())
    for region in ("us-east-1", "us-east-2", "us-west-2"):
        for operation in ("Converse", "ConverseStream"):
            assert all(invoke(plan, "research", "planner", operation, CLAUDE, destination=region))
    assert all(invoke(plan, "research", "planner", "InvokeModel", TITAN))
    denied = "because no identity-based policy allows the bedrock:InvokeModel action"
    assert _reasons(plan, CLAUDE, destination="us-west-1")[1] == denied
    direct = ModelRef("direct", ModelKind.FOUNDATION_MODEL, CLAUDE.foundation_model_id)
    assert _reasons(plan, direct) == [denied]
    other = ModelRef("nova", ModelKind.INFERENCE_PROFILE, "us.amazon.nova-pro-v1:0")
    assert _reasons(plan, other)[0] == denied


def test_guardrail_is_required_on_every_call_and_may_be_applied() -> None:
    """With guardrail gr1abc version 2: calls with it are allowed (including ApplyGuardrail),
    calls without it or with another version hit DenyInvokeWithoutGuardrail."""
    plan = _plan(_agent(guardrail={"id": "gr1abc", "version": "2"}))
    assert _reasons(plan, CLAUDE, guardrail=Guardrail("gr1abc", "2")) == ["allowed"] * 3
    for guardrail in (None, Guardrail("gr1abc", "3"), Guardrail("other", "2")):
        decisions = invoke(plan, "research", "planner", "Converse", CLAUDE, guardrail=guardrail)
        assert decisions[0].statements == ("planner-identity-policy#DenyInvokeWithoutGuardrail",)


def test_a_model_without_guardrail_support_is_granted_without_it_and_only_what_it_supports() -> (
    None
):
    """Titan Text Embeddings V2 refuses guardrails and does not stream: with a guardrail on the
    role, InvokeModel without one is allowed and InvokeModelWithResponseStream is not granted."""
    plan = _plan(_agent(guardrail={"id": "gr1abc", "version": "2"}))
    assert _invoke_reasons(plan, "InvokeModel", TITAN) == ["allowed"]
    assert _invoke_reasons(plan, "InvokeModelWithResponseStream", TITAN) == [
        "because no identity-based policy allows the bedrock:InvokeModelWithResponseStream action"
    ]


def test_a_cross_region_guardrail_is_applicable_through_its_profile_in_each_destination() -> None:
    """us.guardrail.v1:0 from us-east-1 evaluates in us-east-1, us-east-2 and us-west-2: the
    guardrail profile is granted there, and not in us-west-1."""
    plan = _plan(
        _agent(
            guardrail={"id": "gr1abc", "version": "2", "cross_region_profile": "us.guardrail.v1:0"}
        )
    )
    guardrail = Guardrail("gr1abc", "2", "us.guardrail.v1:0")
    for region in ("us-east-1", "us-east-2", "us-west-2"):
        decisions = invoke(
            plan,
            "research",
            "planner",
            "Converse",
            CLAUDE,
            guardrail=guardrail,
            guardrail_region=region,
        )
        assert all(decisions), region
    decisions = invoke(
        plan,
        "research",
        "planner",
        "Converse",
        CLAUDE,
        guardrail=guardrail,
        guardrail_region="us-west-1",
    )
    assert decisions[-1].reason == (
        "because no identity-based policy allows the bedrock:ApplyGuardrail action"
    )


def test_routes_resolved_at_deploy_time_replace_the_shipped_table() -> None:
    """When AWS reports other destinations for a profile, the role follows AWS: the routed
    model is granted where AWS routes and nowhere else."""
    plan = _plan(_agent(routes={CLAUDE.id: ["us-east-1", "us-west-1"]}))
    assert all(invoke(plan, "research", "planner", "Converse", CLAUDE, destination="us-west-1"))
    denied = "because no identity-based policy allows the bedrock:InvokeModel action"
    assert _reasons(plan, CLAUDE, destination="us-west-2")[1] == denied


def _invoke_reasons(plan: AwsPlan, operation: str, model: ModelRef) -> list[str]:
    return [d.reason for d in invoke(plan, "research", "planner", operation, model)]


def test_global_profile_gets_the_documented_three_part_grant() -> None:
    """A global profile call (profile, source-Region model, Region-less model) is allowed; the
    Region-less model is not callable on its own, nor the regional model outside the profile."""
    ref = ModelRef(
        "claude", ModelKind.INFERENCE_PROFILE, "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
    )
    plan = _plan(_agent(models=[ref]))
    assert _reasons(plan, ref) == ["allowed"] * 3
    direct = ModelRef("direct", ModelKind.FOUNDATION_MODEL, ref.foundation_model_id)
    assert _reasons(plan, direct) == [
        "because no identity-based policy allows the bedrock:InvokeModel action"
    ]


def test_govcloud_arns_use_the_partition_and_the_profile_s_routing() -> None:
    ref = ModelRef(
        "claude", ModelKind.INFERENCE_PROFILE, "us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0"
    )
    plan = _plan(_agent(region="us-gov-east-1", models=[ref]), "us-gov-east-1")
    assert plan.partition == "aws-us-gov"
    for region in ("us-gov-east-1", "us-gov-west-1"):
        assert _reasons(plan, ref, destination=region) == ["allowed"] * 2


def test_trust_is_pod_identity_for_this_cluster_and_service_account() -> None:
    res = _agent()
    plan = _plan(res)
    assert assume(plan, "research", "planner") == ["allowed", "allowed"]
    refused = [
        "because no role trust policy allows the sts:AssumeRole action",
        "because no role trust policy allows the sts:TagSession action",
    ]
    assert assume(plan, "research", "planner", kubernetes_namespace="other") == refused
    assert assume(plan, "research", "planner", kubernetes_service_account="other") == refused
    elsewhere = CLUSTER_ARN.replace("us-east-1", "eu-west-1")
    assert assume(plan, "research", "planner", eks_cluster_arn=elsewhere) == refused
    role = res.one("aws:iam/role:Role")
    assert role.inputs["tags"] == {"owner": "platform-team", AGENT_TAG: "true"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"models": []}, "BedrockAgentRoleArgs.models: empty; grant at least one model"),
        ({"models": [TITAN, TITAN]}, "BedrockAgentRoleArgs.models[1]: 'titan' is listed twice"),
        (
            {"models": [ModelRef("x", ModelKind.INFERENCE_PROFILE, "us.unknown.model-v1:0")]},
            "BedrockAgentRoleArgs.models[0]: 'us.unknown.model-v1:0' is not in the inference "
            "profile routing table",
        ),
        (
            {"guardrail": {"id": "gr1abc", "version": "DRAFT"}},
            "BedrockAgentRoleArgs.guardrail.version: 'DRAFT' is not a numeric guardrail version",
        ),
    ],
)
def test_invalid_arguments_name_the_input(extra: dict, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("[", r"\[").replace("]", r"\]")):
        _agent(**extra)
