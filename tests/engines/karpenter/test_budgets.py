"""Disruption budgets, from the Karpenter v1.14 Disruption page, "NodePool Disruption Budgets"
(Reasons, Nodes, Schedule, Duration) and kubernetes-sigs/karpenter v1.14.1 nodepool.go."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from substrate.engines.karpenter.budgets import (
    UNBOUNDED,
    Budget,
    allowed_by_budgets,
    allowed_disruptions,
)
from substrate.engines.karpenter.cron import CronError, Schedule
from tests.engines.karpenter.objects import nodepool

# The docs' three-budget NodePool ("Nodes" section).
DOCS_BUDGETS = [
    Budget("20%", ("Empty", "Drifted")),
    Budget("5"),
    Budget("0", ("Underutilized",), "@daily", "10m"),
]
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
MIDNIGHT_PLUS_5 = datetime(2026, 3, 2, 0, 5, tzinfo=UTC)


def test_twenty_percent_of_19_nodes_rounds_up_to_4() -> None:
    """ "if there were 19 nodes owned by the NodePool, 4 empty or drifted nodes could be
    disrupted, rounding up from 19 * .2 = 3.8"."""
    assert allowed_by_budgets(DOCS_BUDGETS, NOON, 19, "Drifted") == 4
    assert allowed_by_budgets(DOCS_BUDGETS, NOON, 19, "Empty") == 4


def test_the_second_budget_caps_at_5_above_25_nodes() -> None:
    assert allowed_by_budgets(DOCS_BUDGETS, NOON, 30, "Drifted") == 5
    assert allowed_by_budgets(DOCS_BUDGETS, NOON, 30, "Underutilized") == 5


def test_the_third_blocks_underutilized_only_in_the_first_10_minutes_of_the_day() -> None:
    assert allowed_by_budgets(DOCS_BUDGETS, MIDNIGHT_PLUS_5, 30, "Underutilized") == 0
    assert allowed_by_budgets(DOCS_BUDGETS, MIDNIGHT_PLUS_5, 30, "Drifted") == 5
    assert (
        allowed_by_budgets(
            DOCS_BUDGETS, MIDNIGHT_PLUS_5 + timedelta(minutes=6), 30, "Underutilized"
        )
        == 5
    )


def test_a_budget_without_reasons_applies_to_all_and_none_means_10_percent() -> None:
    """ "If undefined, Karpenter will default to one budget with nodes: 10%"."""
    np = nodepool()  # no budgets
    assert allowed_disruptions(np, NOON, 25, 0, "Drifted") == 3
    assert allowed_by_budgets([Budget("2", ("Drifted",))], NOON, 25, "Empty") == UNBOUNDED


def test_nodes_being_deleted_or_not_ready_use_up_the_budget() -> None:
    """ "allowed_disruptions = roundup(total * percentage) - total_deleting - total_notready"."""
    np = nodepool(budgets=[{"nodes": "20%"}])
    assert allowed_disruptions(np, NOON, 10, 1, "Drifted") == 1
    assert allowed_disruptions(np, NOON, 10, 3, "Drifted") == 0


def test_disable_disruption_on_a_nodepool_with_a_zero_budget() -> None:
    """ "Example: Disable Disruption on a NodePool": nodes "0" blocks every voluntary reason."""
    np = nodepool(budgets=[{"nodes": "0"}])
    for reason in ("Drifted", "Empty", "Underutilized"):
        assert allowed_disruptions(np, NOON, 8, 0, reason) == 0


@pytest.mark.parametrize(
    ("now", "active"),
    [
        (datetime(2026, 3, 2, 13, 0, tzinfo=UTC), True),  # Monday, the schedule hit itself
        (datetime(2026, 3, 2, 23, 59, tzinfo=UTC), True),
        (datetime(2026, 3, 3, 0, 0, tzinfo=UTC), False),  # hit + duration: no longer active
        (datetime(2026, 3, 2, 12, 59, tzinfo=UTC), False),
        (datetime(2026, 3, 7, 14, 0, tzinfo=UTC), False),  # Saturday
    ],
)
def test_schedule_and_duration_bound_when_a_budget_is_active(now: datetime, active: bool) -> None:
    """ "the schedule determines a starting point where the budget will begin being enforced,
    and the duration determines how long from that starting point" (schedules in UTC)."""
    assert Budget("0", None, "0 13 * * 1-5", "11h").is_active(now) is active


def test_an_invalid_schedule_fails_the_nodepool_closed_for_every_reason() -> None:
    """MustGetAllowedDisruptions returns 0 when any budget errors (robfig/cron rejects a
    day-of-week of 7)."""
    budgets = [Budget("5", ("Underutilized",), "0 10 * * 7", "1h")]
    with pytest.raises(CronError):
        Schedule.parse("0 10 * * 7")
    assert allowed_by_budgets(budgets, NOON, 20, "Drifted") == 0


@pytest.mark.parametrize(
    ("spec", "after", "expected"),
    [
        ("@daily", datetime(2026, 3, 2, 0, 0, tzinfo=UTC), datetime(2026, 3, 3, 0, 0, tzinfo=UTC)),
        ("@weekly", datetime(2026, 3, 2, 9, tzinfo=UTC), datetime(2026, 3, 8, 0, 0, tzinfo=UTC)),
        ("0 2 * * sat", datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 7, 2, 0, tzinfo=UTC)),
        (
            "0 0 1,15 * mon",  # dom and dow both restricted: either matches
            datetime(2026, 3, 2, 1, tzinfo=UTC),
            datetime(2026, 3, 9, 0, 0, tzinfo=UTC),
        ),
        (
            "*/15 * * * *",
            datetime(2026, 3, 2, 0, 7, 30, tzinfo=UTC),
            datetime(2026, 3, 2, 0, 15, tzinfo=UTC),
        ),
    ],
)
def test_cron_next_matches_robfig_semantics(spec: str, after: datetime, expected: datetime) -> None:
    assert Schedule.parse(spec).next(after) == expected


GOLDEN = json.loads((Path(__file__).parent / "golden" / "budgets.json").read_text())["cases"]


def test_random_budgets_allow_what_karpenter_allows() -> None:
    """150 random budget sets (schedules, durations, reasons, percentages, invalid crons) agree
    with Karpenter v1.14.1's own MustGetAllowedDisruptions (golden/budgets.json)."""
    wrong = []
    for case in GOLDEN:
        now = datetime.fromisoformat(case["now"].replace("Z", "+00:00"))
        budgets = [Budget.of(b) for b in case["budgets"]]
        got = {r: allowed_by_budgets(budgets, now, case["nodes"], r) for r in case["allowed"]}
        if got != case["allowed"]:
            wrong.append((case, got))
    assert wrong == []
