"""What a pod asks of a node, as Kubernetes defines it, for the launch model.

- Requests (Kubernetes docs, "Resource Management for Pods" and "Sidecar containers"): the sum of
  the app containers' and restartable init containers' (sidecars') requests, or the largest
  init container's with the sidecars started before it, whichever is larger, plus
  `spec.overhead`; a container that sets a limit and no request requests its limit.
- Taints and tolerations (scheduling.tolerates): only NoSchedule and NoExecute taints keep a pod
  off a node.
- Node selection: every `nodeSelector` entry and one of the required node affinity terms (all
  its expressions) match the node's labels (drift.label_satisfies for each expression).

Units: cpu in millicores, memory in MiB (rounded up), everything else in counts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from substrate.components.workloads.tenancy import quantity
from substrate.engines.karpenter.drift import label_satisfies
from substrate.engines.karpenter.instance_types import InstanceType, Resources
from substrate.engines.karpenter.scheduling import tolerates

NODEPOOL = "karpenter.sh/nodepool"
IGNORED = frozenset({"ephemeral-storage"})
"""Requests not compared: ephemeral storage depends on the node class's volumes and RAID0."""
Spec = Mapping[str, Any]


def amount(name: str, value: Any) -> int:
    q = quantity(str(value))
    if name == "cpu":
        return math.ceil(q * 1000)
    if name == "memory":
        return math.ceil(q / 2**20)
    return math.ceil(q)


def _container(c: Mapping[str, Any]) -> Resources:
    res = c.get("resources") or {}
    merged = {**(res.get("limits") or {}), **(res.get("requests") or {})}
    return {k: amount(k, v) for k, v in merged.items() if k not in IGNORED}


def add(a: Resources, b: Resources) -> Resources:
    return {k: a.get(k, 0) + b.get(k, 0) for k in {*a, *b}}


def _max(a: Resources, b: Resources) -> Resources:
    return {k: max(a.get(k, 0), b.get(k, 0)) for k in {*a, *b}}


def subtract(a: Resources, b: Resources) -> Resources:
    return {k: v - b.get(k, 0) for k, v in a.items()}


def requests(spec: Spec) -> Resources:
    """The pod's effective requests, with one pod slot."""
    sidecars: Resources = {}
    init: Resources = {}
    for c in spec.get("initContainers") or ():
        if c.get("restartPolicy") == "Always":
            sidecars = add(sidecars, _container(c))
        else:
            init = _max(init, add(sidecars, _container(c)))
    app: Resources = dict(sidecars)
    for c in spec.get("containers") or ():
        app = add(app, _container(c))
    total = _max(app, init)
    overhead = {k: amount(k, v) for k, v in (spec.get("overhead") or {}).items()}
    return {k: v for k, v in add(add(total, overhead), {"pods": 1}).items() if v}


def tolerated(spec: Spec, taint: Mapping[str, Any]) -> bool:
    if taint.get("effect") not in {"NoSchedule", "NoExecute"}:
        return True
    return tolerates({"spec": spec}, taint)


def satisfies(
    labels: Mapping[str, str], choices: Mapping[str, Sequence[str]], exprs: Iterable[Any]
) -> bool:
    """Every expression matches the node: a fixed label, or one of a label's possible values."""
    for e in exprs:
        if e["key"] in labels or e["key"] not in choices:
            if not label_satisfies(labels, e):
                return False
        elif not any(label_satisfies({e["key"]: v}, e) for v in choices[e["key"]]):
            return False
    return True


def selects(spec: Spec, labels: Mapping[str, str], choices: Mapping[str, Sequence[str]]) -> bool:
    """The pod's node selector and required node affinity accept the node."""
    selector = [
        {"key": k, "operator": "In", "values": [v]}
        for k, v in (spec.get("nodeSelector") or {}).items()
    ]
    if not satisfies(labels, choices, selector):
        return False
    affinity = (spec.get("affinity") or {}).get("nodeAffinity") or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    terms = required.get("nodeSelectorTerms") or ()
    return not terms or any(
        satisfies(labels, choices, t.get("matchExpressions") or ()) for t in terms
    )


def schedulable(
    spec: Spec,
    labels: Mapping[str, str],
    choices: Mapping[str, Sequence[str]],
    taints: Sequence[Mapping[str, Any]],
) -> bool:
    return all(tolerated(spec, t) for t in taints) and selects(spec, labels, choices)


def how_many(need: Resources, free: Resources) -> int:
    """How many pods asking ``need`` fit in ``free`` (0 when one does not)."""
    counts = [free.get(k, 0) // v if free.get(k, 0) > 0 else 0 for k, v in need.items() if v > 0]
    return max(0, min(counts)) if counts else 0


def short_of(
    need: Resources, allocatable: Sequence[Resources], types: Sequence[InstanceType]
) -> str:
    """Why no type holds the pod: the first resource it asks more of than any type offers."""
    for k, v in sorted(need.items(), key=lambda kv: (kv[0] != "nvidia.com/gpu", kv[0])):
        most = max((a.get(k, 0) for a in allocatable), default=0)
        if v > most:
            having = sorted(
                t.name for t, a in zip(types, allocatable, strict=True) if a.get(k, 0) == most
            )
            if most == 0:
                return f"asks {show(k, v)} and no instance type of the pool offers {k}"
            return (
                f"asks {show(k, v)} per pod; the most any instance type of the pool offers "
                f"is {show(k, most)} ({', '.join(having[:4])})"
            )
    return "no instance type holds it with the DaemonSet pods that run on every node"


def show(name: str, value: int) -> str:
    if name == "cpu":
        return f"{value / 1000:g} cpu"
    if name == "memory":
        return f"{value / 1024:.1f}Gi memory" if value % 1024 else f"{value // 1024}Gi memory"
    return f"{value} {name}"
