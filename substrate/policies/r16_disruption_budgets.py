"""R16: every NodePool declares disruption budgets; GPU and Neuron pools consolidate only when
empty, after an explicit delay; a pool labelled `substrate.io/pool-kind: training` sets no
`terminationGracePeriod` (with one, Karpenter drains drifted nodes and deletes do-not-disrupt
pods when it ends) and `expireAfter: Never` (expiry is forceful); in production (policy config)
an accelerator pool never has more than N nodes disrupted at once and replaces drifted nodes
only in a maintenance window: a scheduled `nodes: "0"` budget holds `Drifted` outside it
(Karpenter v1.14 Disruption docs: Drift, Expiration, TerminationGracePeriod, budgets)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy

from substrate.components.capacity.pools import POOL_KIND_LABEL

from ._nodepool import accelerator, budgets
from ._props import MISSING, UNKNOWN, by_type, value
from ._types import NODE_POOL

TRAINING = "training"


def _always_on_ceiling(found: list[dict[str, Any]]) -> int | None:
    """Lowest fixed node count among budgets that always apply to every reason."""
    ceilings = [
        int(b["nodes"])
        for b in found
        if "schedule" not in b and not b.get("reasons") and str(b.get("nodes", "")).isdigit()
    ]
    return min(ceilings) if ceilings else None


def _has_drift_window(found: list[dict[str, Any]]) -> bool:
    return any(
        str(b.get("nodes")) == "0"
        and b.get("schedule")
        and b.get("duration")
        and (not b.get("reasons") or "Drifted" in b["reasons"])
        for b in found
    )


def _training(props: Mapping[str, Any]) -> list[str]:
    kind = value(props, "metadata", "labels", POOL_KIND_LABEL)
    if kind != TRAINING:
        return []
    problems = []
    if value(props, "spec", "template", "spec", "terminationGracePeriod") not in (MISSING, None):
        problems.append(
            "a training pool sets spec.template.spec.terminationGracePeriod, so Karpenter "
            "drains drifted nodes and deletes do-not-disrupt training pods when it ends; unset it"
        )
    expire = value(props, "spec", "template", "spec", "expireAfter")
    if expire not in ("Never", UNKNOWN):
        shown = "unset (720h)" if expire is MISSING else repr(expire)
        problems.append(
            f"a training pool's spec.template.spec.expireAfter is {shown}: expiry is forceful "
            'and drains nodes under running jobs; use "Never"'
        )
    return problems


def _check(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    found = budgets(props)
    if found is None:
        return []
    problems = _training(props)
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
    if config.get("requireDriftWindow") and not _has_drift_window(found):
        problems.append(
            f'no budget with nodes "0", a schedule and a duration holds Drifted disruption of '
            f"this {kind} pool outside a maintenance window"
        )
    return problems


POLICY = ResourceValidationPolicy(
    name="r16-disruption-budgets",
    description="R16: NodePools declare disruption budgets; GPU/Neuron pools use WhenEmpty with "
    "consolidateAfter; training pools set no terminationGracePeriod and expireAfter Never; in "
    "production accelerator pools disrupt at most N nodes at once and replace drifted nodes only "
    "in a maintenance window (Karpenter docs, BPG AI/ML).",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={
            "maxAcceleratorNodesDisrupted": {"type": ["integer", "null"], "default": None},
            "requireDriftWindow": {"type": "boolean", "default": False},
        }
    ),
    validate=by_type({NODE_POOL: _check}),
)
