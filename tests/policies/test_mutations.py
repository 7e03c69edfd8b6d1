"""Mutation tests: the prod plan is clean, and breaking one field fires exactly one policy."""

from __future__ import annotations

import pytest
from pulumi_policy import EnforcementLevel

from substrate.plan.command import PlanResult
from substrate.plan.policy import effective_policies, evaluate, load_pack_config
from substrate.policies import POLICIES
from tests.helpers import ROOT
from tests.policies.mutations import MUTATIONS, Mutation

PROD_CONFIG = ROOT / "policy_packs" / "substrate" / "config.production.json"


def _prod_policies():
    return effective_policies(POLICIES, load_pack_config(PROD_CONFIG))


def test_unbroken_prod_plan_is_clean(prod_plan: PlanResult) -> None:
    assert evaluate(prod_plan.records, _prod_policies()) == []


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.policy)
def test_breaking_one_field_fires_exactly_that_policy(
    prod_plan: PlanResult, mutation: Mutation
) -> None:
    violations = evaluate(mutation.apply(prod_plan.records), _prod_policies())
    assert {v.policy for v in violations} == {mutation.policy}
    assert {v.enforcement for v in violations} == {"mandatory"}
    assert all(v.urn.endswith(f"::{mutation.name}") for v in violations)


def test_every_mandatory_prod_policy_has_a_mutation() -> None:
    mandatory = {e.policy.name for e in _prod_policies() if e.level == EnforcementLevel.MANDATORY}
    assert mandatory == {m.policy for m in MUTATIONS}
