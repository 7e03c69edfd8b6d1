"""P1: a DCGM exporter is installed, and tolerates the GPU taint, once any GPU NodePool exists.

Substrate rule (not in rules.md): GPU health alerts, idle-GPU waste and GPU chargeback all read
DCGM exporter metrics; a GPU pool without the exporter is unmonitored capacity.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from substrate.components.core.labels import GPU_TAINT

from ._helm import chart_name, chart_value
from ._nodepool import taints
from ._props import MISSING, UNKNOWN, items, plain, value
from ._types import NODE_POOL

DCGM_CHART = "dcgm-exporter"


def _gpu_tainted(props: Mapping[str, Any]) -> bool:
    """Tainted with the GPU key, whatever the effect (R17 judges the effect)."""
    return any(t.get("key") == GPU_TAINT["key"] for t in taints(props))


def tolerates_gpu_taint(toleration: Any) -> bool:
    """Kubernetes toleration matching against the GPU taint (key, effect, operator/value)."""
    if not isinstance(toleration, Mapping):
        return False
    key, operator = toleration.get("key") or "", toleration.get("operator") or "Equal"
    effect = toleration.get("effect") or ""
    if key not in ("", GPU_TAINT["key"]) or (key == "" and operator != "Exists"):
        return False
    if effect not in ("", GPU_TAINT["effect"]):
        return False
    return operator == "Exists" or toleration.get("value") == GPU_TAINT["value"]


def _release_problem(release: PolicyResource) -> str | None:
    tolerations = chart_value(release.props, "tolerations")
    if tolerations is UNKNOWN:
        return None
    listed = [plain(t) for t in items(tolerations)] if tolerations is not MISSING else []
    if any(tolerates_gpu_taint(t) for t in listed):
        return None
    return (
        f"DCGM exporter release {release.name!r} does not tolerate the "
        f"{GPU_TAINT['key']}:{GPU_TAINT['effect']} taint, so it never runs on GPU nodes"
    )


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    pools = [r for r in args.resources if r.resource_type == NODE_POOL and _gpu_tainted(r.props)]
    if not pools:
        return
    releases = [r for r in args.resources if chart_name(r.resource_type, r.props) == DCGM_CHART]
    names = ", ".join(sorted(str(value(p.props, "metadata", "name")) for p in pools))
    if not releases:
        report_violation(
            f"GPU NodePools ({names}) exist but no DCGM exporter Helm release does: their GPUs "
            "have no health, utilization or chargeback metrics (set "
            "substrate:observability.dcgmExporter to true)",
            pools[0].urn,
        )
        return
    for release in releases:
        problem = _release_problem(release)
        if problem:
            report_violation(problem, release.urn)


POLICY = StackValidationPolicy(
    name="p1-dcgm-exporter-for-gpu-pools",
    description="P1: when any Karpenter NodePool carries the nvidia.com/gpu taint, a DCGM "
    "exporter Helm release exists and tolerates that taint (Substrate GPU telemetry rule).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate,
)
