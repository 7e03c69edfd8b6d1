"""The engines a tenant's objects pass through on their way into a stack's cluster, in order.

1. The API server (apiserver engine): defaulting, built-in admission, Kueue's webhooks, and the
   controllers that create children (CronJob -> Job, Deployment -> ReplicaSet -> Pod, ...),
   each CREATE as its requester (the tenant's engineer, then the controllers' accounts).
2. Kyverno (kyverno engine) on every object the API server hands validating webhooks.
3. Kueue (kueue engine): each workload submitted alone to the stack's idle queues, then deleted,
   in one engine run: admitted or pending with Kueue's message, flavors, borrowing.
4. For an admitted job: Kueue's update (unsuspend, flavor node labels and tolerations) judged by
   Kyverno as Kueue's controller, then the job as resumed created again so the job controller's
   pods are admitted and judged as they will really be created. For an admitted
   SparkApplication: its driver and executor pods (substrate.check.spark).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from substrate.check import spark
from substrate.check.context import Context
from substrate.check.inputs import Manifest
from substrate.engines import apiserver, kyverno
from substrate.engines.kueue import Ref, Step, run_one
from substrate.engines.kueue_results import StepResult, Workload

User = Mapping[str, Any]
JOB_KINDS = frozenset({"Job"})
DELETABLE = frozenset({"Job", "JobSet", "Deployment", "StatefulSet", "Pod"})
"""Kinds the kueue engine can delete between two submissions (tools/engines/kueue/events.go)."""
"""Kinds whose children the apiserver engine creates again once Kueue resumes them."""


def tenant_engineer(tenant: str) -> dict[str, Any]:
    """An engineer of ``tenant`` as EKS presents them: the IAM role session and the access
    entry's groups (substrate/components/workloads/tenant_access.py)."""
    return {
        "username": f"arn:aws:sts::123456789012:assumed-role/{tenant}-engineer/alice",
        "groups": [f"substrate:tenant:{tenant}:admins", "system:authenticated"],
    }


def controller(name: str) -> dict[str, Any]:
    """A kube-controller-manager controller (or Kueue) acting under its own service account."""
    return {
        "username": f"system:serviceaccount:kube-system:{name}",
        "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system"],
    }


def requester(admission: apiserver.Admission) -> dict[str, Any]:
    """Who Kyverno sees creating an object: the requester the API server recorded."""
    return {"username": admission.username, "groups": list(admission.groups)}


KUEUE_SUSPENDED = "suspended by Kueue:"
"""How the apiserver engine notes a job Kueue suspends: the children it shows are what the job
controller would create without Kueue's flavor (node selector, tolerations), not real pods."""


def real_requests(admission: apiserver.Admission) -> list[apiserver.Admission]:
    """This CREATE and the children that really follow it at once: not the pods of a job Kueue
    holds suspended (those are created from the job as Kueue resumes it)."""
    out = [admission]
    if any(n.startswith(KUEUE_SUSPENDED) for n in admission.notes):
        return out
    for child in admission.children:
        out += real_requests(child)
    return out


def _group(obj: Mapping[str, Any]) -> str:
    api = str(obj.get("apiVersion", ""))
    return api.split("/", maxsplit=1)[0] if "/" in api else ""


def scoped(
    state: apiserver.ClusterState, objects: Sequence[Mapping[str, Any]]
) -> apiserver.ClusterState:
    """``state`` with only the CustomResourceDefinitions of the API groups its objects and
    ``objects`` belong to: the API server serves a custom resource from its own CRD only, and
    the controllers it runs create built-in kinds; the rest (most of the ~11 MB of CRDs a
    stack installs) is read by the engine on every run for nothing."""
    crd = "CustomResourceDefinition"
    groups = {_group(o) for o in (*state.cluster, *objects) if o.get("kind") != crd}
    kept = tuple(
        o
        for o in state.cluster
        if o.get("kind") != crd or (o.get("spec") or {}).get("group") in groups
    )
    return replace(state, cluster=kept)


