"""R16: every NodePool declares disruption budgets; GPU and Neuron pools consolidate only when
empty, after an explicit delay; in production (policy config) an accelerator pool never has
more than N nodes disrupted at once and has a `nodes: "0"` window for Drifted/Underutilized
(business hours) (Karpenter disruption docs, BPG AI/ML)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy

from ._nodepool import accelerator, budgets
from ._props import MISSING, UNKNOWN, by_type, value
from ._types import NODE_POOL

FROZEN_REASONS = {"Drifted", "Underutilized"}


def _always_on_ceiling(found: list[dict[str, Any]]) -> int | None:
    """Lowest fixed node count among budgets that always apply to every reason."""
    ceilings = [
        int(b["nodes"])
        for b in found
        if "schedule" not in b and not b.get("reasons") and str(b.get("nodes", "")).isdigit()
    ]
    return min(ceilings) if ceilings else None


def _has_freeze(found: list[dict[str, Any]]) -> bool:
    return any(
        str(b.get("nodes")) == "0"
        and b.get("schedule")
        and b.get("duration")
        and (not b.get("reasons") or set(b["reasons"]) >= FROZEN_REASONS)
        for b in found
    )


def _check(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    found = budgets(props)
    if found is None:
        return []
    problems = []
    if not found:
        problems.append(
            "spec.disruption.budgets is unset, so Karpenter's default (10% of nodes) applies "
            "implicitly; declare the budgets"
        )
    kind = accelerator(props)
    if kind is None:
        return problems
    policy = value(props, "spec", "disruption", "consolidationPolicy")
    if policy is not UNKNOWN and policy != "WhenEmpty":
        shown = "unset (WhenEmptyOrUnderutilized)" if policy is MISSING else repr(policy)
        problems.append(
            f"spec.disruption.consolidationPolicy is {shown} on a {kind} pool; use WhenEmpty "
            "so consolidation never evicts running GPU work"
        )
    if value(props, "spec", "disruption", "consolidateAfter") is MISSING:
        problems.append(
            f"spec.disruption.consolidateAfter is unset on a {kind} pool; set how long an "
            "empty node may idle before removal"
        )
    limit = config.get("maxAcceleratorNodesDisrupted")
    ceiling = _always_on_ceiling(found)
    if limit is not None and (ceiling is None or ceiling > int(limit)):
        problems.append(
            f"no always-active budget limits disruption of this {kind} pool to {int(limit)} "
            'node(s) at a time; add budgets: [{nodes: "1"}]'
        )
    if config.get("requireBusinessHoursFreeze") and not _has_freeze(found):
        problems.append(
            f'no budget with nodes "0", a schedule and a duration blocks Drifted/Underutilized '
            f"disruption of this {kind} pool during business hours"
        )
    return problems


POLICY = ResourceValidationPolicy(
    name="r16-disruption-budgets",
    description="R16: NodePools declare disruption budgets; GPU/Neuron pools use WhenEmpty with "
    "consolidateAfter and, in production, disrupt at most N nodes at once and freeze "
    "Drifted/Underutilized during business hours (Karpenter docs, BPG AI/ML).",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={
            "maxAcceleratorNodesDisrupted": {"type": ["integer", "null"], "default": None},
            "requireBusinessHoursFreeze": {"type": "boolean", "default": False},
        }
    ),
    validate=by_type({NODE_POOL: _check}),
)
