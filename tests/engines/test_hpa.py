"""The hpa engine on prod's support agent with the contract changed: what KEDA and Kubernetes do
without it, with a window shorter than the period, and with the rollout knobs a StatefulSet
has. Each case shows an outcome the journeys (tests/journeys/test_agent_scaling.py) rule out,
so they can fail."""

from __future__ import annotations

import copy
from typing import Any

from substrate.engines import hpa
from tests.helpers import require_engine
from tests.journeys.agent_timelines import agent, new_release

LOAD = [1_000_000.0]


def support() -> tuple[dict[str, Any], dict[str, Any]]:
    require_engine("hpa")
    a = agent("prod", "support")
    assert a.scaled_object is not None
    return copy.deepcopy(a.stateful_set), copy.deepcopy(a.scaled_object)


def burst_then_quiet(stateful_set: dict[str, Any], scaled_object: dict[str, Any]) -> hpa.Timeline:
    return hpa.simulate(
        stateful_set,
        scaled_object,
        replicas=2,
        metrics=[(0, LOAD), (300, [0.0])],
        duration_seconds=1500,
    )


def test_the_hpa_is_the_one_keda_creates_from_the_scaled_object() -> None:
    sts, so = support()
    got = burst_then_quiet(sts, so).hpa
    assert got is not None
    assert got["metadata"]["name"] == "keda-hpa-support"
    assert (got["spec"]["minReplicas"], got["spec"]["maxReplicas"]) == (2, 8)
    (metric,) = got["spec"]["metrics"]
    assert metric["external"]["metric"] == {
        "name": "s0-prometheus",
        "selector": {"matchLabels": {"scaledobject.keda.sh/name": "support"}},
    }
    assert metric["external"]["target"] == {"type": "AverageValue", "averageValue": "25"}
    behavior = got["spec"]["behavior"]
    rendered = so["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"]
    assert behavior["scaleDown"] == {**rendered, "selectPolicy": "Max"}
    # What the API server's defaulting adds: Kubernetes' scale-up rules.
    assert behavior["scaleUp"]["stabilizationWindowSeconds"] == 0
    assert {p["type"]: p["value"] for p in behavior["scaleUp"]["policies"]} == {
        "Pods": 4,
        "Percent": 100,
    }


def test_without_the_contract_the_hpa_removes_every_extra_replica_at_once() -> None:
    """KEDA passes no behavior when `advanced` is absent: Kubernetes' defaults (a 300 s window
    and no scale-down rate) cut six sessions in one step, as issue 14 says."""
    sts, so = support()
    del so["spec"]["advanced"]
    t = burst_then_quiet(sts, so)
    assert t.hpa is not None and "behavior" not in t.hpa["spec"]
    down = [e for e in t.of("rescale") if e.replicas_to == 2]
    assert [(e.at, e.replicas_from) for e in down] == [(585, 8)]
    assert {e.at for e in t.deletions("scale-down")} == {585}
    assert len(t.deletions("scale-down")) == 6


def test_a_window_shorter_than_the_period_lets_a_burst_go_at_once() -> None:
    """The HPA counts the replicas of the scale-ups it still keeps within the period against
    "1 pod per period": with a 1800 s period and a 600 s window, the burst 2 -> 6 -> 8 (the HPA
    keeps the last scale-up, +2) is answered by 8 -> 5 in one step. The contract's window is
    therefore at least the period (AgentConfig.scale_down_window)."""
    sts, so = support()
    down = so["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"]
    down["stabilizationWindowSeconds"], down["policies"][0]["periodSeconds"] = 600, 1800
    t = burst_then_quiet(sts, so)
    assert [(e.at, e.replicas_from, e.replicas_to) for e in t.of("rescale")] == [
        (0, 2, 6),
        (15, 6, 8),
        (885, 8, 5),
    ]
    assert {e.object for e in t.deletions("scale-down")} == {"support-7", "support-6", "support-5"}


def test_max_unavailable_is_ignored_and_a_partition_holds_lower_ordinals() -> None:
    """MaxUnavailableStatefulSet is off by default (beta, 1.35 and 1.36): maxUnavailable 2 still
    replaces one pod at a time. A partition keeps the ordinals below it on the old revision."""
    sts, so = support()
    nxt = new_release(sts)
    nxt["spec"]["updateStrategy"] = {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 2, "partition": 1},
    }
    t = hpa.simulate(
        sts, so, replicas=3, metrics=[(0, [75.0])], rollout=(60, nxt), duration_seconds=1200
    )
    deleted = t.deletions("rollout")
    assert [e.object for e in deleted] == ["support-2", "support-1"]
    assert deleted[1].at > (t.gone(deleted[0].uid) or 0)
    final = {p["name"]: p["revision"] for p in t.snapshots[-1].pods}
    assert final["support-0"] != final["support-1"] == final["support-2"]


def test_with_delete_retention_a_scaled_down_claim_goes_with_its_pod() -> None:
    """`memoryVolume.retain: false` renders Delete: the StatefulSet controller makes the
    condemned pod the claim's owner (the garbage collector then deletes it)."""
    sts, so = support()
    sts["spec"]["persistentVolumeClaimRetentionPolicy"] = {
        "whenDeleted": "Delete",
        "whenScaled": "Delete",
    }
    t = burst_then_quiet(sts, so)
    owned = {e.object: e.owners for e in t.of("claimOwners") if e.at >= 300}
    deleted = [e.object for e in t.deletions("scale-down")]
    assert deleted == ["support-7", "support-6", "support-5"]
    assert owned == {f"memory-{pod}": (f"Pod/{pod}",) for pod in deleted}


def test_with_delete_retention_a_lost_node_still_leaves_the_claim_but_the_set_owns_it() -> None:
    """Node loss is not a scale-down: with Delete/Delete (`retain: false`) the replica whose
    node is lost comes back with its claim too, but the StatefulSet owns every claim, so they
    go when the set is deleted. This is what the node-loss journey's "no owner" rules out."""
    sts, so = support()
    sts["spec"]["persistentVolumeClaimRetentionPolicy"] = {
        "whenDeleted": "Delete",
        "whenScaled": "Delete",
    }
    t = hpa.simulate(
        sts,
        so,
        replicas=2,
        metrics=[(0, [50.0])],
        node_loss=[(120, "support-1")],
        duration_seconds=240,
    )
    assert [(e.object, e.reason, e.grace_seconds) for e in t.of("podDeleted")] == [
        ("support-1", "DeletionByPodGC", 0)
    ]
    mounted = [e.claims for e in t.of("podCreated") if e.object == "support-1"]
    assert len(mounted) == 2 and mounted[0] == mounted[1]
    assert {e.owners for e in t.of("claimOwners")} == {("StatefulSet/support",)}
