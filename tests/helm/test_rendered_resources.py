"""R28 for the platform's own add-ons: every container the charts run requests CPU and memory and
has a memory limit (the controllers share the system nodes; one without a memory limit can take
the node down with it, one without requests is scheduled onto a full node)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pytest

from substrate.engines import apiserver
from tests.conftest import planned
from tests.helm.rendered import by_chart, chart_releases, containers, label, pod_spec, rendered
from tests.helpers import require_engine
from tests.journeys.cluster import stack as stack_of

DAEMONSET_CONTROLLER = "system:serviceaccount:kube-system:daemon-set-controller"

# Containers exempt from R28, with the reason (none so far).
EXEMPT: Mapping[tuple[str, str], str] = {}

FINDINGS: dict[str, str] = {}


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


def limited(stack: str) -> set[str]:
    """Namespaces where the plan puts a LimitRange (its defaults size containers at admission)."""
    return {
        str(m["metadata"]["namespace"])
        for m in planned(stack).manifests.values()
        if m["kind"] == "LimitRange"
    }


def as_admitted(stack: str, objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each pod template in a LimitRange namespace replaced by the pod the API server admits
    from it (the apiserver engine: LimitRanger and all), as its controller creates it."""
    where = limited(stack)
    pods, index = [], []
    for i, obj in enumerate(objs):
        spec = pod_spec(obj)
        namespace = obj["metadata"].get("namespace")
        if spec is not None and obj["kind"] != "Pod" and namespace in where:
            meta = {"name": f"{obj['metadata']['name']}-pod", "namespace": namespace}
            pods.append({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec})
            index.append(i)
    if not pods:
        return objs
    require_engine("apiserver")
    ran = apiserver.admit(stack_of(stack).state, pods, username=DAEMONSET_CONTROLLER)
    out = list(objs)
    for i, result in zip(index, ran.results, strict=True):
        assert result.admitted is not None, result.refused_by
        out[i] = dict(result.admitted)
    return out


@pytest.mark.parametrize("chart", by_chart(FINDINGS))
def test_every_container_is_sized(chart: str) -> None:
    missing = [
        f"{render.stack}: {problem} ({source})"
        for render, release in chart_releases(chart)
        for obj, source in zip(
            as_admitted(render.stack, render.installed(release)), release.sources, strict=True
        )
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
