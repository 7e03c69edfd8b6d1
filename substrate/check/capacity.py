"""The capacity question: can the NodePools of the stack launch nodes for the workload's pods,
which pool and instance type, how many nodes, and is a cheaper pool's node also a fit?

The pods are the ones the engines produced: a job's pods as the job controller created them
from the job Kueue resumed (flavor node selector and tolerations included), pods of
Deployments and StatefulSets as Kueue ungated them, and for kinds whose pods no engine creates
(JobSet, RayJob, RayCluster, LeaderWorkerSet) their pod templates as Kueue admitted the object,
times the replicas each template stands for. The model of what Karpenter launches is
substrate.engines.karpenter.launch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from substrate.check import chain
from substrate.check.chain import Run
from substrate.check.context import Context
from substrate.engines.karpenter import instance_types
from substrate.engines.karpenter import pods as podreq
from substrate.engines.karpenter.launch import Cluster, Launch, cheapest, launch

Spec = Mapping[str, Any]
Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class PodSet:
    name: str
    spec: Spec
    count: int


def cluster_of(context: Context) -> Cluster:
    return Cluster(
        context.objects("NodePool"),
        {str(c["metadata"]["name"]): c for c in context.objects("EC2NodeClass")},
        context.daemonsets,
    )


def _job(obj: Mapping[str, Any], name: str, replicas: int = 1) -> PodSet:
    spec = obj.get("spec") or {}
    count = int(spec.get("parallelism", 1) if spec.get("parallelism") is not None else 1)
    return PodSet(name, spec["template"]["spec"], count * replicas)


def _templates(obj: Mapping[str, Any]) -> list[PodSet]:
    """Pod sets of a kind whose pods no engine creates: its templates as Kueue admitted it."""
    kind, spec = obj["kind"], obj.get("spec") or {}
    if kind == "JobSet":
        return [
            _job(rj["template"], str(rj["name"]), int(rj.get("replicas", 1)))
            for rj in spec.get("replicatedJobs") or ()
        ]
    if kind in {"RayJob", "RayCluster"}:
        ray = spec.get("rayClusterSpec", spec) if kind == "RayJob" else spec
        sets = [PodSet("head", ray["headGroupSpec"]["template"]["spec"], 1)]
        for g in ray.get("workerGroupSpecs") or ():
            count = int(g.get("replicas", 1)) * int(g.get("numOfHosts", 1))
            sets.append(PodSet(str(g.get("groupName", "workers")), g["template"]["spec"], count))
        return sets
    if kind == "LeaderWorkerSet":
        lws = spec["leaderWorkerTemplate"]
        replicas, size = int(spec.get("replicas", 1)), int(lws.get("size", 1))
        worker = lws["workerTemplate"]["spec"]
        leader = (lws.get("leaderTemplate") or {}).get("spec", worker)
        return [
            PodSet("leader", leader, replicas),
            PodSet("workers", worker, replicas * (size - 1)),
        ]
    return []


def pod_sets(run: Run) -> tuple[list[PodSet], str]:
    """The workload's pods, grouped by identical spec, and where they come from."""
    if run.resumed is not None:
        pods = [a.admitted for a in run.resumed.tree() if a.kind == "Pod" and a.admitted]
        if pods:
            return _group(pods), "its pods as the job controller creates them once Kueue resumed it"
    workloads = run.workloads()
    if run.queued is not None and run.queued_ref is not None and workloads:
        if not any(w.admitted for w in workloads):
            return [], ""
        ungated = _ungated(run, workloads)
        if ungated:
            return _group(ungated), "its pods as created, with what Kueue set when it ungated them"
        admitted = run.queued.object(*run.queued_ref)
        if admitted["kind"] == "Job":
            return [_job(admitted, "main")], "the job's pod template as Kueue resumed it"
        return _templates(admitted), "its pod templates as Kueue admitted it"
    pods = [a.admitted for a in chain.real_requests(run.created) if a.kind == "Pod" and a.admitted]
    return _group(pods), "its pods as the API server created them"


PLACEMENT = ("nodeSelector", "tolerations", "affinity")
"""What Kueue sets on a pod it ungates (its flavor's node labels and tolerations)."""


