"""NodePool disruption budgets (Karpenter v1.14 "Disruption" page, "NodePool Disruption
Budgets"; kubernetes-sigs/karpenter `pkg/apis/v1/nodepool.go`, `pkg/controllers/disruption/
helpers.go` BuildDisruptionBudgetMapping).

- A budget with no reasons applies to every reason; for one reason Karpenter takes the minimum
  over the budgets that list it or list none. No budgets at all: one budget of `10%`.
- A budget with `schedule` + `duration` is active from each schedule hit for `duration`
  (`IsActive`: the next hit after now - duration is not after now); without both it is always
  active; an inactive budget allows any number. An unparsable schedule in any budget fails the
  whole NodePool closed (0 for every reason).
- `nodes` is a count or a percentage of the NodePool's initialised nodes, rounded up.
- Allowed disruptions = that minimum - nodes already disrupting (being deleted) or NotReady,
  never below 0.
- Budgets rate-limit only graceful methods (Drifted, Empty, Underutilized); expiry,
  interruption and node repair ignore them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from substrate.engines.karpenter.cron import CronError, parse
from substrate.engines.karpenter.hashing import parse_duration

REASONS = ("Drifted", "Empty", "Underutilized")
UNBOUNDED = 2**31 - 1
"""math.MaxInt32: what an inactive budget (or no budget for the reason) allows."""
DEFAULT = ({"nodes": "10%"},)


@dataclass(frozen=True)
class Budget:
    nodes: str
    reasons: tuple[str, ...] | None = None
    schedule: str | None = None
    duration: str | None = None

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> Budget:
        reasons = raw.get("reasons")
        return cls(
            str(raw["nodes"]),
            None if reasons is None else tuple(reasons),
            raw.get("schedule"),
            raw.get("duration"),
        )

    def is_active(self, now: datetime) -> bool:
        """CronError when the schedule does not parse (Karpenter then allows 0)."""
        if self.schedule is None and self.duration is None:
            return True
        schedule = parse(self.schedule or "")
        window = timedelta(microseconds=parse_duration(self.duration or "0") // 1000)
        hit = schedule.next(now - window)
        return hit is not None and hit <= now

    def allowed(self, now: datetime, num_nodes: int) -> int:
        """CronError when the schedule does not parse."""
        if not self.is_active(now):
            return UNBOUNDED
        return scaled(self.nodes, num_nodes)

    def applies_to(self, reason: str) -> bool:
        return self.reasons is None or reason in self.reasons


def scaled(nodes: str, total: int) -> int:
    """intstr.GetScaledValueFromIntOrPercent(nodes, total, roundUp=true)."""
    if re.fullmatch(r"\d+", nodes):
        return int(nodes)
    match = re.fullmatch(r"(\d+)%", nodes)
    if match is None:
        return 0  # misconfigured: fail closed
    return math.ceil(int(match.group(1)) * total / 100)


def budgets_of(nodepool: Mapping[str, Any]) -> tuple[Budget, ...]:
    raw = nodepool.get("spec", {}).get("disruption", {}).get("budgets")
    return _budgets(json.dumps(DEFAULT if raw is None else raw, sort_keys=True))


@lru_cache(maxsize=256)
def _budgets(raw: str) -> tuple[Budget, ...]:
    return tuple(Budget.of(b) for b in json.loads(raw))


def allowed_by_budgets(
    budgets: Sequence[Budget], now: datetime, num_nodes: int, reason: str
) -> int:
    """NodePool.MustGetAllowedDisruptions: the most restrictive applicable budget; 0 for every
    reason when any budget's schedule is invalid (Karpenter fails closed on the error)."""
    allowed = UNBOUNDED
    for budget in budgets:
        try:
            value = budget.allowed(now, num_nodes)
        except CronError:
            return 0
        if budget.applies_to(reason):
            allowed = min(allowed, value)
    return allowed


def allowed_disruptions(
    nodepool: Mapping[str, Any], now: datetime, num_nodes: int, disrupting: int, reason: str
) -> int:
    """What the disruption controller may still start for `reason` in this NodePool now."""
    allowed = allowed_by_budgets(budgets_of(nodepool), now, num_nodes, reason)
    return max(allowed - disrupting, 0)


def open_for(
    nodepool: Mapping[str, Any], reason: str, start: datetime, end: datetime, step: timedelta
) -> list[tuple[datetime, datetime]]:
    """Spans in [start, end) during which budgets allow at least one `reason` disruption of a
    one-node pool with nothing disrupting (sampled every `step`)."""
    spans: list[tuple[datetime, datetime]] = []
    t, opened = start, None
    while t < end:
        is_open = allowed_disruptions(nodepool, t, 1, 0, reason) > 0
        if is_open and opened is None:
            opened = t
        if not is_open and opened is not None:
            spans.append((opened, t))
            opened = None
        t += step
    if opened is not None:
        spans.append((opened, end))
    return spans
