"""SparkApplications in `substrate check`: where a tenant may create them, and the pods that
follow once Kueue admits one.

Only the Spark tenants' namespaces run SparkApplications (the operator's `--namespaces` and its
webhooks cover only those, `substrate:workloads.spark`); elsewhere, or on a stack without Spark,
one is refused as bad input. No engine runs the operator or Spark: the driver pod (created by
spark-submit under the operator controller's service account) and the executor pods (created by
the driver under its own service account) are assembled by :mod:`substrate.engines.spark_pods`
from the application as Kueue admitted it, then created through the API server engine, each as
its creator, so Kueue's pod webhook, Pod Security and Kyverno judge them as they will be.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from substrate.check.inputs import Manifest, ManifestError
from substrate.config import PlatformConfig
from substrate.engines import apiserver
from substrate.engines.kueue_results import Workload
from substrate.engines.spark_pods import driver_pod, executor_pods

KIND = "SparkApplication"
OPERATOR_LABELS = {
    "app.kubernetes.io/name": "spark-operator",
    "app.kubernetes.io/component": "controller",
}
"""Labels of the operator controller's ServiceAccount as the spark-operator chart renders it."""

User = dict[str, Any]


def namespaces(config: PlatformConfig) -> list[str]:
    """The namespaces the stack's Spark Operator watches (its Spark tenants' namespaces)."""
    spark = config.workloads.spark
    if spark is None:
        return []
    return sorted(ns for t in spark.tenants for ns in config.tenants[t].spec(t).namespaces)


def refuse_unwatched(placed: Sequence[tuple[str, Manifest]], watched: Sequence[str]) -> None:
    """ManifestError for a SparkApplication outside the namespaces the operator watches."""
    for _, m in placed:
        if m.kind != KIND or m.namespace in watched:
            continue
        if not watched:
            raise ManifestError(
                f"{m.source}: {m.ref}: this stack runs no Spark Operator "
                "(substrate:workloads.spark)"
            )
        raise ManifestError(
            f"{m.source}: {m.ref}: the Spark Operator does not watch namespace {m.namespace} "
            f"(Spark namespaces: {', '.join(watched)})"
        )


def service_account(namespace: str, name: str) -> User:
    return {
        "username": f"system:serviceaccount:{namespace}:{name}",
        "groups": ["system:serviceaccounts", f"system:serviceaccounts:{namespace}"],
    }


def operator_account(state: apiserver.ClusterState) -> User | None:
    """The operator controller's service account, found in the rendered cluster."""
    for obj in state.cluster:
        meta = obj.get("metadata") or {}
        labels = meta.get("labels") or {}
        if obj.get("kind") == "ServiceAccount" and all(
            labels.get(k) == v for k, v in OPERATOR_LABELS.items()
        ):
            return service_account(str(meta.get("namespace", "")), str(meta["name"]))
    return None


def pods(
    state: apiserver.ClusterState,
    app: Mapping[str, Any],
    workload: Workload,
    uid: str,
) -> list[tuple[apiserver.Admission, User]]:
    """The driver then the executors through the API server, each with its creator: ``app`` is
    the SparkApplication as Kueue admitted it, ``uid`` the one the API server gave it."""
    operator = operator_account(state)
    if operator is None:
        return []
    stored = {**app, "metadata": {**app["metadata"], "uid": uid}}
    with_app = dataclasses.replace(state, cluster=(*state.cluster, stored))
    (driver,) = apiserver.admit(
        with_app,
        [driver_pod(stored, workload)],
        username=operator["username"],
        groups=operator["groups"],
    ).results
    out: list[tuple[apiserver.Admission, User]] = [(driver, operator)]
    if driver.admitted is None:
        return out
    namespace = str(stored["metadata"]["namespace"])
    driver_sa = service_account(
        namespace, str(stored["spec"]["driver"].get("serviceAccount") or "default")
    )
    with_driver = dataclasses.replace(with_app, cluster=(*with_app.cluster, driver.admitted))
    executors = apiserver.admit(
        with_driver,
        executor_pods(stored, workload, dict(driver.admitted)),
        username=driver_sa["username"],
        groups=driver_sa["groups"],
    ).results
    return out + [(e, driver_sa) for e in executors]
