"""Objects users submit in the queue journeys, as docs/workloads.md shows them."""

from __future__ import annotations

from typing import Any

QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
POOL_LABEL = "substrate.io/pool"
PRIORITY_LABEL = "kueue.x-k8s.io/priority-class"
IMAGE = "210987654321.dkr.ecr.us-east-1.amazonaws.com/ml/trainer:2026.11.0"


def labels(queue: str | None, priority: str | None) -> dict[str, str]:
    out = {}
    if queue is not None:
        out[QUEUE_LABEL] = queue
    if priority is not None:
        out[PRIORITY_LABEL] = priority
    return out


def container(requests: dict[str, str], limits: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "name": "main",
        "image": IMAGE,
        "resources": {"requests": requests, "limits": limits if limits is not None else {}},
    }


def pod_spec(requests: dict[str, str], limits: dict[str, str] | None = None) -> dict[str, Any]:
    return {"restartPolicy": "Never", "containers": [container(requests, limits)]}


def job(
    name: str,
    namespace: str,
    requests: dict[str, str],
    *,
    pods: int = 1,
    queue: str | None = None,
    priority: str | None = None,
    limits: dict[str, str] | None = None,
    pool: str | None = None,
) -> dict[str, Any]:
    """A batch/v1 Job of `pods` parallel pods (one pod set). Limits default to the requests
    but CPU (tenant LimitRanges default a 512Mi memory limit, which a larger request breaks).
    `pool` pins it with `nodeSelector: {substrate.io/pool: <pool>}` (Kueue then considers only
    that pool's flavor)."""
    if limits is None:
        limits = {k: v for k, v in requests.items() if k != "cpu"}
    spec = pod_spec(requests, limits)
    if pool is not None:
        spec["nodeSelector"] = {POOL_LABEL: pool}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(queue, priority)},
        "spec": {
            "parallelism": pods,
            "completions": pods,
            "template": {"spec": spec},
        },
    }


def pod(name: str, namespace: str, requests: dict[str, str]) -> dict[str, Any]:
    """A bare Pod (no owner), limits equal to requests."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": pod_spec(requests, requests),
    }


def jobset(
    name: str,
    namespace: str,
    groups: dict[str, tuple[int, dict[str, str]]],
    *,
    queue: str,
    priority: str | None = None,
) -> dict[str, Any]:
    """A JobSet with one replicated job (one Kueue pod set) per group: name -> (pods, requests)."""
    replicated = [
        {
            "name": group,
            "replicas": 1,
            "template": {
                "spec": {
                    "parallelism": pods,
                    "completions": pods,
                    "template": {"spec": pod_spec(requests, requests)},
                }
            },
        }
        for group, (pods, requests) in groups.items()
    ]
    return {
        "apiVersion": "jobset.x-k8s.io/v1alpha2",
        "kind": "JobSet",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(queue, priority)},
        "spec": {"replicatedJobs": replicated},
    }


def deployment(
    name: str, namespace: str, replicas: int, requests: dict[str, str], *, queue: str
) -> dict[str, Any]:
    """A Deployment whose replicas Kueue's deployment integration admits pod by pod."""
    selector = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(queue, None)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": selector},
                "spec": {"containers": [container(requests, requests)]},
            },
        },
    }
