"""Changing a stack's tenants and Kueue integrations: adding a tenant (refused until the pools
fit, then queued), and why the statefulset integration is refused in a stack with agents."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from substrate.components.workloads.tenancy import format_bytes, memory_bytes
from substrate.config import ConfigError
from substrate.config.quota_checks import DefaultFlavorOvercommitError
from substrate.engines.kueue import Ref, Step
from tests.helpers import stack_yaml, typed_config
from tests.journeys import queue_objects as q
from tests.journeys.journey import journey
from tests.journeys.queues import plan_with, queue_stack

ADDING = "docs/workloads.md#adding-a-tenant"
MEMORY = "1Gi"


# -- adding a tenant -----------------------------------------------------------------------------
VISION = {
    "namespaces": ["vision"],
    "gpu": True,
    "tier": "batch",
    "quota": {"cpu": 8, "memory": "32Gi"},
    "gpus": {"inference": {"nominal": 2}},
    "largestGang": {"pods": 2, "cpu": "2", "memory": "8Gi", "gpus": 1},
}


def _with_vision() -> dict[str, Any]:
    raw = stack_yaml("dev")
    raw["substrate:tenants"]["vision"] = copy.deepcopy(VISION)
    return raw


@journey(
    user="platform engineer adding tenant vision to dev",
    stack="dev",
    steps=[
        "add vision under substrate:tenants (8 CPUs, 32Gi, 2 units of the inference pool: "
        "nvidia.com/gpu.shared slices on dev, where it is time-sliced)",
        "make plan: refused, naming the general pool's CPU limit",
        "raise substrate:nodePools.general.limits to fit (72 CPUs, 288Gi)",
        "make plan: no mandatory violation; an engineer of vision submits a GPU Job "
        "without a queue label",
    ],
    outcome="the first plan fails with DefaultFlavorOvercommitError; the second plans "
    "vision's namespace, ClusterQueue and LocalQueues vision and default, and Kueue admits "
    "the Job on vision's ClusterQueue on the inference flavor",
    docs=[ADDING],
)
def test_adding_a_tenant() -> None:
    raw = _with_vision()
    with pytest.raises(DefaultFlavorOvercommitError) as refused:
        typed_config(raw)
    assert str(refused.value).startswith("substrate:nodePools.general.limits.cpu = 64: is below")
    limits = raw["substrate:nodePools"]["general"]["limits"]
    limits["cpu"] += VISION["quota"]["cpu"]
    limits["memory"] = format_bytes(memory_bytes(limits["memory"]) + memory_bytes("32Gi"))
    plan = plan_with("dev", raw)
    assert plan.mandatory == []
    queues = {
        (m["metadata"].get("namespace"), m["metadata"]["name"])
        for m in plan.manifests.values()
        if m["kind"] in ("ClusterQueue", "LocalQueue")
    }
    assert {(None, "vision"), ("vision", "vision"), ("vision", "default")} <= queues
    s = queue_stack("dev").with_plan(plan, typed_config(raw))
    unit = s.unit("inference")
    job = q.job("detect", "vision", {"cpu": "2", "memory": "8Gi", unit: "1"})
    (step,) = s.play([Step("vision submits a GPU Job", submit=[job])])
    wl = step.workload_of("Job", "detect")
    assert wl.admitted and wl.cluster_queue == "vision" and wl.queue == "default"
    assert wl.flavors()["main"][unit] == "inference"


# -- why no statefulset integration with agents ---------------------------------------------------
@journey(
    user="platform engineer enabling the statefulset integration on prod",
    stack="prod",
    steps=[
        "with `statefulset` added to the rendered Configuration, an agent StatefulSet starts "
        "with 2 replicas",
        "KEDA scales it to 3",
        "plan the stack with `statefulset` in substrate:kueue.integrations",
    ],
    outcome="Kueue's StatefulSet webhook refuses the resize (spec.replicas: Invalid value: 3: "
    "field is immutable), and the plan refuses the integration in a stack with agents",
    docs=["docs/workloads.md#kueue", "docs/agents.md#how-it-scales"],
)
def test_kueue_refuses_to_resize_a_statefulset_it_queues() -> None:
    """The reason the plan refuses the statefulset integration in a stack with agents: with it,
    Kueue queues an agent's StatefulSet as one workload and its webhook denies KEDA's resize."""
    s = queue_stack("prod")
    config = s.kueue_config.replace("  - deployment\n", "  - deployment\n  - statefulset\n")
    assert "statefulset" in config
    sts = copy.deepcopy(s.manifests("StatefulSet", "agents")[0])
    name = sts["metadata"]["name"]
    sts["spec"]["replicas"] = 2
    grown = s.with_config(config).play(
        [
            Step("start", submit=[sts]),
            Step("KEDA scales to 3", scale=[Ref("StatefulSet", "agents", name, 3)]),
        ]
    )[1]
    assert grown.rejected == (
        {
            "kind": "StatefulSet",
            "namespace": "agents",
            "name": name,
            "message": "spec.replicas: Invalid value: 3: field is immutable",
        },
    )
    raw = stack_yaml("prod")
    raw["substrate:kueue"]["integrations"].append("statefulset")
    with pytest.raises(ConfigError, match="could not scale"):
        typed_config(raw)
