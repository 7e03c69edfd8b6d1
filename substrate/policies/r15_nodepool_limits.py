"""R15: every NodePool caps what it may launch (`spec.limits` with cpu and memory, plus
`nvidia.com/gpu` (or `nvidia.com/gpu.shared` on a time-sliced pool) for NVIDIA pools and
`aws.amazon.com/neuron` for Neuron pools), so a burst of pending pods cannot buy unbounded GPUs
(Karpenter BPG)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

from substrate.components.core.labels import GPU_RESOURCE, GPU_SHARED_RESOURCE, NEURON_RESOURCE

from ._nodepool import accelerator
from ._props import MISSING, UNKNOWN, by_type, plain, value
from ._types import NODE_POOL

DEVICE = {"nvidia": GPU_RESOURCE, "neuron": NEURON_RESOURCE}


def _check(props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    limits = value(props, "spec", "limits")
    if limits is UNKNOWN:
        return []
    if limits is MISSING or not plain(limits):
        return ["spec.limits is unset, so the pool may launch without bound; set cpu and memory"]
    limits = plain(limits)
    needed = ["cpu", "memory"]
    kind = accelerator(props)
    if kind in DEVICE:
        needed.append(DEVICE[kind])
    missing = [k for k in needed if k not in limits]
    if kind == "nvidia" and GPU_RESOURCE in missing and GPU_SHARED_RESOURCE in limits:
        missing.remove(GPU_RESOURCE)
    if missing:
        return [f"spec.limits lacks {', '.join(missing)} for a {kind or 'CPU'} pool"]
    return []


POLICY = ResourceValidationPolicy(
    name="r15-nodepool-limits",
    description="R15: every NodePool sets spec.limits (cpu, memory, and nvidia.com/gpu, "
    "nvidia.com/gpu.shared or aws.amazon.com/neuron for accelerator pools) (Karpenter BPG).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=by_type({NODE_POOL: _check}),
)
