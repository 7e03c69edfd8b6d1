"""docs/policies.md maps every posture rule to where it is enforced; this keeps the table true
to the code: every rule id has a row, every pack and admission policy has exactly one row under
the rule it cites, and the per-tier levels are the tiers' policy configs and the stacks' own
admission modes."""

from __future__ import annotations

import re

import pytest

from substrate.components.admission.admission_policies import MODULES as ADMISSION_MODULES
from substrate.config import load_config, stack_file_config
from substrate.plan.pack_config import tier_config
from substrate.plan.policy import effective_policies, load_pack_config
from substrate.plan.stacks import TIERS
from substrate.policies import POLICIES
from substrate.project import find_project
from tests.helpers import ROOT, STACKS, shared_dir

HEADER = "| Rule | Policy | Where enforced | development | staging | production | Sources |"
RULES_MD = shared_dir() / "rules.md"


def table() -> list[dict[str, str]]:
    lines = (ROOT / "docs" / "policies.md").read_text().splitlines()
    start = lines.index(HEADER)
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == 7, line
        rows.append(dict(zip(("rule", "policy", "where", *TIERS, "sources"), cells, strict=True)))
    return rows


ROWS = table()


def rows_for(policy: str) -> list[dict[str, str]]:
    return [r for r in ROWS if r["policy"] == f"`{policy}`"]


def test_every_posture_rule_has_a_row() -> None:
    mapped = {r["rule"] for r in ROWS}
    missing = [f"R{n}" for n in range(1, 35) if f"R{n}" not in mapped]
    assert missing == []


def test_rows_are_in_rule_order_and_name_real_policies() -> None:
    def order(rule: str) -> tuple[bool, int]:
        return rule.startswith("P"), int(rule[1:])

    assert [order(r["rule"]) for r in ROWS] == sorted(order(r["rule"]) for r in ROWS)
    known = {p.name for p in POLICIES}
    known |= {f"substrate-{m.NAME}" for m in ADMISSION_MODULES}
    assert [r["policy"] for r in ROWS if r["policy"].strip("`") not in known] == []


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_pack_policy_row_cites_its_rule_and_each_tiers_level(policy) -> None:
    (row,) = rows_for(policy.name)
    assert row["rule"] == policy.name.split("-", 1)[0].upper()
    assert row["where"].startswith("pack")
    project = find_project(ROOT)
    for tier in TIERS:
        path = tier_config(project, tier)
        (effective,) = [
            e for e in effective_policies(POLICIES, load_pack_config(path)) if e.policy is policy
        ]
        assert row[tier].split(" ", 1)[0] == effective.level.name.lower(), (tier, row[tier])


@pytest.mark.parametrize("module", ADMISSION_MODULES, ids=lambda m: m.NAME)
def test_admission_policy_row_cites_its_rule_and_each_stacks_mode(module) -> None:
    (row,) = rows_for(f"substrate-{module.NAME}")
    assert row["rule"] == module.RULE
    assert row["where"].startswith("admission")
    project = find_project(ROOT)
    for stack in STACKS:
        config = load_config(stack_file_config(project.stack_config(stack)))
        assert row[config.environment.tier] == config.admission.mode, stack


def test_the_rules_file_has_no_rule_the_table_lacks() -> None:
    if not RULES_MD.exists():
        pytest.fail(f"{RULES_MD} not found: set SUBSTRATE_SHARED_DIR or check out ../shared", False)
    ids = set(re.findall(r"^\| (R\d+) \|", RULES_MD.read_text(), flags=re.MULTILINE))
    assert len(ids) == 34
    assert ids - {r["rule"] for r in ROWS} == set()


def test_sources_cell_is_filled() -> None:
    assert [r["policy"] for r in ROWS if not r["sources"]] == []
