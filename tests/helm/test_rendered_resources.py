"""R28 for the platform's own add-ons: every container the charts run requests CPU and memory and
has a memory limit (the controllers share the system nodes; one without a memory limit can take
the node down with it, one without requests is scheduled onto a full node)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pytest

from tests.helm.rendered import by_chart, chart_releases, containers, label, pod_spec, rendered

# Containers exempt from R28, with the reason (none so far).
EXEMPT: Mapping[tuple[str, str], str] = {}

FINDINGS = {
    "nvidia-device-plugin": "issue 12: the device plugin's containers (plugin, init, sidecar, "
    "MPS control daemon) run without CPU/memory requests or a memory limit",
}


def effective(container: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(requests, limits) as the API server stores them: a resource with a limit and no request
    gets the limit as its request (Kubernetes' defaulting, "Requests and limits" in the
    resource-management docs)."""
    resources = container.get("resources") or {}
    limits = dict(resources.get("limits") or {})
    return {**limits, **(resources.get("requests") or {})}, limits


# Custom resources whose operator runs pods sized by `spec.resources` (the main container).
OPERATED = frozenset(
    {("monitoring.coreos.com/v1", "Prometheus"), ("monitoring.coreos.com/v1", "Alertmanager")}
)


def _containers(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if (obj.get("apiVersion"), obj.get("kind")) in OPERATED:
        spec = obj.get("spec") or {}
        return [{"name": str(obj["kind"]).lower(), "resources": spec.get("resources")}]
    return list(containers(pod_spec(obj) or {}))


def unsized(obj: Mapping[str, Any]) -> list[str]:
    found = []
    for container in _containers(obj):
        requests, limits = effective(container)
        missing = [
            what
            for what, present in (
                ("requests.cpu", "cpu" in requests),
                ("requests.memory", "memory" in requests),
                ("limits.memory", "memory" in limits),
            )
            if not present
        ]
        if missing and (obj["kind"], container["name"]) not in EXEMPT:
            found.append(f"{label(obj)} {container['name']}: no {', '.join(missing)}")
    return found


@pytest.mark.parametrize("chart", by_chart(FINDINGS))
def test_every_container_is_sized(chart: str) -> None:
    missing = [
        f"{render.stack}: {problem} ({source})"
        for render, release in chart_releases(chart)
        for obj, source in zip(render.installed(release), release.sources, strict=True)
        for problem in unsized(obj)
    ]
    assert missing == []


def test_a_limit_without_a_request_counts_as_both() -> None:
    """kuberay-operator sets only limits: the API server defaults the requests from them."""
    (operator,) = rendered("prod").of_chart("kuberay-operator")
    (deployment,) = [o for o in operator.objects if o["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert "requests" not in container["resources"]
    assert unsized(deployment) == []
    unlimited = copy.deepcopy(deployment)
    del unlimited["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"]
    assert unsized(unlimited) == [
        "Deployment kuberay-system/kuberay-operator kuberay-operator: "
        "no requests.memory, limits.memory"
    ]
