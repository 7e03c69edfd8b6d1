"""Journeys: a NodePool's `spec.limits` let Karpenter launch what the pool is for. Every NodePool
of every stack's plan, its EC2NodeClass and the rendered DaemonSets go to the Karpenter launch
model (substrate/engines/karpenter/launch.py), which stops a pool's launches at its limits as
Karpenter v1.14 does: a GPU pool launches nodes until its `nvidia.com/gpu` limit, not stopped
first by its CPU or memory limit, and every pool can launch an instance of each of its
families. The plan-time checks (substrate/config/capacity_checks.py) refuse stacks where this
fails; these journeys show the decision Karpenter makes on the plan itself."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from substrate.engines.karpenter.instance_types import FAMILY
from substrate.engines.karpenter.launch import Cluster, Launch, kubelet_of, launch, pool_types
from tests.helpers import STACKS
from tests.journeys.journey import journey
from tests.journeys.karpenter_cluster import launch_cluster

DOC = "docs/workloads.md#quota-what-kueue-admits-and-what-the-plan-refuses"
GPU = "nvidia.com/gpu"
POOL_LABEL = "substrate.io/pool"
EXTRA = 8
"""Pods submitted beyond what the pool's GPU limit can hold."""


def nodepool(stack: str, name: str) -> dict[str, Any]:
    (found,) = [np for np in launch_cluster(stack).nodepools if np["metadata"]["name"] == name]
    return dict(found)


def families(np: dict[str, Any]) -> list[str]:
    (values,) = [
        r["values"] for r in np["spec"]["template"]["spec"]["requirements"] if r["key"] == FAMILY
    ]
    return [str(v) for v in values]


def with_limits(stack: str, name: str, **limits: str) -> Cluster:
    """The stack's cluster with pool ``name``'s limits changed (a copy; the plan is untouched)."""
    np = nodepool(stack, name)
    changed = {**np, "spec": {**np["spec"], "limits": {**np["spec"]["limits"], **limits}}}
    c = launch_cluster(stack)
    pools = [changed if p["metadata"]["name"] == name else p for p in c.nodepools]
    return dataclasses.replace(c, nodepools=pools)


def pod(np: dict[str, Any], family: str, requests: dict[str, str]) -> dict[str, Any]:
    """A pod that selects the pool and one of its families and tolerates the pool's taints."""
    spec = np["spec"]["template"]["spec"]
    return {
        "nodeSelector": {POOL_LABEL: np["metadata"]["name"], FAMILY: family},
        "tolerations": [
            {"key": t["key"], "operator": "Exists", "effect": t["effect"]}
            for t in spec.get("taints") or ()
        ],
        "containers": [{"name": "work", "resources": {"requests": requests, "limits": requests}}],
    }


def gpu_limit(np: dict[str, Any]) -> int:
    return int(np["spec"]["limits"][GPU])


def fill(c: Cluster, np: dict[str, Any], family: str) -> Launch:
    """One-GPU pods of ``family`` on the pool, more than its GPU limit can hold."""
    return launch(pod(np, family, {GPU: "1"}), gpu_limit(np) + EXTRA, c)


def gpus(c: Cluster, found: Launch) -> int:
    """The GPUs of the nodes launched."""
    by_pool = {str(np["metadata"]["name"]): np for np in c.nodepools}
    return sum(
        n.type.capacity(kubelet_of(by_pool[n.pool], c.nodeclasses)).get(GPU, 0) for n in found.nodes
    )


GPU_POOLS = [
    (s, str(np["metadata"]["name"]))
    for s in STACKS
    for np in launch_cluster(s).nodepools
    if GPU in (np["spec"].get("limits") or {})
]
"""Whole-GPU pools. A time-sliced pool is limited in `nvidia.com/gpu.shared`, which only its
NodeOverlays give instance types; the launch model does not apply NodeOverlays."""
ALL_POOLS = [(s, str(np["metadata"]["name"])) for s in STACKS for np in launch_cluster(s).nodepools]


@journey(
    user="platform engineer who sized a GPU pool's limits in the stack file",
    stack="dev, staging, prod (every whole-GPU NodePool of the plan)",
    steps=[
        "for each instance family of the pool, submit one-GPU pods selecting the pool and that "
        "family, tolerating its taints, 8 more than the pool's nvidia.com/gpu limit",
        "Karpenter launches nodes for them until the pool's limits stop it",
    ],
    outcome="for every family the pool launches nodes of that family only, holding exactly "
    "its nvidia.com/gpu limit of GPUs, every GPU running a pod, and the 8 extra pods stay "
    "pending: the CPU and memory limits never stop the pool before its GPU limit",
    docs=[DOC],
)
@pytest.mark.parametrize(("stack", "pool"), GPU_POOLS)
def test_a_gpu_pool_launches_up_to_its_gpu_limit(stack: str, pool: str) -> None:
    np, c = nodepool(stack, pool), launch_cluster(stack)
    for family in families(np):
        found = fill(c, np, family)
        assert {(n.pool, n.type.family) for n in found.nodes} == {(pool, family)}, family
        assert (gpus(c, found), found.pending) == (gpu_limit(np), EXTRA), (family, found.limited)
        assert sum(n.pods for n in found.nodes) == gpu_limit(np), family


@journey(
    user="platform engineer who sized a pool's limits in the stack file",
    stack="dev, staging, prod (every NodePool of the plan)",
    steps=[
        "for each instance family of the pool, submit one pod selecting the pool and that "
        "family, tolerating its taints",
    ],
    outcome="Karpenter launches one node of that family in that pool on the empty cluster: "
    "the pool's limits fit at least one instance of every family it lists",
    docs=[DOC],
)
@pytest.mark.parametrize(("stack", "pool"), ALL_POOLS)
def test_every_family_of_a_pool_fits_its_limits(stack: str, pool: str) -> None:
    np, c = nodepool(stack, pool), launch_cluster(stack)
    for family in families(np):
        found = launch(pod(np, family, {"cpu": "100m"}), 1, c)
        assert [(n.pool, n.type.family) for n in found.nodes] == [(pool, family)], (
            family,
            found.limited,
            [p.reason for p in found.pools if p.pool == pool],
        )


@pytest.mark.parametrize(("stack", "pool"), GPU_POOLS)
def test_a_cpu_limit_below_one_node_or_at_one_node_fails_the_journeys(
    stack: str, pool: str
) -> None:
    """The journeys can fail: with the pool's CPU limit one vCPU below its family's smallest
    instance nothing of that family launches, and with a CPU limit that fits one full node (a
    p5 pool with limits.cpu 192) the pool stops one node in, short of a GPU limit that needs
    more nodes."""
    np = nodepool(stack, pool)
    for family in families(np):
        vcpus = min(t.vcpus for t in pool_types(np) if t.family == family)
        below = with_limits(stack, pool, cpu=str(vcpus - 1))
        found = launch(pod(np, family, {"cpu": "100m"}), 1, below)
        assert (found.nodes, found.limited.get(pool)) == ([], "cpu"), family
        first = fill(launch_cluster(stack), np, family).nodes[0]
        one = with_limits(stack, pool, cpu=str(first.type.vcpus))
        stopped = fill(one, np, family)
        assert [n.type.name for n in stopped.nodes] == [first.type.name], family
        assert stopped.pending == gpu_limit(np) + EXTRA - first.pods, family
        if first.pods < gpu_limit(np):  # the limit needs more than one node
            assert gpus(one, stopped) < gpu_limit(np) and stopped.limited[pool] == "cpu", family
