"""BedrockAgentRole: the policy grants exactly the listed models' ARNs, guardrail enforced."""

from __future__ import annotations

from typing import cast

import pytest

from components.bedrock_agent_role import BedrockAgentRole, BedrockAgentRoleArgs
from components.bedrock_models import ModelRef
from components.bedrock_policies import AGENT_TAG
from tests.helpers import Resources, policy_json, run_program

CLAUDE = ModelRef("claude", "inference-profile", "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
TITAN = ModelRef("titan", "foundation-model", "amazon.titan-embed-text-v2:0")
ACCOUNT = "123456789012"
CLUSTER_ARN = f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/substrate-prod"
PROFILE = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/{CLAUDE.id}"
GUARD = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:guardrail/gr1abc"


def _fm(region: str, model: str) -> str:
    return f"arn:aws:bedrock:{region}::foundation-model/{model}"


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


def _statements(res: Resources) -> list[dict]:
    return policy_json(res.named("planner-identity-policy"))["Statement"]


def test_policy_grants_exactly_the_listed_models_and_their_routed_regions() -> None:
    stmts = _statements(_agent())
    assert {tuple(s["Action"]) for s in stmts} == {
        ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")
    }
    direct, routed = stmts
    assert direct["Resource"] == [PROFILE, _fm("us-east-1", TITAN.id)]
    assert "Condition" not in direct
    model = "anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert routed["Resource"] == [_fm(r, model) for r in ("us-east-1", "us-east-2", "us-west-2")]
    assert routed["Condition"] == {"StringEquals": {"bedrock:InferenceProfileArn": PROFILE}}
    for stmt in stmts:
        assert stmt["Effect"] == "Allow" and "*" not in str(stmt["Resource"])


def test_guardrail_allow_equals_deny_not_equals_and_apply_on_the_guardrail() -> None:
    stmts = _statements(_agent(guardrail={"id": "gr1abc", "version": "2"}))
    allows = [s for s in stmts if s["Effect"] == "Allow" and s["Sid"] != "ApplyGuardrail"]
    for stmt in allows:
        assert stmt["Condition"]["StringEquals"]["bedrock:GuardrailIdentifier"] == f"{GUARD}:2"
    deny = next(s for s in stmts if s["Effect"] == "Deny")
    assert deny["Condition"] == {"StringNotEquals": {"bedrock:GuardrailIdentifier": f"{GUARD}:2"}}
    assert set(deny["Resource"]) == {r for s in allows for r in s["Resource"]}
    apply = next(s for s in stmts if s["Sid"] == "ApplyGuardrail")
    assert (apply["Action"], apply["Resource"]) == (["bedrock:ApplyGuardrail"], [GUARD])


def test_global_profile_gets_the_documented_three_part_grant() -> None:
    ref = ModelRef(
        "claude", "inference-profile", "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
    )
    stmts = _statements(_agent(models=[ref]))
    profile = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/{ref.id}"
    model = ref.foundation_model_id
    assert [(s["Resource"], s["Condition"]["StringEquals"]) for s in stmts] == [
        ([profile], {"aws:RequestedRegion": "us-east-1"}),
        (
            [_fm("us-east-1", model)],
            {"aws:RequestedRegion": "us-east-1", "bedrock:InferenceProfileArn": profile},
        ),
        (
            [f"arn:aws:bedrock:::foundation-model/{model}"],
            {"aws:RequestedRegion": "unspecified", "bedrock:InferenceProfileArn": profile},
        ),
    ]


def test_govcloud_arns_use_the_partition_and_the_profile_s_routing() -> None:
    ref = ModelRef(
        "claude", "inference-profile", "us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0"
    )
    stmts = _statements(_agent(region="us-gov-east-1", models=[ref]))
    model = ref.foundation_model_id
    assert stmts[1]["Resource"] == [
        f"arn:aws-us-gov:bedrock:{r}::foundation-model/{model}"
        for r in ("us-gov-east-1", "us-gov-west-1")
    ]


def test_trust_is_pod_identity_for_this_cluster_and_service_account() -> None:
    res = _agent()
    role = res.one("aws:iam/role:Role")
    (trust,) = policy_json(role, "assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert trust["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert trust["Condition"]["StringEquals"] == {
        "aws:SourceAccount": ACCOUNT,
        "aws:RequestTag/eks-cluster-arn": CLUSTER_ARN,
        "aws:RequestTag/eks-cluster-name": "substrate-prod",
        "aws:RequestTag/kubernetes-namespace": "research",
        "aws:RequestTag/kubernetes-service-account": "planner",
    }
    assert role.inputs["tags"] == {"owner": "platform-team", AGENT_TAG: "true"}
    assoc = res.one("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert (assoc.inputs["namespace"], assoc.inputs["serviceAccount"]) == ("research", "planner")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"models": []}, "BedrockAgentRoleArgs.models: empty; grant at least one model"),
        ({"models": [TITAN, TITAN]}, "BedrockAgentRoleArgs.models[1]: 'titan' is listed twice"),
        (
            {"models": [ModelRef("x", "inference-profile", "us.unknown.model-v1:0")]},
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
