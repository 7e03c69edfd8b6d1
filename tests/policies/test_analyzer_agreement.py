"""`substrate plan`'s verdicts agree with what the engine gets from the real policy pack.

The pack's own __main__.py runs as a separate process and is driven over gRPC as the Pulumi
CLI drives it (GetAnalyzerInfo, Configure with the stack's policy config, Analyze per
resource, AnalyzeStack). Its diagnostics must equal the plan's violations, on the clean prod
plan and on a prod plan with every mutation applied at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from substrate.plan.command import PlanResult
from substrate.plan.policy import effective_policies, evaluate, load_pack_config
from substrate.policies import POLICIES
from tests.helpers import ROOT
from tests.policies import analyzer
from tests.policies.mutations import MUTATIONS

PACK = ROOT / "policy_packs" / "substrate"


@pytest.fixture(scope="module")
def stub() -> Iterator:
    with analyzer.analyzer(PACK) as connected:
        yield connected


def _prod_policies():
    return effective_policies(POLICIES, load_pack_config(PACK / "config.production.json"))


def _as_plan(found: list[analyzer.Diagnostic]) -> list[tuple[str, str, str, str]]:
    return sorted((d.enforcement, d.policy, d.urn, d.message) for d in found)


def _from_plan(records) -> list[tuple[str, str, str, str]]:
    return sorted(
        (v.enforcement, v.policy, v.urn, v.message) for v in evaluate(records, _prod_policies())
    )


def test_pack_serves_every_policy(stub) -> None:
    served = {p.name for p in analyzer.info(stub).policies}
    assert served == {p.name for p in POLICIES}


def test_clean_prod_plan_gets_no_diagnostics(stub, prod_plan: PlanResult) -> None:
    analyzer.configure(stub, _prod_policies())
    assert analyzer.analyze(stub, prod_plan.records) == []
    assert _from_plan(prod_plan.records) == []


def test_broken_prod_plan_gets_the_same_diagnostics(stub, prod_plan: PlanResult) -> None:
    records = prod_plan.records
    for mutation in MUTATIONS:
        records = mutation.apply(records)
    analyzer.configure(stub, _prod_policies())
    from_engine = _as_plan(analyzer.analyze(stub, records))
    assert from_engine == _from_plan(records)
    assert {policy for _, policy, _, _ in from_engine} == {m.policy for m in MUTATIONS}
