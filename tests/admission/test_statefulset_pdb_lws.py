"""substrate-statefulset-pdb on a LeaderWorkerSet agrees with its verdicts on the StatefulSets
LWS's controller builds of it: never stricter, and exactly as strict wherever the PDBs select
only labels known when the LeaderWorkerSet is created.

LWS's own code (workload-pods engine) builds the leader and worker StatefulSets of each
LeaderWorkerSet; Kyverno (one server call per PDB set) judges the LeaderWorkerSet and those
StatefulSets together, against the same PodDisruptionBudgets. The grid crosses LeaderWorkerSet
shapes (leader template or not, one-pod groups, no groups) with PDBs selecting the name label,
the template labels, the leader only, some groups, the hash labels LWS sets, and PDBs allowing
no disruption of some StatefulSet.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import pytest

from substrate.components.admission.admission_policies import REFERENCE_SETTINGS, statefulset_pdb
from substrate.engines import kyverno
from substrate.engines.workload_pods import derive
from tests.helpers import require_engine

NS = "ml-research"
LWS = "leaderworkerset.sigs.k8s.io/"
POLICY = statefulset_pdb.build(REFERENCE_SETTINGS)
Object = dict[str, Any]


def template(labels: Mapping[str, str]) -> Object:
    container = {"name": "vllm", "image": "public.ecr.aws/substrate/vllm:0.11.0"}
    return {"metadata": {"labels": dict(labels)}, "spec": {"containers": [container]}}


def lws(name: str, replicas: int, size: int, leader: Mapping[str, str] | None = None) -> Object:
    spec: Object = {"size": size, "workerTemplate": template({"app": "vllm", "role": "worker"})}
    if leader is not None:
        spec["leaderTemplate"] = template(leader)
    return {
        "apiVersion": "leaderworkerset.x-k8s.io/v1",
        "kind": "LeaderWorkerSet",
        "metadata": {"name": name, "namespace": NS, "uid": f"uid-{name}"},
        "spec": {"replicas": replicas, "leaderWorkerTemplate": spec},
    }


SHAPES = {
    "groups": lws("serve", 2, 3),
    "leader-template": lws("serve", 2, 2, {"app": "vllm", "role": "leader"}),
    "leader-template-without-app": lws("serve", 1, 2, {"role": "leader"}),
    "one-pod-groups": lws("serve", 3, 1),
    "no-groups": lws("serve", 0, 2),
}


def pdb(name: str, selector: Object, **spec: Any) -> Object:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": NS},
        "spec": {**spec, "selector": selector},
    }


def expr(key: str, operator: str, *values: str) -> Object:
    out: Object = {"key": key, "operator": operator}
    if values:
        out["values"] = list(values)
    return out


NAMED = {"matchLabels": {LWS + "name": "serve"}}
BUDGETS: dict[str, list[Object]] = {
    "none": [],
    "name": [pdb("p", NAMED, maxUnavailable=1)],
    "name-min-1": [pdb("p", NAMED, minAvailable=1)],
    "name-min-2": [pdb("p", NAMED, minAvailable=2)],
    "name-frozen": [pdb("p", NAMED, maxUnavailable="0%")],
    "app": [pdb("p", {"matchExpressions": [expr("app", "In", "vllm")]}, maxUnavailable=1)],
    "leader-only": [pdb("p", {"matchLabels": {LWS + "worker-index": "0"}}, maxUnavailable=1)],
    "leader-and-group-0": [
        pdb("p", {"matchLabels": {LWS + "worker-index": "0"}}, maxUnavailable=1),
        pdb("q", {"matchExpressions": [expr(LWS + "group-index", "In", "0")]}, maxUnavailable=1),
    ],
    "not-group-1": [
        pdb(
            "p",
            {**NAMED, "matchExpressions": [expr(LWS + "group-index", "NotIn", "1")]},
            minAvailable=1,
        )
    ],
    "workers-frozen-leader-free": [
        pdb("p", {"matchExpressions": [expr(LWS + "group-index", "Exists")]}, maxUnavailable=0),
        pdb("q", {"matchExpressions": [expr(LWS + "worker-index", "Exists")]}, maxUnavailable=1),
    ],
    "revision-exists": [
        pdb(
            "p",
            {"matchExpressions": [expr(LWS + "template-revision-hash", "Exists")]},
            minAvailable=1,
        )
    ],
    "revision-absent": [
        pdb("p", {"matchExpressions": [expr(LWS + "template-revision-hash", "DoesNotExist")]})
    ],
}
HASHED = {"revision-exists", "revision-absent"}
"""Budgets that select on labels whose values LWS computes (the policy takes them as met)."""


@cache
def children() -> dict[str, list[Object]]:
    """The StatefulSets LWS builds of each shape (one engine run)."""
    require_engine("workload-pods")
    derived = derive(list(SHAPES.values()))
    return {
        shape: [dict(s) for s in d.of_kind("StatefulSet")]
        for shape, d in zip(SHAPES, derived, strict=True)
    }


@cache
def verdicts(budget: str) -> dict[str, tuple[bool, dict[str, bool]]]:
    """shape -> (LeaderWorkerSet admitted, StatefulSet name -> admitted), under ``budget``
    (Kyverno's one call for every shape; `resource.List` needs one PDB to exist, so a PDB in
    another namespace stands in for an empty cluster)."""
    require_engine(kyverno.SERVER)
    elsewhere = pdb("elsewhere", NAMED, maxUnavailable=1)
    elsewhere["metadata"]["namespace"] = "team-b"
    out: dict[str, tuple[bool, dict[str, bool]]] = {}
    for shape, obj in SHAPES.items():
        found = kyverno.apply(
            [POLICY],
            [obj, *children()[shape]],
            namespaces=[kyverno.namespace(NS), kyverno.namespace("team-b")],
            cluster=[elsewhere, *BUDGETS[budget]],
        )
        by_kind: dict[str, dict[str, bool]] = {"LeaderWorkerSet": {}, "StatefulSet": {}}
        for v in found:
            assert v.result in {"pass", "fail"}, v
            ok = by_kind[v.kind].setdefault(v.name, True)
            by_kind[v.kind][v.name] = ok and v.result == "pass"
        assert set(by_kind["StatefulSet"]) == {s["metadata"]["name"] for s in children()[shape]}
        out[shape] = (by_kind["LeaderWorkerSet"]["serve"], by_kind["StatefulSet"])
    return out


def test_lws_builds_the_statefulsets_the_grid_expects() -> None:
    sets = {shape: [s["metadata"]["name"] for s in found] for shape, found in children().items()}
    assert sets == {
        "groups": ["serve", "serve-0", "serve-1"],
        "leader-template": ["serve", "serve-0", "serve-1"],
        "leader-template-without-app": ["serve", "serve-0"],
        "one-pod-groups": ["serve"],
        "no-groups": ["serve"],
    }


@pytest.mark.parametrize("budget", BUDGETS)
def test_the_leaderworkerset_is_judged_as_its_statefulsets(budget: str) -> None:
    for shape, (lws_ok, sets) in verdicts(budget).items():
        if budget in HASHED:
            assert lws_ok or not all(sets.values()), (shape, sets)
        else:
            assert lws_ok == all(sets.values()), (shape, sets)


def test_the_grid_has_both_verdicts_for_every_shape() -> None:
    """The grid can tell a policy that admits or refuses everything from the right one."""
    for shape in SHAPES:
        seen = {verdicts(b)[shape][0] for b in BUDGETS}
        assert seen == {True, False}, shape
    partial = [
        (b, shape)
        for b in BUDGETS
        for shape, (_, sets) in verdicts(b).items()
        if True in sets.values() and False in sets.values()
    ]
    assert len(partial) >= 4, partial
