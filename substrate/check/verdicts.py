"""The engines' answers about one workload, worded: one finding per question (admission, queue,
capacity, identity), each ok, warn (it runs, but read this) or fail (it will not run)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from substrate.check import capacity, chain, identity, spiffe
from substrate.check.chain import Run
from substrate.check.context import Context
from substrate.engines import apiserver, kyverno

Status = Literal["ok", "warn", "fail"]
RANK: dict[str, int] = {"ok": 0, "warn": 1, "fail": 2}
CHILDREN_NOT_MODELLED = "children not modelled"
"""How the apiserver engine notes a kind whose controller it does not run."""


@dataclass(frozen=True)
class Finding:
    check: str
    """admission, queue, capacity or identity."""
    status: Status
    summary: str
    details: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status,
            "summary": self.summary,
            "details": list(self.details),
        }


@dataclass(frozen=True)
class WorkloadVerdict:
    kind: str
    namespace: str
    name: str
    tenant: str
    source: str
    findings: tuple[Finding, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def status(self) -> Status:
        worst: Status = "ok"
        for f in self.findings:
            if RANK[f.status] > RANK[worst]:
                worst = f.status
        return worst

    @property
    def runs(self) -> bool:
        return self.status != "fail"

    def finding(self, check: str) -> Finding | None:
        return next((f for f in self.findings if f.check == check), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "tenant": self.tenant,
            "source": self.source,
            "status": self.status,
            "runs": self.runs,
            "findings": [f.to_json() for f in self.findings],
            "notes": list(self.notes),
        }


def _actions(context: Context) -> dict[str, tuple[str, ...]]:
    return {
        str(p["metadata"]["name"]): tuple(p.get("spec", {}).get("validationActions") or ("Deny",))
        for p in context.policies
    }


def _label(a: apiserver.Admission) -> str:
    return f"{a.kind}/{a.name}" if a.name else a.kind or "object"


def _refusals(admissions: Iterable[apiserver.Admission]) -> list[str]:
    out = []
    for a in admissions:
        if not a.created:
            errors = "; ".join(a.errors) or "refused"
            out.append(f"{_label(a)}: refused by {a.refused_by or 'the API server'}: {errors}")
    return out


def _policy_lines(verdicts: Sequence[kyverno.Verdict]) -> list[str]:
    seen: list[str] = []
    for v in verdicts:
        line = f"{v.kind}/{v.name}: {v.policy}: {v.message}"
        if line not in seen:
            seen.append(line)
    return seen


def admission(context: Context, run: Run) -> Finding:
    """Kyverno and the API server's own admission, at CREATE and for the pods that follow."""
    admissions = chain.real_requests(run.created)
    if run.resumed is not None:
        admissions += list(run.resumed.tree())[1:]
    admissions += run.derived
    refused = _refusals(admissions)
    actions = _actions(context)
    denials = [v for v in run.verdicts if v.denies]
    deny = [v for v in denials if "Deny" in actions.get(v.policy, ("Deny",))]
    audit = [v for v in denials if v not in deny]
    judged = {v.policy for v in run.verdicts if v.result != "skip"}
    pods = sum(1 for a in admissions if a.kind == "Pod" and a.created)
    if refused or deny:
        who = sorted({v.policy for v in deny})
        summary = "denied" + (f" by {', '.join(who)}" if who else " by the API server")
        return Finding("admission", "fail", summary, tuple(refused + _policy_lines(deny)))
    warnings = sorted({f"{_label(a)}: {w}" for a in admissions for w in a.warnings})
    policies = f"{len(judged)} {'policy' if len(judged) == 1 else 'policies'}"
    scope = f"{policies} judged it" + (f" and {pods} of its pods" if pods else "")
    unjudged = [n for n in run.notes if n.startswith(CHILDREN_NOT_MODELLED)]
    if run.manifest.is_workload and not pods and unjudged:
        summary = f"admitted ({scope}); its pods were not judged: no engine runs its controller"
        return Finding("admission", "warn", summary, tuple(warnings))
    if audit:
        lines = _policy_lines(audit)
        return Finding(
            "admission",
            "warn",
            f"admitted; Audit policies report it ({scope})",
            (*lines, *warnings),
        )
    return Finding(
        "admission", "warn" if warnings else "ok", f"admitted ({scope})", tuple(warnings)
    )


def _borrowing(run: Run, cluster_queue: str, flavors: Mapping[str, str], cohort: str) -> list[str]:
    assert run.queued is not None
    state = run.queued.cluster_queues.get(cluster_queue)
    if state is None:
        return []
    out = []
    for resource, flavor in sorted(flavors.items()):
        borrowed = state.borrowed(flavor, resource)
        if borrowed not in {"0", ""}:
            out.append(f"borrows {borrowed} {resource} on {flavor} from cohort {cohort or '-'}")
    return out


