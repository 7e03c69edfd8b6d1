"""Node auto repair, from the Karpenter v1.14 Disruption page ("Node Auto Repair": the kubelet
and node monitoring agent condition tables, the 20% guard; "Pod-Level Controls": do-not-disrupt
does not exclude node repair) and the health controller's own example (three nodes, one may be
unhealthy)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from substrate.engines.karpenter.disruption import Cluster
from substrate.engines.karpenter.model import Pod
from substrate.engines.karpenter.repair import gate_on, pool_healthy, unhealthy
from tests.engines.karpenter.objects import T0, cluster, node, nodeclass, nodepool

M = timedelta(minutes=1)
PROTECTED = {"karpenter.sh/do-not-disrupt": "true"}


def repairing(nodes: int, **template: Any) -> Cluster:
    c = cluster(nodepool(**template), nodeclass())
    c.node_repair = True
    for i in range(nodes):
        pod = Pod(f"w{i}", "job", dict(PROTECTED), T0, None, grace_seconds=600, replicated=True)
        node(c, f"n{i}", pod)
    return c


def sick(c: Cluster, name: str, condition: str, status: str, at: datetime = T0) -> None:
    c.claim(name).conditions[condition] = (status, at)


def terminated(c: Cluster, name: str) -> datetime | None:
    return next((e.at for e in c.events if e.kind == "Terminated" and e.node == name), None)


@pytest.mark.parametrize(
    ("condition", "status", "toleration"),
    [
        ("Ready", "False", 30),
        ("Ready", "Unknown", 30),
        ("AcceleratedHardwareReady", "False", 10),
        ("StorageReady", "False", 30),
        ("NetworkingReady", "False", 30),
        ("KernelReady", "False", 30),
        ("ContainerRuntimeReady", "False", 30),
    ],
)
def test_a_node_is_repaired_when_its_condition_outlasts_the_toleration(
    condition: str, status: str, toleration: int
) -> None:
    c = repairing(5)
    sick(c, "n0", condition, status)
    c.run(T0, T0 + 2 * toleration * M)
    assert terminated(c, "n0") == T0 + toleration * M
    assert [e.detail for e in c.events if e.kind == "Disrupting"] == [f"Unhealthy/{condition}"]


@pytest.mark.parametrize(
    ("condition", "status"),
    [("Ready", "True"), ("AcceleratedHardwareReady", "True"), ("MemoryPressure", "True")],
)
def test_healthy_or_unlisted_conditions_never_repair(condition: str, status: str) -> None:
    c = repairing(5)
    sick(c, "n0", condition, status)
    c.run(T0, T0 + 120 * M)
    assert terminated(c, "n0") is None


def test_the_condition_whose_toleration_ends_first_decides() -> None:
    assert unhealthy({"Ready": ("Unknown", T0), "AcceleratedHardwareReady": ("False", T0)}) == (
        unhealthy({"AcceleratedHardwareReady": ("False", T0)})
    )
    later = unhealthy({"Ready": ("False", T0), "KernelReady": ("False", T0 + 5 * M)})
    assert later is not None and (later.condition, later.due) == ("Ready", T0 + 30 * M)


def test_do_not_disrupt_and_grace_periods_do_not_delay_repair() -> None:
    """Repair bypasses drain and grace periods: the protected pod of a pool with a 24 h
    terminationGracePeriod is deleted when the toleration ends, and a replacement node
    takes the recreated pod."""
    c = repairing(5, terminationGracePeriod="24h")
    sick(c, "n0", "AcceleratedHardwareReady", "False")
    c.run(T0, T0 + 30 * M)
    (deleted,) = [e for e in c.events if e.kind == "PodDeleted"]
    assert (deleted.node, deleted.at, deleted.detail) == ("n0", T0 + 10 * M, "w0 (node repair)")
    new = c.claim(str(c.claim("n0").replaced_by))
    assert new.live and [p.name for p in new.pods] == ["w0"]


def test_three_nodes_one_unhealthy_is_repaired() -> None:
    """ "Given a NodePool with three nodes, one may be unhealthy" (20% of 3, rounded up)."""
    c = repairing(3)
    sick(c, "n0", "Ready", "False")
    c.run(T0, T0 + 40 * M)
    assert terminated(c, "n0") == T0 + 30 * M


def test_more_than_20_percent_unhealthy_blocks_repair_until_the_pool_recovers() -> None:
    """Five nodes, two unhealthy (> 1 = 20% of 5): nothing is repaired and Karpenter looks again
    every 5 minutes; once one recovers, the other is repaired at the next look."""
    c = repairing(5)
    sick(c, "n0", "AcceleratedHardwareReady", "False")
    sick(c, "n1", "AcceleratedHardwareReady", "False", T0 + M)
    c.run(T0, T0 + 60 * M)
    assert terminated(c, "n0") is None and terminated(c, "n1") is None
    blocked = [e.at for e in c.events if e.kind == "NodeRepairBlocked" and e.node == "n0"]
    assert blocked[:3] == [T0 + 10 * M, T0 + 15 * M, T0 + 20 * M]
    sick(c, "n1", "AcceleratedHardwareReady", "True", T0 + 61 * M)
    c.run(T0 + 61 * M, T0 + 70 * M)
    assert terminated(c, "n0") == T0 + 65 * M and terminated(c, "n1") is None


def test_pool_health_counts_matching_conditions_whatever_their_age() -> None:
    fresh = {"Ready": ("False", T0)}
    assert pool_healthy([fresh, {}, {}, {}, {}])
    assert not pool_healthy([fresh, fresh, {}, {}, {}])
    assert pool_healthy([fresh, fresh] + [{}] * 8)  # 2 of 10 is 20%


def test_without_the_feature_gate_nothing_is_repaired() -> None:
    c = repairing(5)
    c.node_repair = False
    sick(c, "n0", "Ready", "False")
    c.run(T0, T0 + 120 * M)
    assert terminated(c, "n0") is None


def test_the_feature_gate_as_the_chart_renders_it() -> None:
    chart = "ReservedCapacity=true,SpotToSpotConsolidation=false,NodeRepair={},NodeOverlay=true"
    assert gate_on(chart.format("true")) and gate_on(chart.format("True"))
    assert not gate_on(chart.format("false")) and not gate_on("ReservedCapacity=true")
