"""R16 (disruption, interruption handling): when Karpenter is installed, its
`settings.interruptionQueue` names an SQS queue of this stack (retention at most 300 s,
encrypted) that EventBridge rules for all five interruption events target, so nodes are
drained before Spot reclaims, scheduled maintenance, state changes and capacity-reservation
ends instead of being lost mid-job (Karpenter disruption docs: interruption)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from substrate.components.capacity.interruption_queue import EVENTS, RETENTION_SECONDS

from ._helm import chart_name, chart_value
from ._props import MISSING, UNKNOWN, is_true, value
from ._types import EVENT_RULE, EVENT_TARGET, HELM_CHART, HELM_RELEASE, SQS_QUEUE


def _of(resources: Sequence[PolicyResource], kind: str) -> list[PolicyResource]:
    return [r for r in resources if r.resource_type == kind]


def _pattern(rule: PolicyResource) -> tuple[set[str], set[str]]:
    raw = value(rule.props, "eventPattern")
    try:
        doc: Any = json.loads(raw) if isinstance(raw, str) else {}
    except json.JSONDecodeError:
        doc = {}
    doc = doc if isinstance(doc, dict) else {}
    return set(doc.get("source", [])), set(doc.get("detail-type", []))


def _queue_problems(queue: PolicyResource, name: str) -> list[str]:
    problems = []
    retention = value(queue.props, "messageRetentionSeconds")
    if retention is not UNKNOWN and (retention is MISSING or retention > RETENTION_SECONDS):
        shown = "the SQS default (4 days)" if retention is MISSING else f"{int(retention)} s"
        problems.append(
            f"interruption queue {name!r} keeps messages {shown}; at most {RETENTION_SECONDS} s "
            "(older interruption events are stale)"
        )
    sse = value(queue.props, "sqsManagedSseEnabled")
    kms = value(queue.props, "kmsMasterKeyId")
    if not (is_true(sse) or sse is UNKNOWN or kms not in (MISSING, None)):
        problems.append(f"interruption queue {name!r} is not encrypted; enable SSE")
    return problems


def _targets_queue(target: PolicyResource, name: str) -> bool:
    """The target's ARN is the queue's (unknown during a preview that creates the queue)."""
    arn = value(target.props, "arn")
    if arn is UNKNOWN:
        return True
    parts = arn.split(":") if isinstance(arn, str) else []
    return len(parts) == 6 and parts[2] == "sqs" and parts[5] == name


def _rule_problems(resources: Sequence[PolicyResource], name: str) -> list[str]:
    targeted = {
        value(t.props, "rule") for t in _of(resources, EVENT_TARGET) if _targets_queue(t, name)
    }
    problems = []
    for event in EVENTS:
        rules = [
            r
            for r in _of(resources, EVENT_RULE)
            if _pattern(r) == ({event.source}, {event.detail_type})
        ]
        if not rules:
            problems.append(f"no EventBridge rule forwards {event.detail_type!r} ({event.source})")
        elif not any(value(r.props, "name") in targeted for r in rules):
            problems.append(
                f"the EventBridge rule for {event.detail_type!r} does not target queue {name!r}"
            )
    return problems


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    resources = args.resources
    for release in _of(resources, HELM_RELEASE) + _of(resources, HELM_CHART):
        if chart_name(release.resource_type, release.props) != "karpenter":
            continue
        name = chart_value(release.props, "settings", "interruptionQueue")
        if name is UNKNOWN:
            continue
        if not name:
            report_violation(
                "Karpenter's settings.interruptionQueue is unset, so interruption handling is "
                "off and Spot/maintenance events kill nodes without draining them",
                release.urn,
            )
            continue
        queues = [q for q in _of(resources, SQS_QUEUE) if value(q.props, "name") == name]
        if not queues:
            report_violation(
                f"Karpenter's interruption queue {name!r} is not an SQS queue of this stack",
                release.urn,
            )
            continue
        for problem in _queue_problems(queues[0], name) + _rule_problems(resources, name):
            report_violation(problem, queues[0].urn)


POLICY = StackValidationPolicy(
    name="r16-interruption-queue",
    description="R16: with Karpenter installed, settings.interruptionQueue names an encrypted "
    "SQS queue (retention <= 300 s) of the stack that EventBridge rules for all five "
    "interruption events target (Karpenter disruption docs).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate,
)