def _cohort(context: Context, cluster_queue: str) -> str:
    for cq in context.objects("ClusterQueue"):
        if cq["metadata"]["name"] == cluster_queue:
            return str(cq.get("spec", {}).get("cohortName", ""))
    return ""


def _cluster_queue_of(context: Context, namespace: str, local_queue: str) -> str:
    for lq in context.objects("LocalQueue"):
        meta = lq["metadata"]
        if meta["name"] == local_queue and meta.get("namespace") == namespace:
            return str(lq.get("spec", {}).get("clusterQueue", ""))
    return ""


def queue(context: Context, run: Run) -> Finding | None:
    """Kueue's verdict with this workload alone on the stack's idle queues."""
    if run.queued is None:
        return None
    rejected = [r for r in run.queued.rejected if r.get("name") == (run.queued_ref or ("", ""))[1]]
    if rejected:
        messages = tuple(str(r.get("message", "")) for r in rejected)
        return Finding("queue", "fail", "Kueue's webhook rejects it", messages)
    workloads = run.workloads()
    if not workloads:
        if any(n.startswith(CHILDREN_NOT_MODELLED) for n in run.notes):
            summary = "not decided: Kueue queues its pods, which check does not derive yet"
            return Finding("queue", "warn", summary)
        return Finding("queue", "warn", "not queued: Kueue creates no Workload for it")
    pending = [w for w in workloads if not w.admitted]
    if pending:
        details = tuple(
            f"LocalQueue {w.queue or '-'} -> ClusterQueue "
            f"{w.cluster_queue or _cluster_queue_of(context, w.namespace, w.queue) or '-'}: "
            f"{w.pending_message or w.status}"
            for w in pending
        )
        return Finding(
            "queue",
            "fail",
            "waits forever: Kueue does not admit it even on an idle cluster",
            details,
        )
    first = workloads[0]
    flavors: dict[str, str] = {}
    for w in workloads:
        for pod_set in w.pod_sets:
            flavors.update(pod_set.flavors)
    cohort = _cohort(context, first.cluster_queue)
    pools = sorted(set(flavors.values()))
    summary = (
        f"admitted on an idle cluster: LocalQueue {first.queue} -> ClusterQueue "
        f"{first.cluster_queue}, flavor {', '.join(pools) or '-'}"
    )
    details = [f"{res}: {flavor}" for res, flavor in sorted(flavors.items())]
    details += _borrowing(run, first.cluster_queue, flavors, cohort)
    if len(workloads) > 1:
        details.append(f"{len(workloads)} Workloads (one per pod)")
    return Finding("queue", "ok", summary, tuple(details))


def _pod_spec(run: Run) -> Mapping[str, Any] | None:
    pods = [a for a in chain.real_requests(run.created) if a.kind == "Pod" and a.admitted]
    if pods and pods[0].admitted is not None:
        return pods[0].admitted.get("spec")
    return identity.pod_spec(run.manifest.obj)


def access_finding(
    access: identity.Access | None, run: Run, spiffe_parts: spiffe.Parts | None = None
) -> Finding | None:
    """The identity question: the Bedrock models the pods' role may call, and the SPIFFE ID
    SPIRE issues them."""
    if not run.manifest.is_workload:
        return None
    needed = identity.needed_models(run.manifest.obj)
    parts = identity.finding_parts(access, run.manifest.namespace, _pod_spec(run), needed)
    found: list[spiffe.Parts] = []
    if parts is not None:
        found.append(("fail" if parts[0] == "fail" else "ok", parts[1], parts[2]))
    if spiffe_parts is not None:
        found.append(spiffe_parts)
    if not found:
        return None
    status: Status = "ok"
    for f in found:
        status = f[0] if RANK[f[0]] > RANK[status] else status
    summary = "; ".join(f[1] for f in found)
    return Finding("identity", status, summary, tuple(d for f in found for d in f[2]))


def capacity_finding(context: Context, run: Run) -> Finding | None:
    """The capacity question: the nodes Karpenter launches for the pods."""
    parts = capacity.finding(context, run)
    if parts is None:
        return None
    status, summary, details = parts
    return Finding("capacity", status, summary, details)


def of_run(
    context: Context,
    run: Run,
    access: identity.Access | None = None,
    network: Mapping[int, tuple[Status, str, tuple[str, ...]]] | None = None,
    spiffe_ids: Mapping[int, spiffe.Parts] | None = None,
) -> WorkloadVerdict:
    """Every question's finding on one workload; ``network``: network.judge_all's answers."""
    findings = [admission(context, run)]
    connections = (network or {}).get(id(run.manifest))
    net = None if connections is None else Finding("network", *connections)
    for found in (
        queue(context, run),
        capacity_finding(context, run),
        access_finding(access, run, (spiffe_ids or {}).get(id(run.manifest))),
        net,
    ):
        if found is not None:
            findings.append(found)
    m = run.manifest
    return WorkloadVerdict(
        m.kind, m.namespace, m.name, run.tenant, m.source, tuple(findings), tuple(run.notes)
    )