def create(
    context: Context, objects: Sequence[Mapping[str, Any]], user: User
) -> apiserver.ApiServerRun:
    """The API server's CREATE of ``objects`` by ``user`` and of what controllers create."""
    return apiserver.admit(
        scoped(context.state, objects),
        objects,
        username=user["username"],
        groups=user.get("groups", ()),
    )


def admit(
    context: Context,
    objects: Sequence[Mapping[str, Any]],
    user: User | None,
    *,
    cluster: Sequence[Mapping[str, Any]] = (),
    operation: kyverno.Operation = "CREATE",
) -> list[kyverno.Verdict]:
    """Kyverno's verdicts for ``objects`` under the stack's policies."""
    return kyverno.apply(
        context.policies,
        objects,
        namespaces=context.namespaces,
        cluster=cluster,
        operation=operation,
        user=user,
    )


def admit_requests(
    context: Context,
    requests: Sequence[apiserver.Admission],
    cluster: Sequence[Mapping[str, Any]] = (),
) -> list[kyverno.Verdict]:
    """Kyverno on every request that reaches validating webhooks, each as its requester (one
    Kyverno call per requester)."""
    by_user: dict[tuple[str, tuple[str, ...]], list[Mapping[str, Any]]] = {}
    for a in requests:
        if a.reaches_validating_webhooks and a.admitted is not None:
            by_user.setdefault((a.username, a.groups), []).append(a.admitted)
    verdicts: list[kyverno.Verdict] = []
    for (username, groups), objects in sorted(by_user.items()):
        user = {"username": username, "groups": list(groups)}
        verdicts += admit(context, objects, user, cluster=cluster)
    return verdicts


def queue(
    context: Context,
    steps: Sequence[Step],
    extra_objects: Sequence[Mapping[str, Any]] = (),
) -> list[StepResult]:
    """Kueue's state after each step, from the stack's idle queues."""
    return run_one(context.kueue_config, [*context.kueue_objects, *extra_objects], steps)


@dataclass
class Run:
    """Everything the engines said about one manifest."""

    manifest: Manifest
    tenant: str
    created: apiserver.Admission
    """The CREATE and every child the controllers created at once."""
    queued: StepResult | None = None
    """Kueue's state after this workload alone was submitted (None: not submitted)."""
    queued_ref: tuple[str, str] | None = None
    """(kind, name) of what Kueue was given (a CronJob's Job)."""
    resumed: apiserver.Admission | None = None
    """The job as Kueue resumed it, created again: the pods the job controller creates."""
    derived: list[apiserver.Admission] = field(default_factory=list)
    """Pods no engine's controller creates, assembled and created here (a SparkApplication's)."""
    verdicts: list[kyverno.Verdict] = field(default_factory=list)
    """Kyverno on every object of this manifest (children, updates and resumed pods too)."""
    notes: list[str] = field(default_factory=list)

    def workloads(self) -> list[Workload]:
        if self.queued is None or self.queued_ref is None:
            return []
        kind, name = self.queued_ref
        return [
            w
            for w in self.queued.workloads
            if w.owner == f"{kind}/{name}"
            or (w.owner.startswith(f"Pod/{name}-") and kind in {"Deployment", "StatefulSet"})
        ]


STORED_FIELDS = ("uid", "resourceVersion", "creationTimestamp", "managedFields", "generation")


def submittable(obj: Mapping[str, Any]) -> dict[str, Any]:
    """An object as the API server defaulted it, without what only storage sets: what Kueue's
    webhooks receive (Kueue's code reads defaulted fields such as a Job's parallelism)."""
    out = copy.deepcopy(dict(obj))
    out.pop("status", None)
    for key in STORED_FIELDS:
        out.get("metadata", {}).pop(key, None)
    return out