def _ungated(run: Run, workloads: Sequence[Any]) -> list[Mapping[str, Any]]:
    """The pods the API server created (LimitRange defaults and all), each with the placement
    of the same pod in Kueue's state once it admitted the pod's Workload."""
    assert run.queued is not None
    names = {w.owner.split("/", 1)[1] for w in workloads if w.owner.startswith("Pod/")}
    kueue = {
        str(o["metadata"]["name"]): o
        for o in run.queued.objects
        if o["kind"] == "Pod" and o["metadata"]["name"] in names
    }
    created = [
        a for a in chain.real_requests(run.created) if a.kind == "Pod" and a.admitted is not None
    ]
    # the kueue engine names a ReplicaSet's pods itself: pair them in order when names differ
    same = all(a.name in kueue for a in created)
    pairs = (
        [(a, kueue[a.name]) for a in created]
        if same
        else list(zip(created, [kueue[n] for n in sorted(kueue)], strict=False))
    )
    out = []
    for a, ungated in pairs:
        assert a.admitted is not None
        spec = dict(a.admitted["spec"])
        for key in PLACEMENT:
            spec.pop(key, None)
            if key in ungated["spec"]:
                spec[key] = ungated["spec"][key]
        out.append({**a.admitted, "spec": spec})
    return out


def _group(pods: Sequence[Mapping[str, Any]]) -> list[PodSet]:
    groups: dict[str, PodSet] = {}
    for p in pods:
        spec = p["spec"]
        key = repr(_shape(spec))
        name = str(p["metadata"].get("name", "pod"))
        found = groups.get(key)
        groups[key] = PodSet(found.name if found else name, spec, (found.count if found else 0) + 1)
    return list(groups.values())


def _shape(spec: Spec) -> tuple[Any, ...]:
    return (
        sorted(podreq.requests(spec).items()),
        sorted((spec.get("nodeSelector") or {}).items()),
        repr(spec.get("affinity")),
        repr(spec.get("tolerations")),
    )


def _placement(found: Launch) -> str:
    by: dict[tuple[str, str], int] = {}
    for n in found.nodes:
        by[(n.pool, n.type.name)] = by.get((n.pool, n.type.name), 0) + 1
    parts = [f"{count} x {t} in pool {pool}" for (pool, t), count in by.items()]
    return ", ".join(parts)


def _cost(found: Launch) -> float | None:
    prices = [n.type.price for n in found.nodes]
    return None if any(p is None for p in prices) else sum(p or 0.0 for p in prices)


def _limit(cluster: Cluster, pool: str, resource: str) -> str:
    for np in cluster.nodepools:
        if np["metadata"]["name"] == pool:
            return str((np["spec"].get("limits") or {}).get(resource, "?"))
    return "?"


def judge(
    pod_set: PodSet, cluster: Cluster, remaining: dict[str, dict[str, int]]
) -> tuple[Status, str, list[str]]:
    """(status, one line, details) for one pod set."""
    found = launch(pod_set.spec, pod_set.count, cluster, remaining)
    asks = ", ".join(podreq.show(k, v) for k, v in sorted(found.requests.items()) if k != "pods")
    head = f"{pod_set.count} pod{'s' if pod_set.count != 1 else ''} ({asks} each)"
    details = [f"pool {p.pool}: {p.reason}" for p in found.pools if p.reason]
    if not found.fits:
        return "fail", f"{head}: no NodePool can launch a node for it", details
    placed = _placement(found)
    if found.pending:
        why = "; ".join(
            f"a further node would take pool {p} past its {r} limit of {_limit(cluster, p, r)}"
            for p, r in sorted(found.limited.items())
        )
        return (
            "fail",
            f"{head}: {found.pending} stay pending ({why}); launched: {placed or 'none'}",
            details,
        )
    details = []
    line = f"{head}: {placed}"
    cost = _cost(found)
    for fit in found.pools:
        alt = cheapest(fit, pod_set.count)
        if cost is None or alt is None or fit.pool == found.nodes[0].pool or alt[2] >= cost:
            continue
        it, nodes, price = alt
        details.append(
            f"cheaper: {nodes} x {it.name} in pool {fit.pool} would also fit "
            f"(${price:.2f}/h against ${cost:.2f}/h; pool {found.nodes[0].pool} is tried first "
            "by weight)"
        )
        return "warn", line, details
    return "ok", line, details


def finding(context: Context, run: Run) -> tuple[Status, str, tuple[str, ...]] | None:
    """(status, summary, details) of the capacity question, or None when nothing runs."""
    if not run.manifest.is_workload:
        return None
    sets, source = pod_sets(run)
    if not sets:
        return None
    cluster = cluster_of(context)
    remaining = cluster.empty_limits()
    results = [(s, judge(s, cluster, remaining)) for s in sets]
    statuses: list[Status] = [r[0] for _, r in results]
    status = max(statuses, key=lambda s: {"ok": 0, "warn": 1, "fail": 2}[s])
    lines = [r[1] if len(results) == 1 else f"{s.name}: {r[1]}" for s, r in results]
    details = list(dict.fromkeys(d for _, r in results for d in r[2]))
    details.append(f"judged: {source}; prices: on-demand {instance_types.pricing_region()}")
    return status, "; ".join(lines), tuple(details)
