"""Disruption and termination over time, from the Karpenter v1.14 Disruption page: "Controls"
(TerminationGracePeriod, NodePool Disruption Budgets, Pod-Level Controls, Node-Level Controls),
"Automated Graceful Methods" (Consolidation, Drift), "Automated Forceful Methods" (Expiration)."""

from __future__ import annotations

from datetime import timedelta

from substrate.engines.karpenter.disruption import Cluster, Event
from substrate.engines.karpenter.model import Pod
from tests.engines.karpenter.objects import T0, changed, cluster, node, nodeclass, nodepool

H = timedelta(hours=1)
PROTECTED = {"karpenter.sh/do-not-disrupt": "true"}


def job_pod(name: str, hours: float | None = None, **annotations: str) -> Pod:
    finishes = None if hours is None else T0 + timedelta(hours=hours)
    return Pod(name, "job", dict(annotations or PROTECTED), T0, finishes, grace_seconds=300)


def drifted(c: Cluster) -> None:
    """Edit a hashed EC2NodeClass field (tags) at T0: every node drifts."""
    nc = c.nodeclasses["default"]
    c.apply(c.nodepools, {"default": changed(nc, tags={"cost-center": "new"})})


def kinds(c: Cluster, node_name: str) -> list[str]:
    return [e.kind for e in c.events if e.node == node_name]


def first(c: Cluster, kind: str, node_name: str) -> Event:
    return next(e for e in c.events if e.kind == kind and e.node == node_name)


def test_do_not_disrupt_blocks_drift_without_termination_grace_period() -> None:
    """ "Nodes with active karpenter.sh/do-not-disrupt pods will be excluded from Consolidation,
    and conditionally excluded from Drift" - excluded when no terminationGracePeriod."""
    c = cluster(nodepool(), nodeclass())
    node(c, "n1", job_pod("worker", hours=10))
    drifted(c)
    c.run(T0, T0 + 9 * H)
    assert "Disrupting" not in kinds(c, "n1")
    blocked = first(c, "DisruptionBlocked", "n1")
    assert blocked.detail == 'pod has "karpenter.sh/do-not-disrupt" annotation'


def test_termination_grace_period_lets_drift_delete_a_protected_pod_55_minutes_in() -> None:
    """The docs' example: a node with a 1 hour terminationGracePeriod begins to drain; a
    do-not-disrupt pod with a 300 s terminationGracePeriodSeconds still running 55 minutes later
    is deleted."""
    c = cluster(nodepool(terminationGracePeriod="1h"), nodeclass())
    node(c, "n1", job_pod("worker", hours=10))
    drifted(c)
    c.run(T0, T0 + 3 * H)
    disrupting = first(c, "Disrupting", "n1")
    deleted = first(c, "PodDeleted", "n1")
    replacement = c.claim("default-r1")
    drain_start = replacement.initialized
    assert disrupting.at == T0 and drain_start is not None
    assert deleted.at == drain_start + timedelta(minutes=55)
    assert deleted.detail == "worker (terminationGracePeriod)"


def test_a_pod_grace_period_longer_than_the_node_s_is_deleted_when_the_drain_starts() -> None:
    c = cluster(nodepool(terminationGracePeriod="1h"), nodeclass())
    pod = job_pod("worker", hours=10)
    pod.grace_seconds = 7200
    node(c, "n1", pod)
    drifted(c)
    c.run(T0, T0 + 2 * H)
    drain_start = c.claim("default-r1").initialized
    assert first(c, "PodDeleted", "n1").at == drain_start


def test_duration_protection_expires() -> None:
    """ "karpenter.sh/do-not-disrupt: "30m"" protects for 30 minutes after the pod starts."""
    c = cluster(nodepool(), nodeclass())
    node(c, "n1", job_pod("worker", 10, **{"karpenter.sh/do-not-disrupt": "30m"}))
    drifted(c)
    c.run(T0, T0 + H)
    assert first(c, "Disrupting", "n1").at == T0 + timedelta(minutes=30)


