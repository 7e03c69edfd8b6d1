"""A node under an agent replica is lost mid-session: the Node object goes, pod GC's change
follows (the pod Failed and force-deleted) and Kubernetes' own StatefulSet controller brings the
replica back (hpa engine, tools/engines/hpa/nodes.go); Karpenter launches the replacement's node
in its volume's zone (substrate/engines/karpenter: launch with volume topology). Every agent
whose memory the stack retains, on every stack; one engine run per agent, cached."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from substrate.engines import hpa
from substrate.engines.karpenter.launch import Launch, launch
from substrate.engines.karpenter.volumes import ZONE
from tests.conftest import planned
from tests.helpers import STACKS, require_engine, stack_yaml, typed_config
from tests.journeys.agent_timelines import LOAD, START_SECONDS, SYNC_SECONDS, agent
from tests.journeys.journey import journey
from tests.journeys.karpenter_cluster import launch_cluster

DOCS = ["docs/agents.md#how-memory-survives-restarts-and-drains"]
LOSS_AT = 180
"""Mid-session: every replica has been Ready for minutes."""


def _retained(stack: str) -> list[str]:
    """The agents the plan runs as a StatefulSet with a memory claim template and whose stack
    data retains that memory (``memoryVolume.retain``)."""
    manifests = planned(stack).manifests
    agents = typed_config(stack_yaml(stack)).agents
    return [
        name
        for name, cfg in agents.items()
        if cfg.memory_volume.retain
        and (manifests.get(f"agent-{name}/statefulset-{name}.yaml") or {})
        .get("spec", {})
        .get("volumeClaimTemplates")
    ]


RETAINED = [(s, a) for s in STACKS for a in _retained(s)]


def replicas(stack: str, name: str) -> int:
    """The count the agent runs at under load: maxReplicas with scaling, else its replicas."""
    a = agent(stack, name)
    return a.config.max_replicas if a.scaled_object else a.config.replicas or 1


def victim(stack: str, name: str) -> str:
    """The replica whose node is lost: ordinal 1 when there are two or more, so that replica 0
    shows what happens to the others."""
    return f"{name}-{min(1, replicas(stack, name) - 1)}"


@cache
def node_loss(stack: str, name: str) -> hpa.Timeline:
    """The agent busy at its running count (the HPA keeps maxReplicas under a load far above
    every target); the node of one replica is lost at LOSS_AT."""
    require_engine("hpa")
    a = agent(stack, name)
    return hpa.simulate(
        a.stateful_set,
        a.scaled_object,
        replicas=replicas(stack, name),
        metrics=[(0, [LOAD] * a.triggers)] if a.scaled_object else [],
        node_loss=[(LOSS_AT, victim(stack, name))],
        duration_seconds=LOSS_AT + START_SECONDS + 4 * SYNC_SECONDS,
        start_seconds=START_SECONDS,
        sync_seconds=SYNC_SECONDS,
    )


def claims_of(t: hpa.Timeline, pod: str) -> list[dict[str, Any]]:
    """The claims (name -> UID) each incarnation of ``pod`` mounted, in order."""
    return [dict(e.claims or {}) for e in t.of("podCreated") if e.object == pod]


@journey(
    user="tenant engineer of the agents tenant, whose agent replica's node dies mid-session",
    stack="staging, prod (every agent whose memory the stack retains)",
    steps=[
        "the agent runs at its running count, every replica Ready with sessions open",
        "the node under one replica is lost: its Node object is deleted",
        "pod GC and the StatefulSet controller act",
    ],
    outcome="the lost replica's pod is marked Failed (DisruptionTarget DeletionByPodGC) and "
    "force-deleted: grace 0 and no preStop call, so its sessions end with no drain and its "
    "memory is what it had written to its volume; the StatefulSet controller recreates the "
    "replica under the same name on another node, it mounts the very claim (same UID) and is "
    "Ready after its start; no claim is created, deleted or given an owner, and no other "
    "replica is touched",
    docs=DOCS,
)
@pytest.mark.parametrize(("stack", "name"), RETAINED)
def test_a_replica_whose_node_is_lost_comes_back_with_its_memory(stack: str, name: str) -> None:
    t = node_loss(stack, name)
    pod = victim(stack, name)
    (lost,) = t.of("nodeLost")
    first = next(e for e in t.of("podReady") if e.object == pod)
    assert (lost.at, lost.object, lost.node) == (LOSS_AT, pod, first.node)
    # Pod GC: Failed with DisruptionTarget, then a deletion with grace 0; no kubelet, no preStop.
    (deleted,) = t.of("podDeleted")
    assert (deleted.object, deleted.uid, deleted.reason) == (pod, first.uid, "DeletionByPodGC")
    assert (deleted.grace_seconds, deleted.pre_stop) == (0, ())
    assert t.gone(first.uid) == LOSS_AT
    # The StatefulSet controller: the same name, the same claim, on another node.
    again = [e for e in t.of("podCreated") if e.at >= LOSS_AT]
    assert [(e.object, e.at) for e in again] == [(pod, LOSS_AT)]
    before, after = claims_of(t, pod)
    assert after == before and len(before) == 1, (before, after)
    ready = [e for e in t.of("podReady") if e.at > LOSS_AT]
    assert [(e.object, e.uid, e.at) for e in ready] == [
        (pod, again[0].uid, LOSS_AT + START_SECONDS)
    ]
    assert ready[0].node != lost.node
    # Memory: every claim was created once, at the start, and nothing ever owns one.
    assert {e.at for e in t.of("claimCreated")} == {0}
    assert t.of("claimOwners") == []
    assert {s.claims for s in t.snapshots} == {t.snapshots[0].claims}
    # The count and the other replicas: untouched.
    n = replicas(stack, name)
    assert {s.replicas for s in t.snapshots} == {n}
    assert t.snapshots[-1].replicas == n
    assert all(p["ready"] for p in t.snapshots[-1].pods)
    assert len(t.snapshots[-1].pods) == n


EBS_ZONE = "topology.ebs.csi.aws.com/zone"


def ebs_volume(zone: str) -> dict[str, Any]:
    """The PersistentVolume of a claim the EBS CSI driver provisioned in ``zone``: its
    CreateVolume response has one accessible-topology segment with the driver's zone key and
    the well-known one, which the external provisioner writes as one node selector term."""
    exprs = [{"key": k, "operator": "In", "values": [zone]} for k in (EBS_ZONE, ZONE)]
    return {
        "spec": {
            "csi": {"driver": "ebs.csi.aws.com"},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": exprs}]}},
        }
    }


@cache
def replacements(stack: str, name: str) -> tuple[Launch, dict[str, Launch]]:
    """What Karpenter launches for the agent's pod with no volume yet (the first scheduling),
    and for its replacement whose claim is bound to a volume in each zone the first could
    have used."""
    spec = agent(stack, name).stateful_set["spec"]["template"]["spec"]
    cluster = launch_cluster(stack)
    first = launch(spec, 1, cluster)
    zones = first.nodes[0].zones if first.nodes else ()
    return first, {z: launch(spec, 1, cluster, volumes=[ebs_volume(z)]) for z in zones}


@journey(
    user="tenant engineer of the agents tenant, whose agent replica's node dies mid-session",
    stack="staging, prod (every agent whose memory the stack retains)",
    steps=[
        "the replica's first node was launched in one of the stack's zones, and its memory "
        "volume (EBS, zonal) created there",
        "the node is lost; the StatefulSet controller recreates the replica, Pending, with the "
        "same claim",
        "Karpenter launches a node for it",
    ],
    outcome="for every zone the first node could have been in, the replacement's NodeClaim "
    "is in that pool and may launch only in the volume's zone",
    docs=DOCS,
)
@pytest.mark.parametrize(("stack", "name"), RETAINED)
def test_a_replacement_node_is_launched_in_its_volumes_zone(stack: str, name: str) -> None:
    first, again = replacements(stack, name)
    (node,) = first.nodes
    assert set(node.zones) == set(typed_config(stack_yaml(stack)).network.availability_zones)
    assert set(again) == set(node.zones)
    for zone, found in again.items():
        assert [(n.pool, n.zones) for n in found.nodes] == [(node.pool, (zone,))], zone
        assert found.pending == 0