def _queued_object(run: Run) -> Mapping[str, Any] | None:
    """What Kueue is given for the manifest: the object as the API server defaulted it, or the
    Job a CronJob creates."""
    if run.manifest.kind == "CronJob":
        jobs = run.created.descendants("Job")
        if not jobs or jobs[0].admitted is None:
            run.notes.append("the cronjob controller created no Job to queue")
            return None
        run.notes.append("queued: the Job the cronjob controller creates at its first schedule")
        return submittable(jobs[0].admitted)
    if run.created.admitted is None:
        return None
    return submittable(run.created.admitted)


def _play(context: Context, runs: Sequence[Run]) -> None:
    """Each workload alone on the idle queues, in as few Kueue runs as the engine allows: kinds
    it can delete are submitted and deleted in turn in one run, which the first of the others
    ends; each further one gets a run of its own (two at a time)."""
    scenarios: list[list[tuple[Run, Mapping[str, Any]]]] = [[]]
    for run in runs:
        obj = _queued_object(run)
        if obj is None:
            continue
        run.queued_ref = (str(obj["kind"]), str(obj["metadata"]["name"]))
        if run.queued_ref[0] in DELETABLE:
            scenarios[0].insert(0, (run, obj))
        elif scenarios[0] and scenarios[0][-1][1]["kind"] not in DELETABLE:
            scenarios.append([(run, obj)])
        else:
            scenarios[0].append((run, obj))

    def play(scenario: list[tuple[Run, Mapping[str, Any]]]) -> None:
        steps: list[Step] = []
        for _, obj in scenario:
            kind, name = str(obj["kind"]), str(obj["metadata"]["name"])
            ns = str(obj["metadata"]["namespace"])
            steps.append(Step(f"submit {ns}/{kind}/{name}", submit=[obj]))
            if kind in DELETABLE:
                steps.append(Step(f"delete {ns}/{kind}/{name}", delete=[Ref(kind, ns, name)]))
        results = iter(queue(context, steps))
        for run, obj in scenario:
            run.queued = next(results)
            if obj["kind"] in DELETABLE:
                next(results)

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(play, [s for s in scenarios if s]))


Ask = tuple["Run", User, kyverno.Operation, Mapping[str, Any]]
"""One Kyverno question: whose verdicts, the requester, the operation, the object."""


def _judge(context: Context, asks: Sequence[Ask], cluster: Sequence[Mapping[str, Any]]) -> None:
    """Kyverno on every question, one call per (requester, operation); each verdict goes to the
    run whose object it judges."""
    groups: dict[tuple[str, tuple[str, ...], str], list[tuple[Run, Mapping[str, Any]]]] = {}
    for run, user, operation, obj in asks:
        key = (str(user["username"]), tuple(user.get("groups", ())), operation)
        groups.setdefault(key, []).append((run, obj))
    for (username, groups_, operation), items in sorted(groups.items()):
        owner = {_key(obj): run for run, obj in items}
        user = {"username": username, "groups": list(groups_)}
        objects = [obj for _, obj in items]
        op: kyverno.Operation = "UPDATE" if operation == "UPDATE" else "CREATE"
        for v in admit(context, objects, user, cluster=cluster, operation=op):
            owner[(v.kind, v.namespace, v.name)].verdicts.append(v)


