"""R32: GPU workloads go through Kueue: the object Kueue manages carries
`kueue.x-k8s.io/queue-name`, so GPU quota, fair sharing and preemption apply to it.

Judged on every kind a tenant may submit GPU work as: bare Pods, Jobs, CronJobs (the label sits
in `spec.jobTemplate.metadata.labels`, which Kueue reads from the Jobs the CronJob creates),
Deployments, StatefulSets, JobSets, LeaderWorkerSets, RayJobs and RayClusters.

Who created the object decides whether it is judged, never its `ownerReferences` (a tenant can
write any owner into a bare pod): objects created by Kubernetes' controllers
(kube-controller-manager, or its per-controller service accounts in kube-system) and by the
service accounts of platform namespaces (JobSet, LeaderWorkerSet and KubeRay operators) are the
children of a workload Kueue already governs through its owner; everything a tenant creates,
directly or through its own service accounts, is judged. Background scans are off: a scan has
no requester, so it could not tell a controller's pod from a tenant's.
"""

from __future__ import annotations

from typing import Any

from substrate.components.admission.admission_policies._base import (
    POD_RULE,
    PolicySettings,
    cel,
    requested_by_controllers,
    requests_gpu,
    validating_policy,
    validation,
    variable,
)
from substrate.components.core.labels import GPU_RESOURCE, GPU_SHARED_RESOURCE, KUEUE_QUEUE_LABEL

NAME = "gpu-queue-label"
RULE = "R32"


def _rule(group: str, version: str, *resources: str) -> dict[str, Any]:
    return {
        "apiGroups": [group],
        "apiVersions": [version],
        "operations": ["CREATE", "UPDATE"],
        "resources": list(resources),
    }


RESOURCE_RULES = (
    POD_RULE,
    _rule("batch", "v1", "jobs", "cronjobs"),
    _rule("apps", "v1", "deployments", "statefulsets"),
    _rule("jobset.x-k8s.io", "v1alpha2", "jobsets"),
    _rule("leaderworkerset.x-k8s.io", "v1", "leaderworkersets"),
    _rule("ray.io", "v1", "rayjobs", "rayclusters"),
)


def _ray(cluster: str) -> str:
    """CEL: the head and worker pod specs of a RayCluster spec at ``cluster``."""
    return (
        f"[{cluster}.headGroupSpec.template.spec] + "
        f"{cluster}.?workerGroupSpecs.orValue([]).map(g, g.template.spec)"
    )


LWS = "object.spec.leaderWorkerTemplate"
POD_SPECS = (
    "object.kind == 'Pod' ? [object.spec] : "
    "object.kind == 'CronJob' ? [object.spec.jobTemplate.spec.template.spec] : "
    "object.kind == 'JobSet' ? "
    "object.spec.replicatedJobs.map(r, r.template.spec.template.spec) : "
    f"object.kind == 'LeaderWorkerSet' ? [{LWS}.workerTemplate.spec] + "
    f"({LWS}.?leaderTemplate.hasValue() ? [{LWS}.leaderTemplate.spec] : []) : "
    f"object.kind == 'RayJob' ? {_ray('object.spec.rayClusterSpec')} : "
    f"object.kind == 'RayCluster' ? {_ray('object.spec')} : "
    "[object.spec.template.spec]"
)
"""CEL: the pod specs of the submitted object, by kind."""

QUEUE_LABELS = (
    "object.kind == 'CronJob' ? object.spec.jobTemplate.?metadata.?labels.orValue({}) : "
    "object.metadata.?labels.orValue({})"
)
"""CEL: where Kueue reads the queue name of the submitted object."""


def build(settings: PolicySettings) -> dict[str, Any]:
    policy = validating_policy(
        NAME,
        settings,
        rule=RULE,
        title="GPU workloads carry a Kueue queue label",
        subject="Pod, Job, CronJob, Deployment, StatefulSet, JobSet, LeaderWorkerSet, RayJob, "
        "RayCluster",
        description=f"Workloads tenants submit that request {GPU_RESOURCE} or "
        f"{GPU_SHARED_RESOURCE} carry the {KUEUE_QUEUE_LABEL} label so Kueue admits them "
        "against the tenant's GPU quota.",
        resource_rules=RESOURCE_RULES,
        match_conditions=[
            {
                "name": "submitted-by-tenants",
                "expression": f"!({requested_by_controllers(settings)})",
            }
        ],
        variables=[
            variable("podSpecs", POD_SPECS),
            variable("requestsGpu", f"variables.podSpecs.exists(s, {requests_gpu('s')})"),
            variable("queueLabels", QUEUE_LABELS),
        ],
        validations=[
            validation(
                f"!variables.requestsGpu || {cel(KUEUE_QUEUE_LABEL)} in variables.queueLabels",
                f"Workloads requesting GPUs must carry the {KUEUE_QUEUE_LABEL} label (the "
                "tenant's LocalQueue).",
                "object.kind + ' ' + object.metadata.?name.orValue('') + "
                f"' requests GPUs but has no {KUEUE_QUEUE_LABEL} label naming the "
                "tenant LocalQueue'",
            ),
        ],
    )
    policy["spec"]["evaluation"] = {"background": {"enabled": False}}
    return policy
