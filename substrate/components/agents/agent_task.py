"""A task agent: a KEDA ScaledJob instead of a StatefulSet and ScaledObject.

KEDA (v2.20.2, pkg/scaling/executor/scale_jobs.go) creates, for each unit of work its triggers
report, a Job named `<scaledjob>-<random>` whose spec is `jobTargetRef`, labelled with the
ScaledJob's own labels (so the tenant's Kueue queue label on the ScaledJob reaches every Job) and
controlled by the ScaledJob. The Job's pod is the agent's: its service account (Bedrock role,
SPIFFE ID), image, resources, environment and timeouts, with one difference: a task's memory is
ephemeral, a generic ephemeral volume of the agent's StorageClass and size that Kubernetes
creates with the pod and deletes with it (nothing to retain, snapshot or restore between tasks).
The Job ends after `max_run_seconds` (`activeDeadlineSeconds`) and retries `retries` times.
"""

from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from substrate.components.agents import agent_manifests as m
from substrate.components.cluster.storage import AGENT_CLASS
from substrate.components.core.labels import KARPENTER_DO_NOT_DISRUPT, KUEUE_QUEUE_LABEL
from substrate.components.workloads.elastic_workload import trigger_manifest

if TYPE_CHECKING:
    from substrate.components.agents.agent_runtime import AgentRuntimeArgs

SCALED_JOB_API = "keda.sh/v1alpha1"


class AgentMode(StrEnum):
    """How an agent runs."""

    SERVICE = "service"
    """A StatefulSet serving sessions, each replica with its own retained memory volume."""
    TASK = "task"
    """A KEDA ScaledJob: one Job per unit of work, with ephemeral memory."""


class TaskArgs(TypedDict, total=False):
    """A task agent's Jobs."""

    max_run_seconds: NotRequired[int]
    """`activeDeadlineSeconds` of each Job (default: the session lifetime, 28800)."""
    retries: NotRequired[int]
    """`backoffLimit` of each Job (default 1)."""
    history: NotRequired[int]
    """Finished Jobs KEDA keeps of each outcome (default 5)."""
    queue: NotRequired[str]
    """The tenant's Kueue LocalQueue, set as the Jobs' `kueue.x-k8s.io/queue-name` label."""


def job_pod_spec(args: "AgentRuntimeArgs") -> dict[str, Any]:
    """The agent's pod spec for a Job: its memory an ephemeral volume, never restarted in place
    (the Job retries with a new pod), no probes a finished task could fail."""
    spec = m.pod_spec(args)
    volume = args["memory_volume"]
    spec["restartPolicy"] = "Never"
    # Tasks are independent Jobs: a zone spread over every task pod (finished ones included)
    # could leave a new task unschedulable.
    spec.pop("topologySpreadConstraints", None)
    spec["volumes"].append(
        {
            "name": m.MEMORY_VOLUME,
            "ephemeral": {
                "volumeClaimTemplate": {
                    "metadata": {"labels": m.object_labels(args["agent"], args["tenant"])},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": volume.get("storage_class", AGENT_CLASS),
                        "resources": {"requests": {"storage": volume["size"]}},
                    },
                }
            },
        }
    )
    (container,) = spec["containers"]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        container.pop(probe, None)
    container.pop("ports", None)
    return spec


def labels(args: "AgentRuntimeArgs") -> dict[str, str]:
    """The ScaledJob's labels, which KEDA copies onto every Job it creates."""
    out = m.object_labels(args["agent"], args["tenant"])
    queue = args.get("task", {}).get("queue")
    if queue:
        out[KUEUE_QUEUE_LABEL] = queue
    return out


def scaled_job_spec(args: "AgentRuntimeArgs", auth: str | None) -> dict[str, Any]:
    """`keda.sh/v1alpha1` ScaledJob spec (CRD of KEDA v2.20.2)."""
    scaling = args.get("scaling")
    if scaling is None:
        raise ValueError(f"task agent {args['agent']}: scaling (its triggers) is required")
    task = args.get("task", {})
    timeouts = args.get("timeouts", {})
    annotations: Mapping[str, str] = {"kubectl.kubernetes.io/default-container": m.CONTAINER}
    if args.get("protect_long_tasks", True):
        annotations = {**annotations, KARPENTER_DO_NOT_DISRUPT: "true"}
    history = task.get("history", 5)
    return {
        "jobTargetRef": {
            "parallelism": 1,
            "completions": 1,
            "activeDeadlineSeconds": task.get(
                "max_run_seconds", timeouts.get("session_seconds", 28800)
            ),
            "backoffLimit": task.get("retries", 1),
            "template": {
                "metadata": {
                    "labels": m.pod_labels(args["agent"], args["tenant"]),
                    "annotations": dict(annotations),
                },
                "spec": job_pod_spec(args),
            },
        },
        "pollingInterval": scaling.get("polling_interval_seconds", 30),
        "successfulJobsHistoryLimit": history,
        "failedJobsHistoryLimit": history,
        "minReplicaCount": 0,
        "maxReplicaCount": scaling["max_replicas"],
        "triggers": [trigger_manifest(t, scaling.get("region"), auth) for t in scaling["triggers"]],
    }