def test_a_node_annotation_blocks_voluntary_disruption() -> None:
    """Node-Level Controls: karpenter.sh/do-not-disrupt: "true" on the node."""
    c = cluster(nodepool(terminationGracePeriod="1h"), nodeclass())
    node(c, "n1").node_annotations["karpenter.sh/do-not-disrupt"] = "true"
    drifted(c)
    c.run(T0, T0 + 3 * H)
    assert "Disrupting" not in kinds(c, "n1") and "Terminated" not in kinds(c, "n1")


def test_a_blocking_pdb_blocks_drift_unless_termination_grace_period() -> None:
    """Pods with blocking PDBs are not considered for voluntary disruption;
    terminationGracePeriod lets drift proceed regardless (Controls, TerminationGracePeriod)."""
    serving = Pod("api", "api", {}, T0, None, pdb_blocks=True, replicated=True)
    c = cluster(nodepool(), nodeclass())
    node(c, "n1", serving)
    drifted(c)
    c.run(T0, T0 + 2 * H)
    assert first(c, "DisruptionBlocked", "n1").detail == "pdb prevents pod evictions"
    c = cluster(nodepool(terminationGracePeriod="1h"), nodeclass())
    node(c, "n1", Pod("api", "api", {}, T0, None, pdb_blocks=True, replicated=True))
    drifted(c)
    c.run(T0, T0 + 2 * H)
    assert "Terminated" in kinds(c, "n1")


def test_a_zero_budget_stops_drift_but_not_expiry() -> None:
    """ "NodePool Disruption Budgets do not prevent Karpenter from terminating expired nodes"."""
    np = nodepool(budgets=[{"nodes": "0"}], expireAfter="2h")
    c = cluster(np, nodeclass())
    node(c, "n1")
    drifted(c)
    c.run(T0, T0 + 3 * H)
    assert first(c, "DisruptionBlocked", "n1").detail == "budget allows no Drifted disruption"
    assert first(c, "Expired", "n1").at == T0 + 2 * H
    assert first(c, "Terminated", "n1").at == T0 + 2 * H


def test_expiry_with_a_protected_pod_and_no_grace_period_never_finishes() -> None:
    """The Expiration warning: without terminationGracePeriod, do-not-disrupt pods block the
    drain indefinitely (the node stays, partially drained)."""
    c = cluster(nodepool(expireAfter="2h"), nodeclass())
    node(c, "n1", job_pod("worker"))
    c.run(T0, T0 + 48 * H)
    assert first(c, "Expired", "n1").at == T0 + 2 * H
    assert "Terminated" not in kinds(c, "n1")


def test_an_empty_node_goes_consolidate_after_its_last_pod_left() -> None:
    """consolidateAfter: a node becomes a candidate once stable for the full duration after the
    last pod was added or removed; WhenEmpty only deletes empty nodes."""
    c = cluster(nodepool(consolidate_after="1h"), nodeclass())
    node(c, "n1", job_pod("worker", hours=3))
    c.run(T0, T0 + 6 * H)
    assert first(c, "Completed", "n1").at == T0 + 3 * H
    assert first(c, "Terminated", "n1").at == T0 + 4 * H


def test_consolidate_after_never_disables_consolidation() -> None:
    c = cluster(nodepool(consolidate_after="Never"), nodeclass())
    node(c, "n1")
    c.run(T0, T0 + 24 * H)
    assert "Terminated" not in kinds(c, "n1")


def test_drift_replaces_one_node_at_a_time_within_the_budget() -> None:
    """Drift disrupts candidates one command at a time, each counting against the budget while
    it is being replaced (a budget of "1" keeps a second drifted node waiting)."""
    c = cluster(nodepool(budgets=[{"nodes": "1"}], terminationGracePeriod="1h"), nodeclass())
    for name in ("n1", "n2"):
        node(c, name, Pod(f"api-{name}", "api", {}, T0, None, replicated=True))
    c.startup = timedelta(minutes=10)
    drifted(c)
    c.run(T0, T0 + 2 * H)
    starts = sorted(e.at for e in c.of_kind("Disrupting"))
    first_gone = first(c, "Terminated", "n1").at
    assert starts[0] == T0 and first_gone == T0 + timedelta(minutes=10)
    assert first_gone < starts[1] <= first_gone + timedelta(minutes=1)
    assert first(c, "DisruptionBlocked", "n2").detail == "budget allows no Drifted disruption"
