"""The stacks' Helm releases rendered by the real Helm, once per test session, and what the
checks on them share: pod templates, per-chart expectations and findings."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from substrate.components.core.versions import CHARTS
from substrate.engines import cluster, helm
from tests.conftest import planned
from tests.helpers import chart_dir, require_engine, require_shared

STACKS = ("dev", "staging", "prod")


@dataclass(frozen=True)
class StackRender:
    stack: str
    kube_version: str
    """The cluster's Kubernetes version, as the releases were rendered for it."""
    releases: tuple[helm.Rendered, ...]
    objects: tuple[dict[str, Any], ...]
    """Everything the cluster holds for the plan (cluster.cluster_objects)."""

    def of_chart(self, chart: str) -> list[helm.Rendered]:
        return [r for r in self.releases if r.release.chart == chart]

    def installed(self, rendered: helm.Rendered) -> list[dict[str, Any]]:
        """The release's objects with the namespace Helm installs them into."""
        crds = [o for o in self.objects if o.get("kind") == helm.CRD_KIND]
        return cluster.installed(rendered, crds)


_RENDERS: dict[str, StackRender] = {}


def rendered(stack: str) -> StackRender:
    """Every release of the stack's plan rendered by Helm (once per session)."""
    if stack not in _RENDERS:
        require_engine("helm")
        charts = require_shared(chart_dir(), "upstream chart packages", "SUBSTRATE_SHARED_DIR")
        plan = planned(stack)
        version = helm.kubernetes_version(plan)
        releases = helm.render(plan, charts, kube_version=version)
        _RENDERS[stack] = StackRender(
            stack, version, tuple(releases), tuple(cluster.cluster_objects(plan, releases))
        )
        # Rendered CRDs are millions of containers that live for the session: keep the
        # collector from rescanning them (as tests.conftest.planned does for plans).
        gc.collect()
        gc.freeze()
    return _RENDERS[stack]


def chart_releases(chart: str) -> Iterator[tuple[StackRender, helm.Rendered]]:
    """Every release of ``chart`` in every stack; a chart no stack installs is a failure (its pin
    in substrate.components.core.versions would be dead)."""
    found = False
    for stack in STACKS:
        render = rendered(stack)
        for release in render.of_chart(chart):
            found = True
            yield render, release
    assert found, f"no stack installs the {chart} chart"


def by_chart(findings: Mapping[str, str]) -> list[Any]:
    """One pytest param per pinned chart; charts with a known platform defect are strict xfails
    with the owning issue as the reason."""
    unknown = set(findings) - set(CHARTS)
    assert not unknown, f"findings for charts that are not pinned: {sorted(unknown)}"
    return [
        pytest.param(
            chart,
            marks=[pytest.mark.xfail(strict=True, reason=findings[chart])]
            if chart in findings
            else [],
            id=chart,
        )
        for chart in sorted(CHARTS)
    ]


POD_TEMPLATE_PATHS: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("v1", "Pod"): ("spec",),
    ("v1", "PodTemplate"): ("template", "spec"),
    ("v1", "ReplicationController"): ("spec", "template", "spec"),
    ("apps/v1", "ReplicaSet"): ("spec", "template", "spec"),
    ("apps/v1", "Deployment"): ("spec", "template", "spec"),
    ("apps/v1", "StatefulSet"): ("spec", "template", "spec"),
    ("apps/v1", "DaemonSet"): ("spec", "template", "spec"),
    ("batch/v1", "Job"): ("spec", "template", "spec"),
    ("batch/v1", "CronJob"): ("spec", "jobTemplate", "spec", "template", "spec"),
}
"""Where the built-in kinds that create pods keep the pod spec."""


def pod_spec(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    path = POD_TEMPLATE_PATHS.get((str(obj.get("apiVersion")), str(obj.get("kind"))))
    node: Any = obj if path else None
    for key in path or ():
        node = (node or {}).get(key)
    return node


def containers(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every container a pod runs: init (including sidecars) and regular ones."""
    yield from spec.get("initContainers") or []
    yield from spec.get("containers") or []


def label(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    where = f"{meta.get('namespace')}/" if meta.get("namespace") else ""
    return f"{obj.get('kind')} {where}{meta.get('name')}"
