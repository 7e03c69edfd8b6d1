"""Scale-down and rollout of the stacks' agents as Kubernetes' own HPA and StatefulSet
controllers perform them (hpa engine), against the drain contract in the stack's data."""

from __future__ import annotations

import itertools

import pytest

from substrate.engines.hpa import Event, Timeline
from tests.journeys.agent_timelines import (
    DEPLOYED,
    DROP_AT,
    ROLLOUT_AT,
    SCALED,
    SYNC_SECONDS,
    Agent,
    agent,
    drained_by,
    rollout,
    scale_down_and_up,
)
from tests.journeys.journey import journey

DOCS = ["docs/agents.md#how-memory-survives-restarts-and-drains"]


def ordinal(pod: str) -> int:
    return int(pod.rsplit("-", 1)[1])


def pre_stop(a: Agent) -> tuple[str, ...]:
    """The preStop call the contract states (`drain.preStopPath`), if any."""
    path = a.config.drain.pre_stop_path
    return (path,) if path else ()


def downs(t: Timeline) -> list[Event]:
    return [e for e in t.of("rescale") if (e.replicas_to or 0) < (e.replicas_from or 0)]


@journey(
    user="tenant engineer of the agents tenant, whose sessions fall off after a busy hour",
    stack="staging, prod",
    steps=[
        "the agent's trigger asks for more than maxReplicas: the HPA KEDA made scales it up",
        "the load drops to nothing",
        "the HPA and the StatefulSet controller scale the agent down to minReplicas",
    ],
    outcome="nothing is removed until drain.scaleDownStabilizationSeconds (or the scale-down "
    "period, when longer) after the HPA last saw the load; then "
    "one replica at a time, the highest ordinal first, at least the contract's scale-down period "
    "apart; each deleted pod has the contract's preStop call and gets terminationGraceSeconds, "
    "and is gone before the next is asked to leave",
    docs=DOCS,
)
@pytest.mark.parametrize(("stack", "name"), SCALED)
def test_scale_down_removes_one_replica_at_a_time(stack: str, name: str) -> None:
    a = agent(stack, name)
    t = scale_down_and_up(stack, name)
    peak = max(s.replicas for s in t.snapshots if s.at < DROP_AT)
    assert peak == a.config.max_replicas
    removals = [e for e in downs(t) if e.at < drained_by(a) + a.config.scale_down_period]
    assert [(e.replicas_from, e.replicas_to) for e in removals] == [
        (n, n - 1) for n in range(a.config.max_replicas, a.hpa_min, -1)
    ]
    # The HPA last saw the load one sync before the drop; the window runs from there.
    seen = DROP_AT - SYNC_SECONDS
    window = a.config.scale_down_window
    assert window >= a.config.drain.scale_down_stabilization_seconds
    assert seen + window <= removals[0].at <= seen + window + SYNC_SECONDS
    gaps = [b.at - e.at for e, b in itertools.pairwise(removals)]
    assert all(gap >= a.config.scale_down_period for gap in gaps), gaps
    deleted = t.deletions("scale-down")
    assert [ordinal(e.object) for e in deleted] == list(
        range(a.config.max_replicas - 1, a.hpa_min - 1, -1)
    )
    assert {e.grace_seconds for e in deleted} == {a.config.termination_grace_seconds}
    assert {e.pre_stop for e in deleted} == {pre_stop(a)}
    for e, nxt in itertools.pairwise(deleted):
        gone = t.gone(e.uid)
        assert gone is not None and gone <= nxt.at, (e.object, gone, nxt.object, nxt.at)


@journey(
    user="tenant engineer of the agents tenant",
    stack="staging, prod",
    steps=[
        "the agent is scaled down to minReplicas after a busy hour",
        "load returns and the HPA scales it back to maxReplicas",
    ],
    outcome="the claims of the removed replicas stay (Retain: no owner is set on them); each "
    "re-created replica n mounts the very claim replica n had before; no claim is created twice",
    docs=DOCS,
)
@pytest.mark.parametrize(("stack", "name"), SCALED)
def test_a_replica_scaled_back_up_gets_its_own_memory(stack: str, name: str) -> None:
    a = agent(stack, name)
    assert a.config.memory_volume.retain
    t = scale_down_and_up(stack, name)
    assert t.of("claimOwners") == []
    created = t.of("claimCreated")
    assert len(created) == len({e.object for e in created}) == a.config.max_replicas
    first: dict[str, dict[str, str]] = {}
    again = 0
    for pod in t.of("podCreated"):
        assert pod.claims is not None
        if pod.object in first:
            assert dict(pod.claims) == first[pod.object], pod.object
            again += 1
        else:
            first[pod.object] = dict(pod.claims)
    assert again == a.config.max_replicas - a.hpa_min
    assert t.snapshots[-1].replicas == a.config.max_replicas


@journey(
    user="platform engineer running `pulumi up` with a new agent image",
    stack="staging, prod",
    steps=[
        "the agent runs at a steady count (its minimum, at least two with scaling)",
        "the StatefulSet's pod template changes (new image); the HPA keeps the count",
        "the StatefulSet controller rolls the replicas",
    ],
    outcome="one replica at a time, from the highest ordinal down: a replacement is created "
    "when its predecessor is gone, and the next is deleted only once it is Ready; each deleted "
    "pod has the contract's preStop call and gets "
    "terminationGraceSeconds; each replacement mounts its predecessor's claim; the count never "
    "changes",
    docs=DOCS,
)
@pytest.mark.parametrize(("stack", "name"), DEPLOYED)
def test_a_rollout_replaces_one_replica_at_a_time(stack: str, name: str) -> None:
    a = agent(stack, name)
    t = rollout(stack, name)
    replicas = t.snapshots[0].replicas
    assert t.of("rescale") == [] and t.of("hpaError") == []
    deleted = t.deletions("rollout")
    assert [ordinal(e.object) for e in deleted] == list(range(replicas - 1, -1, -1))
    assert deleted[0].at == ROLLOUT_AT
    assert {e.grace_seconds for e in deleted} == {a.config.termination_grace_seconds}
    assert {e.pre_stop for e in deleted} == {pre_stop(a)}
    created = {e.object: e for e in t.of("podCreated") if e.at >= ROLLOUT_AT}
    ready = {e.object: e.at for e in t.of("podReady") if e.at >= ROLLOUT_AT}
    for e in deleted:
        # The replacement has the old pod's name: it exists only once the old one is gone.
        assert created[e.object].at == t.gone(e.uid), e.object
    for e, nxt in itertools.pairwise(deleted):
        assert ready[e.object] <= nxt.at, (e.object, ready[e.object], nxt.object, nxt.at)
    original = {e.object: e.claims for e in t.of("podCreated") if e.at < ROLLOUT_AT}
    assert {p: created[p].claims for p in original} == original
    assert len({created[p].revision for p in original}) == 1
    for s in t.snapshots:
        assert sum(1 for p in s.pods if not p["ready"]) <= 1 or s.at < ROLLOUT_AT
