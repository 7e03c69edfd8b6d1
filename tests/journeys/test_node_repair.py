"""Journeys: a GPU node of the training pool fails and Karpenter's node repair replaces it. The
NodeRepair gate is what the real Helm render of the pinned Karpenter chart gives the controller
(FEATURE_GATES), the condition comes from the EKS node monitoring agent add-on the plan installs,
and the Karpenter model (substrate.engines.karpenter.repair, disruption) decides over time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from substrate.engines.karpenter.disruption import Cluster
from substrate.engines.karpenter.instance_types import catalog
from substrate.engines.karpenter.model import Instance, Pod, launch
from substrate.engines.karpenter.repair import gate_on
from tests.conftest import planned
from tests.helm.rendered import rendered
from tests.helpers import STACKS
from tests.journeys.journey import journey
from tests.journeys.karpenter_cluster import MONDAY, TRAINING_POD, objects

DOC = "docs/observability.md#node-repair-and-the-eks-node-monitoring-agent"
POOL = "training"
AGENT = "eks-node-monitoring-agent"
GPU_FAULT = "AcceleratedHardwareReady"
M = timedelta(minutes=1)


def _feature_gates(stack: str) -> str:
    render = rendered(stack)
    (release,) = render.of_chart("karpenter")
    (deployment,) = [o for o in render.installed(release) if o["kind"] == "Deployment"]
    (controller,) = deployment["spec"]["template"]["spec"]["containers"]
    (gates,) = [e["value"] for e in controller["env"] if e["name"] == "FEATURE_GATES"]
    return str(gates)


def _addons(stack: str) -> set[str]:
    return {
        str(r.inputs.get("addonName"))
        for r in planned(stack).records
        if r.type == "aws:eks/addon:Addon"
    }


def _instance(nodepool: dict) -> Instance:
    """The pool's smallest GPU instance type (Karpenter's instance data)."""
    (families,) = [
        r["values"]
        for r in nodepool["spec"]["template"]["spec"]["requirements"]
        if r["key"] == "karpenter.k8s.aws/instance-family"
    ]
    gpus = [
        (int(t.reference["nvidia.com/gpu"]), t.name, t.family)
        for t in catalog()
        if t.family in families and "nvidia.com/gpu" in t.reference
    ]
    count, name, family = min(gpus)
    return Instance(name, family, {"nvidia.com/gpu": count}, gpu_variant="nvidia")


def _training(stack: str, unhealthy: int) -> tuple[Cluster, datetime]:
    """The training pool with as many nodes (up to 3) as its GPU limit allows, each running one
    worker of a gang job (do-not-disrupt, as R33 requires; its Job recreates deleted pods);
    `unhealthy` of them report the GPU fault at Monday 12:00. Karpenter runs for two hours."""
    manifests = planned(stack).manifests
    c = Cluster(objects(manifests, "NodePool"), objects(manifests, "EC2NodeClass"))
    c.node_repair = gate_on(_feature_gates(stack))
    nodepool = dict(c.nodepools[POOL])
    nodeclass = c.nodeclasses[nodepool["spec"]["template"]["spec"]["nodeClassRef"]["name"]]
    instance = _instance(nodepool)
    nodes = min(
        3, int(nodepool["spec"]["limits"]["nvidia.com/gpu"]) // instance.capacity["nvidia.com/gpu"]
    )
    assert nodes >= 2, nodes
    start = MONDAY - timedelta(hours=2)
    for i in range(nodes):
        claim = launch(f"gpu-{i}", nodepool, nodeclass, instance, start, zone="us-east-1a")
        claim.pods.append(
            Pod(f"worker-{i}", "gang", dict(TRAINING_POD), start, None, 600, replicated=True)
        )
        if i < unhealthy:
            claim.conditions[GPU_FAULT] = ("False", MONDAY)
        c.add(claim)
    c.run(MONDAY, MONDAY + timedelta(hours=2))
    return c, MONDAY


def _at(c: Cluster, kind: str, node: str) -> datetime | None:
    return next((e.at for e in c.events if e.kind == kind and e.node == node), None)


@journey(
    user="ML engineer whose multi-node training job runs on the training pool",
    stack="dev, staging, prod",
    steps=[
        "the plan installs the eks-node-monitoring-agent add-on and the Karpenter chart renders "
        "FEATURE_GATES with NodeRepair=true (substrate:karpenter.nodeRepair)",
        "one GPU node of the training pool (up to 3 nodes, one gang worker each) reports "
        "AcceleratedHardwareReady=False at 12:00",
    ],
    outcome="Karpenter leaves the node alone for the 10-minute toleration, then at 12:10 "
    "force-terminates it: its do-not-disrupt worker is deleted at once (no drain, no budget), "
    "and the recreated worker gets a new node of the training pool; the healthy nodes are "
    "untouched",
    docs=[DOC],
)
@pytest.mark.parametrize("stack", STACKS)
def test_a_failed_gpu_node_is_replaced_after_the_toleration(stack: str) -> None:
    assert AGENT in _addons(stack)
    assert gate_on(_feature_gates(stack)), _feature_gates(stack)
    c, fault = _training(stack, unhealthy=1)
    assert _at(c, "Terminated", "gpu-0") == fault + 10 * M
    assert _at(c, "PodDeleted", "gpu-0") == fault + 10 * M
    sick = c.claim("gpu-0")
    new = c.claim(str(sick.replaced_by))
    assert new.nodepool == POOL and new.live and [p.name for p in new.pods] == ["worker-0"]
    others = [cl for cl in c.claims if cl.name not in ("gpu-0", new.name)]
    assert others and all(cl.live and cl.pods for cl in others)


@journey(
    user="platform operator during a fault that hits many GPU nodes at once",
    stack="dev, staging, prod",
    steps=[
        "two GPU nodes of the training pool (of up to 3) report AcceleratedHardwareReady=False "
        "at 12:00, more than 20% of the pool",
    ],
    outcome="Karpenter repairs neither: every 5 minutes from 12:10 it records NodeRepairBlocked "
    "(more than 20% of the pool unhealthy) and the workers keep their nodes for the two hours "
    "watched, so a fault that is not the nodes' own does not empty the pool",
    docs=[DOC],
)
@pytest.mark.parametrize("stack", STACKS)
def test_a_pool_with_too_many_failed_nodes_is_not_repaired(stack: str) -> None:
    c, fault = _training(stack, unhealthy=2)
    assert c.node_repair
    assert not c.of_kind("Terminated") and not c.of_kind("PodDeleted")
    blocked = [e.at for e in c.events if e.kind == "NodeRepairBlocked" and e.node == "gpu-0"]
    assert blocked[:2] == [fault + 10 * M, fault + 15 * M]
