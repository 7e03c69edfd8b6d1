"""P4: agent memory survives the agent. StatefulSets of agents (pod template labelled
`substrate.io/workload-class: agent`) keep the claims of their `volumeClaimTemplates` when
deleted or scaled down (`persistentVolumeClaimRetentionPolicy` whenDeleted and whenScaled
`Retain`, the Kubernetes default when unset), and the StorageClass those claims use, when the
stack declares it, has `reclaimPolicy: Retain` (so deleting a claim by hand keeps the EBS
volume). Applies where the stack's config sets `requireRetainedMemory` (production).
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from substrate.components.core.labels import WORKLOAD_CLASS_LABEL

from ._props import UNKNOWN, value
from ._types import STORAGE_CLASS
from ._workloads import Workload, workloads


def _reclaim_policies(args: StackValidationArgs) -> dict[str, Any]:
    """StorageClass name -> reclaimPolicy (Kubernetes defaults it to Delete)."""
    out = {}
    for r in args.resources:
        if r.resource_type == STORAGE_CLASS:
            name = value(r.props, "metadata", "name")
            if isinstance(name, str):
                policy = value(r.props, "reclaimPolicy")
                out[name] = policy if isinstance(policy, str) or policy is UNKNOWN else "Delete"
    return out


def problems(w: Workload, classes: dict[str, Any]) -> list[str]:
    out = []
    retention = w.spec.get("persistentVolumeClaimRetentionPolicy") or {}
    for key in ("whenDeleted", "whenScaled"):
        action = retention.get(key, "Retain") if isinstance(retention, dict) else "Retain"
        if action not in ("Retain", UNKNOWN):
            out.append(f"deletes its memory claims ({key}: {action})")
    for template in w.spec.get("volumeClaimTemplates") or []:
        cls = ((template or {}).get("spec") or {}).get("storageClassName")
        policy = classes.get(cls) if isinstance(cls, str) else None
        if policy not in (None, "Retain", UNKNOWN):
            claim = (template.get("metadata") or {}).get("name")
            out.append(
                f"keeps claim {claim!r} on StorageClass {cls!r}, whose reclaimPolicy is {policy}"
            )
    return out


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    if not (args.get_config() or {}).get("requireRetainedMemory"):
        return
    classes = _reclaim_policies(args)
    for w in workloads(args.resources):
        agent = w.pod_labels.get(WORKLOAD_CLASS_LABEL) == "agent"
        if w.kind != "StatefulSet" or not agent or not w.spec.get("volumeClaimTemplates"):
            continue
        for problem in problems(w, classes):
            report_violation(
                f"agent StatefulSet {w.namespace}/{w.name} {problem}; this stack keeps agent "
                "memory",
                w.urn,
            )


POLICY = StackValidationPolicy(
    name="p4-agent-memory-retained",
    description="P4: where `requireRetainedMemory` is set (production), agent StatefulSets retain "
    "their memory claims on deletion and scale-down and their StorageClass retains volumes.",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={"requireRetainedMemory": {"type": "boolean", "default": False}}
    ),
    validate=validate,
)
