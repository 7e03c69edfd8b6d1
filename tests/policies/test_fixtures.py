"""Execute every pack policy on its fixtures: each valid case passes, each break fires it."""

from __future__ import annotations

from types import ModuleType

import pytest

from substrate.policies import MODULES, POLICIES
from tests.policies.fixtures import Break, Case, fixture_path, load_cases, run_case

VALID = [(m, c) for m in MODULES for c in load_cases(m)]
BREAKS = [(m, c, b) for m, c in VALID for b in c.breaks]


def _id(module: ModuleType) -> str:
    return module.__name__.rsplit(".", 1)[-1]


@pytest.mark.parametrize(("module", "case"), VALID, ids=[f"{_id(m)}: {c.name}" for m, c in VALID])
def test_valid_case_passes(module: ModuleType, case: Case) -> None:
    assert run_case(module, case) == []


@pytest.mark.parametrize(
    ("module", "case", "change"),
    BREAKS,
    ids=[f"{_id(m)}: {c.name}: {b.describe()}" for m, c, b in BREAKS],
)
def test_breaking_one_field_fires_the_policy(module: ModuleType, case: Case, change: Break) -> None:
    violations = run_case(module, case, change)
    assert [v.policy for v in violations] == [module.POLICY.name]
    assert change.violation in violations[0].message
    assert violations[0].enforcement == "mandatory"


@pytest.mark.parametrize("module", MODULES, ids=_id)
def test_every_policy_has_fixtures_with_a_break(module: ModuleType) -> None:
    assert fixture_path(module).exists()
    cases = load_cases(module)
    assert cases and any(c.breaks for c in cases)


def test_policy_names_cite_their_rule_id() -> None:
    """Posture rules (rules.md) are `rNN_*.py` -> `r<N>-...` / "R<N>:"; Substrate's own
    platform rules are `pNN_*.py` -> `p<N>-...` / "P<N>:" (documented in docs/policies.md)."""
    for module, policy in zip(MODULES, POLICIES, strict=True):
        kind, number = _id(module)[0], int(_id(module)[1:3])
        assert kind in "rp"
        assert policy.name.startswith(f"{kind}{number}-")
        assert policy.description.startswith(f"{kind.upper()}{number}:")