def _key(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return (str(obj.get("kind", "")), str(meta.get("namespace", "")), str(meta.get("name", "")))


def _creates(
    run: Run, root: apiserver.Admission, requests: Sequence[apiserver.Admission], user: User
) -> list[Ask]:
    """Kyverno questions for the CREATEs that reach validating webhooks: ``root`` as ``user``,
    its children as the controller that created them."""
    return [
        (run, user if a is root else requester(a), "CREATE", a.admitted)
        for a in requests
        if a.reaches_validating_webhooks and a.admitted is not None
    ]


def _resume(context: Context, runs: Sequence[Run], users: Mapping[str, User]) -> list[Ask]:
    """Admitted jobs as Kueue resumed them: Kyverno on Kueue's update, and the jobs created again
    (one API server run per tenant) so the job controller's pods are admitted and judged."""
    asks: list[Ask] = []
    resumed: dict[str, list[tuple[Run, dict[str, Any]]]] = {}
    for run in runs:
        if run.queued is None or run.queued_ref is None:
            continue
        kind, name = run.queued_ref
        if kind not in JOB_KINDS or not any(w.admitted for w in run.workloads()):
            continue
        obj = dict(run.queued.object(kind, name))
        asks.append((run, controller("kueue"), "UPDATE", obj))
        resumed.setdefault(run.tenant, []).append((run, obj))
    for tenant, items in sorted(resumed.items()):
        done = create(context, [obj for _, obj in items], users[tenant])
        for (run, _), again in zip(items, done.results, strict=True):
            run.resumed = again
            children = [a for a in again.tree() if a is not again]
            asks += _creates(run, again, children, users[tenant])
    return asks


def _spark_pods(context: Context, runs: Sequence[Run]) -> list[Ask]:
    """The pods of each SparkApplication Kueue admitted, created and judged as their creators."""
    asks: list[Ask] = []
    for run in runs:
        admitted = [w for w in run.workloads() if w.admitted]
        if run.queued_ref is None or run.queued_ref[0] != spark.KIND or not admitted:
            continue
        assert run.queued is not None and run.created.admitted is not None
        app = run.queued.object(*run.queued_ref)
        uid = str(run.created.admitted["metadata"]["uid"])
        for pod, user in spark.pods(context.state, app, admitted[0], uid):
            run.derived.append(pod)
            if pod.reaches_validating_webhooks and pod.admitted is not None:
                asks.append((run, user, "CREATE", pod.admitted))
    return asks


def _notes(done: apiserver.ApiServerRun, created: apiserver.Admission) -> list[str]:
    """What the engines did not run for this object: its own notes (children not modelled) and
    the webhooks of its API group the API server would call but the engine cannot."""
    group = str((created.admitted or {}).get("apiVersion", "")).split("/")[0]
    project = group.split(".")[0] if "." in group else ""
    own = [n for n in created.notes if not n.startswith(KUEUE_SUSPENDED)]
    hooks = [n for n in done.notes if project and project in n and "not modelled" in n]
    return own + hooks


def run_all(context: Context, placed: Sequence[tuple[str, Manifest]]) -> list[Run]:
    """Every engine on every manifest: one API server run per tenant, one Kueue run (more when
    the engine cannot delete a kind), one Kyverno call per requester and operation."""
    users = {tenant: tenant_engineer(tenant) for tenant, _ in placed}
    pdbs = [m.obj for _, m in placed if m.kind == "PodDisruptionBudget"]
    pdbs += [dict(p) for p in context.objects("PodDisruptionBudget")]
    existing = [m.obj for _, m in placed if m.kind in apiserver.STATE_KINDS]
    state = replace(context.state, cluster=(*context.state.cluster, *existing))
    runs: list[Run] = []
    asks: list[Ask] = []
    for tenant in sorted(users):
        mine = [m for t, m in placed if t == tenant]
        done = apiserver.admit(
            scoped(state, [m.obj for m in mine]),
            [m.obj for m in mine],
            username=users[tenant]["username"],
            groups=users[tenant]["groups"],
        )
        for manifest, created in zip(mine, done.results, strict=True):
            run = Run(manifest, tenant, created, notes=_notes(done, created))
            asks += _creates(run, created, real_requests(created), users[tenant])
            runs.append(run)
    workloads = [r for r in runs if r.manifest.is_workload and r.created.created]
    _play(context, workloads)
    asks += _resume(context, workloads, users)
    asks += _spark_pods(context, workloads)
    _judge(context, asks, pdbs)
    for run in runs:
        run.verdicts.sort()
    order = {id(m): i for i, (_, m) in enumerate(placed)}
    return sorted(runs, key=lambda r: order[id(r.manifest)])
