"""Reading Karpenter NodePool props (shared by R15, R16 and R17).

A pool is an accelerator pool when its requirements can only launch NVIDIA GPU (or Neuron)
instances: instance families from substrate/components/capacity/instance_families.py, or
GPU/accelerator
requirements. Taints do not count: R17 checks that accelerator pools carry them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from substrate.components.capacity.instance_families import FAMILIES
from substrate.components.capacity.pools import Selection
from substrate.components.core.labels import INSTANCE_FAMILY_LABEL

from ._props import UNKNOWN, items, plain, value

GPU_KEYS = {
    "karpenter.k8s.aws/instance-gpu-manufacturer",
    "karpenter.k8s.aws/instance-gpu-name",
    "karpenter.k8s.aws/instance-gpu-count",
}
NEURON_KEYS = {
    "karpenter.k8s.aws/instance-accelerator-manufacturer",
    "karpenter.k8s.aws/instance-accelerator-name",
    "karpenter.k8s.aws/instance-accelerator-count",
}
POSITIVE = {"In", "Exists", "Gt", "Gte"}


def requirements(props: Mapping[str, Any]) -> list[dict[str, Any]]:
    reqs = plain(value(props, "spec", "template", "spec", "requirements"))
    return [r for r in reqs if isinstance(r, dict)] if isinstance(reqs, list) else []


def requirement_values(props: Mapping[str, Any], key: str) -> frozenset[str] | None:
    """Values an `In` requirement allows for `key`; None when unrestricted."""
    for req in requirements(props):
        if req.get("key") == key and req.get("operator") == "In":
            return frozenset(str(v) for v in req.get("values") or [])
    return None


def accelerator(props: Mapping[str, Any]) -> str | None:
    """ "nvidia", "neuron" or None, from the pool's requirements."""
    families = requirement_values(props, INSTANCE_FAMILY_LABEL)
    if families:
        kinds = {FAMILIES[f].accelerator if f in FAMILIES else None for f in families}
        if kinds == {"nvidia"}:
            return "nvidia"
        if kinds == {"neuron"}:
            return "neuron"
    for req in requirements(props):
        if req.get("operator") not in POSITIVE:
            continue
        if req.get("key") in GPU_KEYS and req.get("values") != ["0"]:
            return "nvidia"
        if req.get("key") in NEURON_KEYS and req.get("values") != ["0"]:
            return "neuron"
    return None


def taints(props: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = plain(value(props, "spec", "template", "spec", "taints"))
    return [t for t in found if isinstance(t, dict)] if isinstance(found, list) else []


def has_taint(props: Mapping[str, Any], key: str, effect: str = "NoSchedule") -> bool:
    return any(t.get("key") == key and t.get("effect") == effect for t in taints(props))


def selection(name: str, props: Mapping[str, Any]) -> Selection:
    weight = value(props, "spec", "weight")
    return Selection(
        name,
        int(weight) if isinstance(weight, int | float) else 0,
        frozenset(
            (str(t.get("key")), str(t.get("value", "")), str(t.get("effect")))
            for t in taints(props)
        ),
        requirement_values(props, INSTANCE_FAMILY_LABEL),
        requirement_values(props, "karpenter.sh/capacity-type"),
    )


def budgets(props: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The pool's budgets; None when unknown."""
    found = value(props, "spec", "disruption", "budgets")
    if found is UNKNOWN:
        return None
    return [b for b in (plain(x) for x in items(found)) if isinstance(b, dict)]
