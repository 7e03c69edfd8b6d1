"""The per-stack settings of R23/R25 are what keep dev clean, not a blind spot of the rules."""

from __future__ import annotations

from substrate.plan.command import PlanResult
from substrate.plan.policy import effective_policies, evaluate
from substrate.policies import r19_iam_least_privilege as r19
from substrate.policies import r23_bedrock_guardrail as r23
from substrate.policies import r25_bedrock_invocation_logging as r25


def test_dev_without_the_override_would_need_its_own_invocation_logging(
    dev_plan: PlanResult,
) -> None:
    (violation,) = evaluate(dev_plan.records, effective_policies([r25.POLICY], {}))
    # Reported once, on a resource that uses Bedrock (an agent role or the endpoint).
    assert violation.urn.endswith(("-bedrock-identity-policy", "::endpoints-bedrock-runtime"))
    assert "declares no model invocation logging configuration" in violation.message


def test_dev_has_no_guardrail_so_requiring_one_would_fail(dev_plan: PlanResult) -> None:
    policies = effective_policies([r23.POLICY], {r23.POLICY.name: {"requireGuardrail": True}})
    violations = evaluate(dev_plan.records, policies)
    # The endpoint and every agent role would need the guardrail condition.
    assert {v.urn.rsplit("::", 1)[1] for v in violations} == {
        "endpoints-bedrock-runtime",
        "agent-research-bedrock-identity-policy",
        "agent-support-bedrock-identity-policy",
    }


def test_karpenter_wildcard_resources_are_all_in_the_non_restrictable_table(
    prod_plan: PlanResult,
) -> None:
    """The upstream Karpenter policy passes R19 because of the table, so the table is exercised:
    dropping one entry the platform relies on makes R19 fire."""
    assert evaluate(prod_plan.records, effective_policies([r19.POLICY], {})) == []
    original = r19.NON_RESTRICTABLE
    try:
        r19.NON_RESTRICTABLE = original - {"pricing:getproducts"}
        (violation,) = evaluate(prod_plan.records, effective_policies([r19.POLICY], {}))
    finally:
        r19.NON_RESTRICTABLE = original
    assert violation.urn.endswith("::karpenter-pod-identity-policy")
    assert 'pricing:GetProducts on Resource "*"' in violation.message
