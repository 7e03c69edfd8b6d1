"""R32: GPU workloads go through Kueue: the object Kueue manages carries
`kueue.x-k8s.io/queue-name`, so GPU quota, fair sharing and preemption apply to it.

Checked on the top-level object (no ownerReferences): bare Pods, Jobs, JobSets, Deployments and
StatefulSets. Pods and Jobs created by a controller are skipped: Kueue reads the label from the
owner, and the children of a correctly labelled owner must not be rejected.
"""

from __future__ import annotations

from typing import Any

from components.admission_policies._base import (
    POD_RULE,
    PolicySettings,
    cel,
    requests_gpu,
    validating_policy,
    validation,
    variable,
)
from components.labels import GPU_RESOURCE, KUEUE_QUEUE_LABEL

NAME = "gpu-queue-label"
RULE = "R32"

RESOURCE_RULES = (
    POD_RULE,
    {
        "apiGroups": ["batch"],
        "apiVersions": ["v1"],
        "operations": ["CREATE", "UPDATE"],
        "resources": ["jobs"],
    },
    {
        "apiGroups": ["apps"],
        "apiVersions": ["v1"],
        "operations": ["CREATE", "UPDATE"],
        "resources": ["deployments", "statefulsets"],
    },
    {
        "apiGroups": ["jobset.x-k8s.io"],
        "apiVersions": ["v1alpha2"],
        "operations": ["CREATE", "UPDATE"],
        "resources": ["jobsets"],
    },
)

POD_SPECS = (
    "object.kind == 'Pod' ? [object.spec] : object.kind == 'JobSet' ? "
    "object.spec.replicatedJobs.map(r, r.template.spec.template.spec) : "
    "[object.spec.template.spec]"
)


def build(settings: PolicySettings) -> dict[str, Any]:
    return validating_policy(
        NAME,
        settings,
        rule=RULE,
        title="GPU workloads carry a Kueue queue label",
        subject="Pod, Job, JobSet, Deployment, StatefulSet",
        description=f"Top-level workloads requesting {GPU_RESOURCE} carry the "
        f"{KUEUE_QUEUE_LABEL} label so Kueue admits them against the tenant's GPU quota.",
        resource_rules=RESOURCE_RULES,
        match_conditions=[
            {
                "name": "top-level-objects-only",
                "expression": "size(object.metadata.?ownerReferences.orValue([])) == 0",
            }
        ],
        variables=[
            variable("podSpecs", POD_SPECS),
            variable(
                "requestsGpu",
                f"variables.podSpecs.exists(s, {requests_gpu('s')})",
            ),
        ],
        validations=[
            validation(
                f"!variables.requestsGpu || {cel(KUEUE_QUEUE_LABEL)} in "
                "object.metadata.?labels.orValue({})",
                f"Workloads requesting GPUs must carry the {KUEUE_QUEUE_LABEL} label (the "
                "tenant's LocalQueue).",
                "object.kind + ' ' + object.metadata.?name.orValue('') + "
                f"' requests {GPU_RESOURCE} but has no {KUEUE_QUEUE_LABEL} label naming the "
                "tenant LocalQueue'",
            ),
        ],
    )
