"""R31: StatefulSets and Deployments a stack declares stay available through drains and zone
loss: at least `minReplicas` replicas (2 in production; a KEDA ScaledObject's floor counts, and
scaling to zero counts as 0), a PodDisruptionBudget selecting their pods that allows at least
one disruption, a `topologySpreadConstraints` entry over `topology.kubernetes.io/zone`
selecting their own pods, and liveness and readiness probes on every container (BPG
reliability; Kyverno require-pdb, pdb-minavailable, topologyspreadconstraints-policy).

Only objects the plan declares are judged (charts' internals are not visible to the plan).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._workloads import Workload, allows_disruption, budgets, replicas, selects, workloads

ZONE_KEY = "topology.kubernetes.io/zone"


def _spreads_over_zones(w: Workload) -> bool:
    for c in w.pod_spec.get("topologySpreadConstraints") or []:
        if not isinstance(c, dict) or c.get("topologyKey") != ZONE_KEY:
            continue
        if c.get("matchLabelKeys") or selects(c.get("labelSelector"), w.pod_labels):
            return True
    return False


def _unprobed(w: Workload) -> list[str]:
    out = []
    for c in w.pod_spec.get("containers") or []:
        if not isinstance(c, dict):
            continue
        missing = [p for p in ("livenessProbe", "readinessProbe") if not c.get(p)]
        if missing:
            out.append(f"{c.get('name')} ({', '.join(missing)})")
    return out


def problems(args: StackValidationArgs, w: Workload, minimum: int) -> list[str]:
    out: list[str] = []
    count = replicas(args.resources, w)
    if count is not None and count < minimum:
        out.append(f"runs {count} replica(s) at least; this stack requires {minimum}")
    found = budgets(args.resources, w)
    if not found:
        out.append("has no PodDisruptionBudget selecting its pods")
    elif not any(allows_disruption(p, count if count is not None else minimum) for p in found):
        out.append("has PodDisruptionBudgets that allow no disruption, so drains block forever")
    if not _spreads_over_zones(w):
        out.append(f"does not spread its pods over zones ({ZONE_KEY} topologySpreadConstraints)")
    unprobed = _unprobed(w)
    if unprobed:
        out.append("has containers without probes: " + "; ".join(unprobed))
    return out


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    config: Mapping[str, Any] = args.get_config() or {}
    minimum = int(config.get("minReplicas", 1))
    for w in workloads(args.resources):
        for problem in problems(args, w, minimum):
            report_violation(f"{w.kind} {w.namespace}/{w.name} {problem}", w.urn)


POLICY = StackValidationPolicy(
    name="r31-workload-availability",
    description="R31: declared StatefulSets and Deployments run at least `minReplicas` replicas "
    "(2 in production), have a PDB allowing one disruption, spread over zones and probe every "
    "container (BPG reliability, Kyverno require-pdb / topologyspreadconstraints-policy).",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={"minReplicas": {"type": "integer", "minimum": 0, "default": 1}}
    ),
    validate=validate,
)
