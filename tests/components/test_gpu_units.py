"""Every consumer of a GPU pool's unit uses the same resource: the NodePool limit and the Kueue
quota (checked by P3 and the journeys) and the chargeback records, which read
kube-state-metrics' request series by the sanitised resource name."""

from __future__ import annotations

import re

from substrate.plan.command import PlanResult

RECORD = "pod:gpu_devices_allocated:sum"


def _ksm(resource: str) -> str:
    """kube-state-metrics' SanitizeLabelName: every character outside [a-zA-Z0-9_] -> _."""
    return re.sub(r"[^a-zA-Z0-9_]", "_", resource)


def _units(plan: PlanResult) -> set[str]:
    units = set()
    for m in plan.manifests.values():
        if m["kind"] == "NodePool":
            units |= {r for r in m["spec"]["limits"] if r.startswith("nvidia.com/gpu")}
    return units


def _selected(expr: str) -> set[str]:
    """The `resource` values the record's request selector matches."""
    match = re.search(r'kube_pod_container_resource_requests\{resource(=~?)"([^"]+)"', expr)
    assert match, expr
    op, value = match.groups()
    return set(value.split("|")) if op == "=~" else {value}


def test_chargeback_bills_every_pools_gpu_unit(dev_plan: PlanResult) -> None:
    (record,) = [
        r
        for m in dev_plan.manifests.values()
        if m["kind"] == "PrometheusRule"
        for g in m["spec"]["groups"]
        for r in g["rules"]
        if r.get("record") == RECORD
    ]
    assert {_ksm(u) for u in _units(dev_plan)} <= _selected(record["expr"])


def test_dev_limits_whole_and_sliced_pools_in_their_own_units(dev_plan: PlanResult) -> None:
    assert _units(dev_plan) == {"nvidia.com/gpu", "nvidia.com/gpu.shared"}
