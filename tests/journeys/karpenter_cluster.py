"""A running cluster for the disruption journeys: Karpenter's NodePools and EC2NodeClasses from a
stack's plan, nodes launched from them, workloads on those nodes; then a changed stack file
planned the same way and applied, and the disruption model (substrate.engines.karpenter)
deciding what Karpenter does over the following week."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from substrate.config import stack_file_config
from substrate.engines.karpenter import launch as karpenter_launch
from substrate.engines.karpenter.disruption import Cluster, Event
from substrate.engines.karpenter.model import Instance, Pod, launch
from substrate.plan.command import program_of
from substrate.plan.manifests import render_manifests
from substrate.plan.runner import run_under_mocks
from substrate.project import find_project
from tests.conftest import planned
from tests.helpers import ROOT, stack_yaml, typed_config

Manifests = Mapping[str, Mapping[str, Any]]
MONDAY = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
"""When the change is applied: Monday 12:00 UTC, outside every prod window."""
P5 = Instance("p5.48xlarge", "p5", {"nvidia.com/gpu": 8}, gpu_variant="nvidia")
P4D = Instance("p4d.24xlarge", "p4d", {"nvidia.com/gpu": 8}, gpu_variant="nvidia")
G6E = Instance("g6e.12xlarge", "g6e", {"nvidia.com/gpu": 4}, gpu_variant="nvidia")
TRAINING_POD = {"karpenter.sh/do-not-disrupt": "true"}
"""What R33 admission requires of `substrate.io/workload-class: training` pods."""


def objects(manifests: Manifests, kind: str) -> dict[str, Mapping[str, Any]]:
    return {m["metadata"]["name"]: m for m in manifests.values() if m.get("kind") == kind}


_VARIANTS: dict[tuple[str, str], Manifests] = {}


def planned_variant(stack: str, name: str, change: Callable[[dict[str, Any]], object]) -> Manifests:
    """The manifests `substrate plan` renders for the stack file after `change` (cached by
    name): the same program under the same mock engine as the stack's own plan."""
    if (stack, name) not in _VARIANTS:
        raw = stack_yaml(stack)
        change(raw)
        typed = typed_config(raw)  # the edit must be a valid stack file
        records = run_under_mocks(
            program_of(find_project(ROOT)),
            project="substrate",
            stack=stack,
            config=stack_file_config(raw),
            region=typed.region,
            caller=typed.deploy.role,  # as substrate plan runs it (the deployer must be an admin)
        )
        _VARIANTS[stack, name] = render_manifests(records)
    return _VARIANTS[stack, name]


def running_cluster(stack: str, latest_ami: str = "v0") -> Cluster:
    """The stack's pools with, since Monday 08:00: a two-node training job on p5 (30 hours,
    protected as R33 requires), a one-node job on p4d (40 hours), and two inference nodes each
    serving one replica of a Deployment."""
    manifests = planned(stack).manifests
    c = Cluster(objects(manifests, "NodePool"), objects(manifests, "EC2NodeClass"))
    c.latest_ami = latest_ami
    start = MONDAY - timedelta(hours=1)
    workloads = [
        (
            "train-1",
            "training",
            P5,
            Pod(
                "pretrain-0",
                "pretrain",
                TRAINING_POD,
                start,
                start + timedelta(hours=30),
                grace_seconds=600,
            ),
        ),
        (
            "train-2",
            "training",
            P5,
            Pod(
                "pretrain-1",
                "pretrain",
                TRAINING_POD,
                start,
                start + timedelta(hours=30),
                grace_seconds=600,
            ),
        ),
        (
            "train-3",
            "training",
            P4D,
            Pod(
                "eval-0",
                "eval",
                TRAINING_POD,
                start,
                start + timedelta(hours=40),
                grace_seconds=600,
            ),
        ),
        ("inf-1", "inference", G6E, Pod("llm-a", "llm", {}, start, None, replicated=True)),
        ("inf-2", "inference", G6E, Pod("llm-b", "llm", {}, start, None, replicated=True)),
    ]
    for name, pool, instance, pod in workloads:
        nodepool = c.nodepools[pool]
        nodeclass = c.nodeclasses[nodepool["spec"]["template"]["spec"]["nodeClassRef"]["name"]]
        claim = launch(
            name,
            nodepool,
            nodeclass,
            instance,
            start - timedelta(minutes=5),
            zone="us-east-1a",
            latest_ami=latest_ami,
        )
        claim.pods.append(pod)
        c.add(claim)
    return c


def after_change(stack: str, manifests: Manifests, latest_ami: str = "v0") -> Cluster:
    """Apply the changed stack's Karpenter objects on Monday 12:00 and run Karpenter for a
    week."""
    c = running_cluster(stack, latest_ami)
    c.apply(objects(manifests, "NodePool"), objects(manifests, "EC2NodeClass"))
    c.run(MONDAY, MONDAY + timedelta(days=7))
    return c


def drifted(c: Cluster) -> dict[str, str]:
    """Node -> the drift reason Karpenter first recorded."""
    out: dict[str, str] = {}
    for e in c.of_kind("Drifted"):
        out.setdefault(e.node, e.detail)
    return out


def when(c: Cluster, kind: str, node: str) -> datetime | None:
    return next((e.at for e in c.events if e.kind == kind and e.node == node), None)


def interrupted(c: Cluster, owner_prefix: str) -> list[Event]:
    """Pods of the workload removed before they completed (evicted or deleted)."""
    return [
        e
        for e in c.events
        if e.kind in ("Evicted", "PodDeleted") and e.detail.startswith(owner_prefix)
    ]


@cache
def launch_cluster(stack: str) -> karpenter_launch.Cluster:
    """The stack's NodePools, EC2NodeClasses and DaemonSets as Karpenter's launch model takes
    them (zones: the stack's subnets')."""
    manifests = planned(stack).manifests.values()
    kinds = {
        k: [m for m in manifests if m.get("kind") == k]
        for k in ("NodePool", "EC2NodeClass", "DaemonSet")
    }
    return karpenter_launch.Cluster(
        kinds["NodePool"],
        {str(c["metadata"]["name"]): c for c in kinds["EC2NodeClass"]},
        kinds["DaemonSet"],
        typed_config(stack_yaml(stack)).network.availability_zones,
    )
