"""Journeys: where the EFA device plugin runs, so where `vpc.amazonaws.com/efa` becomes
allocatable. The DaemonSet is Helm's render of the pinned chart; whether it runs on a pool's
nodes is Kubernetes' toleration and node-affinity matching against the NodePool's template
(the Karpenter model's own toleration and requirement functions)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from substrate.components.capacity import efa_device_plugin as efa
from substrate.components.capacity.instance_families import family
from substrate.components.core.labels import EFA_RESOURCE
from substrate.engines.karpenter.drift import label_satisfies
from substrate.engines.karpenter.scheduling import tolerates
from tests.conftest import planned
from tests.helm.rendered import rendered
from tests.helpers import STACKS
from tests.journeys.cluster import controller, denied, stack, tenant_engineer
from tests.journeys.journey import journey

DOC = "docs/capacity.md#multi-node-training-placement-group-and-efa"
RESTRICT_IMAGES = "substrate-restrict-images"
CHART = "aws-efa-k8s-device-plugin"


def _daemonset(stack: str) -> dict[str, Any]:
    render = rendered(stack)
    (release,) = render.of_chart(CHART)
    (ds,) = [o for o in render.installed(release) if o["kind"] == "DaemonSet"]
    return ds


def _runs_on(pod: Mapping[str, Any], nodepool: Mapping[str, Any]) -> bool:
    """The DaemonSet's pod schedules on the pool's nodes: it tolerates their taints and one of
    its required node-affinity terms holds for their labels (Karpenter's requirements count as
    labels: a node carries one value of each)."""
    template = nodepool["spec"]["template"]
    if not all(tolerates(pod, t) for t in template["spec"].get("taints") or ()):
        return False
    labels = dict(template.get("metadata", {}).get("labels", {}))
    for req in template["spec"].get("requirements") or ():
        if req["operator"] == "In" and len(req.get("values") or ()) == 1:
            labels.setdefault(req["key"], req["values"][0])
    affinity = pod["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    return any(
        all(label_satisfies(labels, r) for r in term["matchExpressions"])
        for term in affinity["nodeSelectorTerms"]
    )


def _families(nodepool: Mapping[str, Any]) -> list[str]:
    reqs = nodepool["spec"]["template"]["spec"].get("requirements") or ()
    return [
        v
        for r in reqs
        if r["key"] == "karpenter.k8s.aws/instance-family"
        for v in r.get("values") or ()
    ]


@journey(
    user="ML engineer running multi-node training on a training pool",
    stack="dev, staging, prod",
    steps=[
        "Karpenter launches a node of the training pool (GPU taint, EFA-capable families)",
        "the EFA device plugin DaemonSet, as Helm renders it, is scheduled on it",
    ],
    outcome="the plugin runs on the nodes of every training pool whose families have EFA, and "
    "on no other pool's nodes, so vpc.amazonaws.com/efa is allocatable exactly there, up to "
    "the EFA interfaces of the instance size",
    docs=[DOC],
)
@pytest.mark.parametrize("stack", STACKS)
def test_efa_is_allocatable_on_the_training_pools(stack: str) -> None:
    ds = _daemonset(stack)
    pod = {"spec": ds["spec"]["template"]["spec"]}
    pools = [m for m in planned(stack).manifests.values() if m.get("kind") == "NodePool"]
    runs = {p["metadata"]["name"] for p in pools if _runs_on(pod, p)}
    assert runs == {"training"}, runs
    (training,) = [p for p in pools if p["metadata"]["name"] == "training"]
    for name in _families(training):
        fam = family(name)
        assert fam is not None and fam.efa, f"{name} has no {EFA_RESOURCE} capacity"
    untolerated = dict(pod)
    untolerated["spec"] = {**pod["spec"], "tolerations": []}
    assert not _runs_on(untolerated, training)  # the GPU taint keeps the chart's default off


def _plugin_pod(stack_name: str, namespace: str) -> dict[str, Any]:
    """The pod the DaemonSet controller creates from the rendered template, in `namespace`."""
    template = _daemonset(stack_name)["spec"]["template"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {**template.get("metadata", {}), "name": "efa-plugin", "namespace": namespace},
        "spec": template["spec"],
    }


@journey(
    user="the DaemonSet controller, then an engineer of tenant ml-research",
    stack="dev, staging, prod",
    steps=[
        "the controller creates the EFA device plugin's pod (as Helm renders it, image from the "
        "EKS add-on registry of the stack's Region) in namespace aws-efa-k8s-device-plugin",
        "the engineer creates a pod with the same image in ml-research",
    ],
    outcome="Kyverno admits the plugin's pod in its namespace and refuses the same image in the "
    "tenant namespace (substrate-restrict-images: outside the allowed registries): the EKS "
    "add-on repository is allowed to the plugin's namespace only",
    docs=[DOC],
)
@pytest.mark.parametrize("stack_name", STACKS)
def test_the_plugin_image_is_allowed_in_its_namespace_only(stack_name: str) -> None:
    s = stack(stack_name)
    plugin = _plugin_pod(stack_name, efa.NAMESPACE)
    (container,) = plugin["spec"]["containers"]
    assert container["image"].startswith(efa.image_repository(s.config.region) + ":")
    tenant = _plugin_pod(stack_name, "ml-research")
    tenant["metadata"]["name"] = "efa-copy"
    verdicts = s.admit([plugin], controller("daemon-set-controller"))
    verdicts += s.admit([tenant], tenant_engineer("ml-research"))
    assert denied(verdicts, "efa-plugin") == {}
    refused = denied(verdicts, "efa-copy")
    assert container["image"] in refused.get(RESTRICT_IMAGES, ""), refused
