"""Whether SPIRE issues a workload's pods a SPIFFE ID, and which: the spire-entries engine
(substrate.engines.spire) on the stack's ClusterSPIFFEIDs and controller-manager config, for the
pods the API server engine created (or, where no engine runs the controller, the pod template).
A workload states that it needs one with the annotation ``substrate.io/spiffe-id: required``;
then no ID is a failure, otherwise information."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from substrate.check import chain
from substrate.check.chain import Run
from substrate.check.context import Context
from substrate.engines import spire

SPIFFE_ANNOTATION = "substrate.io/spiffe-id"
REQUIRED = "required"
Status = Literal["ok", "warn", "fail"]
Parts = tuple[Status, str, tuple[str, ...]]


def required(obj: Mapping[str, Any]) -> bool:
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(SPIFFE_ANNOTATION, "")
    return str(value).strip() == REQUIRED


def template_pod(obj: Mapping[str, Any], namespace: str) -> dict[str, Any] | None:
    """The first pod template in ``obj`` as the pod it becomes (its labels, its spec)."""
    if obj.get("kind") == "Pod":
        return {**obj, "metadata": {**obj.get("metadata", {}), "namespace": namespace}}
    stack: list[Any] = [obj.get("spec")]
    while stack:
        node = stack.pop(0)
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, Mapping):
            spec = node.get("spec")
            if isinstance(spec, Mapping) and "containers" in spec:
                meta = dict(node.get("metadata") or {})
                meta.update(namespace=namespace, name=obj["metadata"]["name"])
                return {"metadata": meta, "spec": spec}
            stack.extend(v for v in node.values() if isinstance(v, Mapping | list))
    return None


def pods_of(run: Run) -> list[dict[str, Any]]:
    """The pods the engines created for the workload, else its pod template as a pod."""
    admissions = chain.real_requests(run.created)
    if run.resumed is not None:
        admissions += list(run.resumed.tree())[1:]
    admissions += run.derived
    pods = [dict(a.admitted) for a in admissions if a.kind == "Pod" and a.created and a.admitted]
    if pods:
        return pods
    pod = template_pod(run.manifest.obj, run.manifest.namespace)
    return [pod] if pod is not None else []


def _describe(pod: Mapping[str, Any], found: spire.PodEntries, class_name: str) -> tuple[str, str]:
    """(ID or '', why none) for one pod."""
    issued = [e for e in found.entries if not spire.unmet(e, pod)]
    if issued:
        return ", ".join(
            f"{e.spiffe_id} (ClusterSPIFFEID {e.cluster_spiffe_id})" for e in issued
        ), ""
    if found.ignored:
        return "", f"the controller manager ignores namespace {found.namespace}"
    if found.entries:
        unmet = sorted({s for e in found.entries for s in spire.unmet(e, pod)})
        who = ", ".join(e.cluster_spiffe_id for e in found.entries)
        return "", (
            f"ClusterSPIFFEID {who} selects it but its entry requires {', '.join(unmet)}, "
            "which the pod does not attest (and a fallback ID is not applied)"
        )
    if found.failures:
        return "", "; ".join(f"ClusterSPIFFEID {n}: {err}" for n, err in found.failures)
    return "", f"no ClusterSPIFFEID of class {class_name} selects it"


def judge_all(context: Context, runs: Sequence[Run]) -> dict[int, Parts]:
    """id(manifest) -> (status, summary, details) of the SPIFFE question, one engine run."""
    workloads = [r for r in runs if r.manifest.is_workload]
    if context.spire is None:
        return {
            id(r.manifest): ("fail", "needs a SPIFFE ID but the stack runs no SPIRE", ())
            for r in workloads
            if required(r.manifest.obj)
        }
    config = spire.ControllerConfig.from_json(context.spire["config"])
    pods = {id(r.manifest): pods_of(r) for r in workloads}
    flat = [p for ps in pods.values() for p in ps]
    if not flat:
        return {}
    answers = iter(
        spire.entries(config, context.spire["clusterSPIFFEIDs"], context.namespaces, flat)
    )
    out: dict[int, Parts] = {}
    for r in workloads:
        described = [_describe(p, next(answers), config.class_name) for p in pods[id(r.manifest)]]
        if described:
            out[id(r.manifest)] = _parts(r, pods[id(r.manifest)], described)
    return out


def _parts(run: Run, pods: Sequence[Mapping[str, Any]], described: list[tuple[str, str]]) -> Parts:
    names = [str((p.get("metadata") or {}).get("name") or run.manifest.name) for p in pods]
    details = tuple(
        f"pod {n}: {sid or 'no SPIFFE ID: ' + why}"
        for n, (sid, why) in zip(names, described, strict=True)
    )
    ids = sorted({sid for sid, _ in described if sid})
    missing = [why for sid, why in described if not sid]
    need = required(run.manifest.obj)
    if not missing:
        return ("ok", f"SPIFFE ID {', '.join(ids)}", details)
    status: Status = "fail" if need else ("warn" if "selects it but" in missing[0] else "ok")
    prefix = "needs a SPIFFE ID but gets none" if need else "no SPIFFE ID"
    return (status, f"{prefix}: {missing[0]}", details)
