"""R17: GPU NodePools taint `nvidia.com/gpu:NoSchedule` (Neuron pools
`aws.amazon.com/neuron:NoSchedule`) so only pods that ask for accelerators land there, and no
two NodePools match the same pod with equal weight (same taints, shared instance families and
capacity types), where Karpenter would pick either (Karpenter BPG, BPG AI/ML)."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from substrate.components.capacity.pools import overlaps
from substrate.components.core.labels import GPU_TAINT, NEURON_TAINT

from ._nodepool import accelerator, has_taint, selection
from ._tenancy import name_of
from ._types import NODE_POOL

TAINT = {"nvidia": GPU_TAINT["key"], "neuron": NEURON_TAINT["key"]}


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    pools = [r for r in args.resources if r.resource_type == NODE_POOL]
    selections = []
    for pool in pools:
        name = name_of(pool)
        kind = accelerator(pool.props)
        if kind in TAINT and not has_taint(pool.props, TAINT[kind]):
            report_violation(
                f"NodePool {name!r} launches {kind} instances without the "
                f"{TAINT[kind]}:NoSchedule taint, so any pod could land on (and pin) them",
                pool.urn,
            )
        selections.append(selection(name, pool.props))
    urns = {s.name: p.urn for s, p in zip(selections, pools, strict=True)}
    for clash in overlaps(selections):
        report_violation(f"NodePool {clash.second!r} {clash.describe()}", urns[clash.second])


POLICY = StackValidationPolicy(
    name="r17-gpu-pools",
    description="R17: GPU NodePools taint nvidia.com/gpu:NoSchedule (Neuron pools "
    "aws.amazon.com/neuron) and NodePools are mutually exclusive or weighted (Karpenter BPG).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate,
)
