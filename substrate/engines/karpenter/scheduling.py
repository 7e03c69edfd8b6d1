"""Which NodePool Karpenter v1.14 launches a pending pod on (v1.14 Scheduling page, "Weighted
NodePools"; NodePools page, "spec.weight"; kubernetes-sigs/karpenter v1.14.1
`pkg/utils/nodepool/nodepool.go` OrderByWeight).

Karpenter tries NodePools from the highest `weight` down (unset is 0); equal weights are ordered
by name, **descending**. The first NodePool whose nodes the pod can run on is used: the pod
tolerates the template's taints, its node selector is compatible with the template's labels and
requirements, and the pool's instance types offer what it requests. (The docs' caveat: batching
can still put a pod on a lower-weight pool when a higher one cannot take the whole batch, and
kube-scheduler uses existing capacity first; this models the launch decision for one pod.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from substrate.engines.karpenter.drift import label_satisfies

NodePool = Mapping[str, Any]
Pod = Mapping[str, Any]


def order_by_weight(nodepools: Sequence[NodePool]) -> list[NodePool]:
    """OrderByWeight: weight descending, then name descending."""
    return sorted(
        nodepools,
        key=lambda np: (np["spec"].get("weight") or 0, np["metadata"]["name"]),
        reverse=True,
    )


def tolerates(pod: Pod, taint: Mapping[str, Any]) -> bool:
    """Kubernetes toleration matching (key, operator Equal/Exists, value, effect)."""
    for t in pod.get("spec", {}).get("tolerations") or ():
        if t.get("effect") and t["effect"] != taint.get("effect"):
            continue
        if t.get("operator") == "Exists":
            if not t.get("key") or t["key"] == taint["key"]:
                return True
        elif t.get("key") == taint["key"] and t.get("value", "") == taint.get("value", ""):
            return True
    return False


def _selector_fits(pod: Pod, nodepool: NodePool) -> bool:
    template = nodepool["spec"]["template"]
    labels = template.get("metadata", {}).get("labels", {})
    requirements = {r["key"]: r for r in template["spec"].get("requirements") or ()}
    for key, value in (pod.get("spec", {}).get("nodeSelector") or {}).items():
        if key in labels:
            if labels[key] != value:
                return False
        elif key in requirements:
            if not label_satisfies({key: value}, requirements[key]):
                return False
        elif key != "karpenter.sh/nodepool" or value != nodepool["metadata"]["name"]:
            return False  # a label the pool's nodes would not carry
    return True


def _requests(pod: Pod) -> set[str]:
    out: set[str] = set()
    for c in pod.get("spec", {}).get("containers") or ():
        for section in ("requests", "limits"):
            out |= {
                k for k, v in (c.get("resources", {}).get(section) or {}).items() if str(v) != "0"
            }
    return out


def can_launch(pod: Pod, nodepool: NodePool, offers: Callable[[NodePool], set[str]]) -> bool:
    """The pool could launch a node for `pod`. `offers(nodepool)`: the extended resources its
    instance types have (e.g. {"nvidia.com/gpu"} for GPU families)."""
    taints = nodepool["spec"]["template"]["spec"].get("taints") or ()
    if not all(tolerates(pod, t) for t in taints):
        return False
    extended = {r for r in _requests(pod) if "/" in r}
    return _selector_fits(pod, nodepool) and extended <= offers(nodepool)


def pool_for(
    pod: Pod, nodepools: Sequence[NodePool], offers: Callable[[NodePool], set[str]]
) -> str | None:
    """The NodePool Karpenter launches `pod` on, or None when none can."""
    for nodepool in order_by_weight(nodepools):
        if can_launch(pod, nodepool, offers):
            return str(nodepool["metadata"]["name"])
    return None
