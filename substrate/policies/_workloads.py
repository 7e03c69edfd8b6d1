"""Reading StatefulSets and Deployments with what governs their availability: the PDBs that
select their pods and a KEDA ScaledObject that owns their replica count (shared by R31 and P4).

Everything is matched within the workload's namespace; values computed at deploy time
(UNKNOWN) are never guessed: a check that needs one is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import PolicyResource

from ._props import UNKNOWN, plain, value
from ._tenancy import in_namespace
from ._types import DEPLOYMENT, POD_DISRUPTION_BUDGET, SCALED_OBJECT, STATEFULSET

KINDS = {STATEFULSET: "StatefulSet", DEPLOYMENT: "Deployment"}


@dataclass(frozen=True)
class Workload:
    kind: str
    name: str
    namespace: str
    spec: dict[str, Any]
    urn: str

    @property
    def pod_labels(self) -> dict[str, Any]:
        labels = ((self.spec.get("template") or {}).get("metadata") or {}).get("labels")
        return labels if isinstance(labels, dict) else {}

    @property
    def pod_spec(self) -> dict[str, Any]:
        spec = (self.spec.get("template") or {}).get("spec")
        return spec if isinstance(spec, dict) else {}


def workloads(resources: Sequence[PolicyResource]) -> list[Workload]:
    out = []
    for r in resources:
        if r.resource_type not in KINDS:
            continue
        name, namespace = (
            value(r.props, "metadata", "name"),
            value(r.props, "metadata", "namespace"),
        )
        spec = plain(value(r.props, "spec"))
        if isinstance(name, str) and isinstance(spec, dict):
            ns = namespace if isinstance(namespace, str) else "default"
            out.append(Workload(KINDS[r.resource_type], name, ns, spec, r.urn))
    return out


def _in(resources: Sequence[PolicyResource], kind: str, namespace: str) -> list[dict[str, Any]]:
    return [found.props for found in in_namespace(resources, kind, namespace)]


def selects(selector: Any, labels: Mapping[str, Any]) -> bool:
    """Kubernetes label-selector semantics; a missing selector selects nothing (policy/v1)."""
    if not isinstance(selector, dict):
        return False
    for key, wanted in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != wanted:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        present = key in labels
        if (
            (op == "In" and not (present and labels[key] in values))
            or (op == "NotIn" and present and labels[key] in values)
            or (op == "Exists" and not present)
            or (op == "DoesNotExist" and present)
        ):
            return False
    return True


def scaled_by(resources: Sequence[PolicyResource], w: Workload) -> dict[str, Any] | None:
    """The ScaledObject whose scaleTargetRef is this workload (KEDA defaults kind to
    Deployment)."""
    for props in _in(resources, SCALED_OBJECT, w.namespace):
        ref = (props.get("spec") or {}).get("scaleTargetRef") or {}
        if ref.get("name") == w.name and ref.get("kind", "Deployment") == w.kind:
            return props
    return None


def replicas(resources: Sequence[PolicyResource], w: Workload) -> int | None:
    """The fewest replicas the workload runs: a ScaledObject's floor (0 with idleReplicaCount 0;
    KEDA's minReplicaCount defaults to 0), else spec.replicas (default 1). None: unknown."""
    scaled = scaled_by(resources, w)
    if scaled is not None:
        spec = scaled.get("spec") or {}
        floor, idle = spec.get("minReplicaCount", 0), spec.get("idleReplicaCount")
        if UNKNOWN in (floor, idle):
            return None
        return 0 if idle is not None and int(idle) == 0 else int(floor)
    count = w.spec.get("replicas", 1)
    return None if count is UNKNOWN else int(count)


def allows_disruption(pdb: Mapping[str, Any], count: int) -> bool:
    """At least one voluntary disruption (the rule Kyverno's statefulset-pdb applies)."""
    spec = pdb.get("spec") or {}
    most = spec.get("maxUnavailable")
    least = spec.get("minAvailable")
    if most is not None and str(most).removesuffix(".0") in ("0", "0%"):
        return False
    if least is None:
        return True
    if isinstance(least, str):
        return least.endswith("%") and least != "100%"
    return int(least) < count


def budgets(resources: Sequence[PolicyResource], w: Workload) -> list[dict[str, Any]]:
    """PDBs in the workload's namespace that select its pods."""
    return [
        p
        for p in _in(resources, POD_DISRUPTION_BUDGET, w.namespace)
        if selects((p.get("spec") or {}).get("selector"), w.pod_labels)
    ]
