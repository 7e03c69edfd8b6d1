"""The driver and executor pods of an admitted SparkApplication, as they reach the API server
(used by `substrate check` and the Spark journeys).

What runs here is not Spark: spark-submit (inside the operator's pod) creates the driver pod and
the driver's JVM creates the executors; neither is an engine we can run offline. The pods are
assembled from:

- Kueue's own pod set templates for the application (Kueue v0.19.2's port of the operator's
  pod defaulter, as the kueue engine reports it: requests, limits, node selectors, tolerations,
  volumes) — the resource shape Kueue admitted;
- the admitted SparkApplication as Kueue left it (its driver/executor labels and annotations,
  which the operator passes on as `spark.kubernetes.{driver,executor}.label.*`);
- the fields spark-submit and the operator set from the spec (spark-operator v2.5.1
  `internal/controller/sparkapplication/submission.go`, `internal/webhook/sparkpod_defaulter.go`;
  Spark's running-on-kubernetes docs): the image, the driver's service account, the
  `spark-role`/`sparkoperator.k8s.io/app-name`/`launched-by-spark-operator` labels, the pod and
  container security contexts, an emptyDir `spark-local-dir-1` for Spark's local dirs, and the
  owner references (driver -> SparkApplication, executor -> driver pod);
- the pod's memory as Spark sizes it (running-on-kubernetes: `memory` + `memoryOverhead`,
  by default `memoryOverheadFactor` 0.10 of it and at least 384 MiB, as request and limit; the
  operator's webhook then sets `memoryLimit` as the limit). Kueue counts `memory` alone.
"""

from __future__ import annotations

import copy
from typing import Any

from substrate.engines.kueue_results import Workload

Object = dict[str, Any]
LOCAL_DIR = {"name": "spark-local-dir-1", "mountPath": "/var/data/spark-local-dir-1"}
MIB = 1024**2
UNITS = {"k": 1024, "m": MIB, "g": 1024 * MIB, "t": 1024**2 * MIB}


def java_bytes(text: str) -> int:
    """A JVM memory string (`4g`, `512m`) in bytes, as Spark reads it (binary units)."""
    return int(text[:-1]) * UNITS[text[-1].lower()]


def pod_memory(part: dict[str, Any]) -> tuple[int, int]:
    """(request, limit) in bytes of a Spark pod's container."""
    memory = java_bytes(part["memory"])
    overhead = part.get("memoryOverhead")
    extra = java_bytes(overhead) if overhead else max(memory // 10, 384 * MIB)
    limit = part.get("memoryLimit")
    return memory + extra, java_bytes(limit) if limit else memory + extra


def _owner(obj: Object, api_version: str, kind: str) -> Object:
    meta = obj["metadata"]
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
    }


def _pod(app: Object, workload: Workload, role: str, name: str, owner: Object) -> Object:
    spec = app["spec"]
    part = spec[role]
    (pod_set,) = [p for p in workload.pod_sets if p.name == role]
    template = copy.deepcopy(dict(pod_set.template))
    pod_spec = template.get("spec", {})
    container = pod_spec["containers"][0]
    container["image"] = part.get("image", spec["image"])
    request, limit = pod_memory(part)
    resources = container.setdefault("resources", {})
    resources.setdefault("requests", {})["memory"] = f"{request // MIB}Mi"
    resources.setdefault("limits", {})["memory"] = f"{limit // MIB}Mi"
    if "securityContext" in part:
        container["securityContext"] = copy.deepcopy(part["securityContext"])
    container.setdefault("volumeMounts", []).append(dict(LOCAL_DIR))
    pod_spec.setdefault("volumes", []).append({"name": LOCAL_DIR["name"], "emptyDir": {}})
    pod_spec["restartPolicy"] = "Never"
    if "podSecurityContext" in part:
        pod_spec["securityContext"] = copy.deepcopy(part["podSecurityContext"])
    if part.get("serviceAccount"):  # else Kubernetes' default: the namespace's `default`
        pod_spec["serviceAccountName"] = part["serviceAccount"]
    app_name = app["metadata"]["name"]
    labels = {
        **part.get("labels", {}),
        "spark-role": role,
        "spark-app-selector": f"spark-{app['metadata']['uid']}",
        "sparkoperator.k8s.io/app-name": app_name,
        "sparkoperator.k8s.io/launched-by-spark-operator": "true",
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": app["metadata"]["namespace"],
            "labels": labels,
            "annotations": dict(part.get("annotations", {})),
            "ownerReferences": [owner],
        },
        "spec": pod_spec,
    }


def driver_pod(app: Object, workload: Workload) -> Object:
    """The pod spark-submit creates (under the operator's service account)."""
    owner = _owner(app, app["apiVersion"], "SparkApplication")
    return _pod(app, workload, "driver", f"{app['metadata']['name']}-driver", owner)


def executor_pods(app: Object, workload: Workload, driver: Object) -> list[Object]:
    """The pods the driver creates (under the driver's service account), `instances` of them."""
    owner = _owner(driver, "v1", "Pod")
    count = int(app["spec"]["executor"]["instances"])
    name = app["metadata"]["name"]
    return [_pod(app, workload, "executor", f"{name}-exec-{i}", owner) for i in range(1, count + 1)]
