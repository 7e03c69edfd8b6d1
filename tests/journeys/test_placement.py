"""Where GPU work lands on prod: Kueue's flavor choice (its own code) and Karpenter's NodePool
choice (the disruption model's scheduling rules: weight, then name, descending) for a GPU pod
that names no pool; the training pool's placement group."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pytest

from substrate.engines.karpenter.scheduling import pool_for
from substrate.engines.kueue import Step, StepResult, run
from tests.journeys import queue_objects as q
from tests.journeys.cluster import stack
from tests.journeys.journey import journey

DOC = "docs/capacity.md#which-pool-a-gpu-pod-lands-on"
EFA_DOC = "docs/capacity.md#multi-node-training-placement-group-and-efa"
GPU = "nvidia.com/gpu"
TOLERATION = {"key": GPU, "operator": "Equal", "value": "true", "effect": "NoSchedule"}


def _gpu_job(name: str, requests: dict[str, str], pods: int = 1) -> dict[str, Any]:
    return q.job(name, "ml-research", requests, pods=pods, queue="ml-research")


SCENARIOS = {
    "untargeted": [
        Step(
            "one GPU, no pool",
            submit=[_gpu_job("notebook", {"cpu": "4", "memory": "32Gi", GPU: "1"})],
        )
    ],
}


@pytest.fixture(scope="module")
def prod_queues() -> dict[str, list[StepResult]]:
    plan = stack("prod").plan
    return run(plan.manifests, plan.releases, SCENARIOS)


def _nodepools(weights: bool = True) -> list[dict[str, Any]]:
    pools = [copy.deepcopy(m) for m in stack("prod").objects("NodePool")]
    if not weights:
        for np in pools:
            np["spec"].pop("weight", None)
    return pools


def _offers(nodepool: Mapping[str, Any]) -> set[str]:
    """Extended resources a pool's instance types have: its GPU limit names its GPU unit."""
    return {r for r in nodepool["spec"]["limits"] if "/" in r}


def _untargeted_pod() -> dict[str, Any]:
    return {
        "spec": {
            "tolerations": [TOLERATION],
            "containers": [{"name": "c", "resources": {"requests": {GPU: "1"}}}],
        }
    }


@journey(
    user="ML engineer of tenant ml-research",
    stack="prod",
    steps=[
        "submit a 1-GPU Job with the GPU toleration and no pool selector to LocalQueue "
        "ml-research (quota: 48 training GPUs, may borrow 8 inference GPUs)",
        "a platform pod with the same request, outside Kueue",
    ],
    outcome="Kueue assigns flavor inference (the tenant's flavors are in Karpenter's pool "
    "order: inference weight 50 before training), and Karpenter launches the unqueued pod on "
    "pool inference (g6e/g6); with the weights removed Karpenter would pick training (p5/p4d): "
    "equal weights go in descending name order",
    docs=[DOC],
)
def test_an_untargeted_gpu_pod_never_lands_on_p5_by_default(
    prod_queues: dict[str, list[StepResult]],
) -> None:
    step = prod_queues["untargeted"][0]
    wl = step.workload_of("Job", "notebook")
    assert wl.admitted and wl.flavors()["main"][GPU] == "inference"
    job = step.object("Job", "notebook")
    assert job["spec"]["template"]["spec"]["nodeSelector"] == {"substrate.io/pool": "inference"}
    assert pool_for(_untargeted_pod(), _nodepools(), _offers) == "inference"
    assert pool_for(_untargeted_pod(), _nodepools(weights=False), _offers) == "training"


def test_training_nodes_share_one_cluster_placement_group_in_one_zone() -> None:
    prod = stack("prod")
    training = prod.one("NodePool", "training")["spec"]["template"]["spec"]
    zones = [r for r in training["requirements"] if r["key"] == "topology.kubernetes.io/zone"]
    assert zones == [
        {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["us-east-1a"]}
    ]
    node_class = prod.one("EC2NodeClass", training["nodeClassRef"]["name"])
    name = node_class["spec"]["placementGroupSelector"]["name"]
    groups = [
        r.inputs for r in prod.plan.records if r.type == "aws:ec2/placementGroup:PlacementGroup"
    ]
    assert [(g["name"], g["strategy"]) for g in groups] == [(name, "cluster")]
