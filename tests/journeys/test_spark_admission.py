"""A SparkApplication's way into the cluster, on every stack that runs Spark: the tenant's CREATE
(the apiserver engine: Kubernetes' admission chain with Kueue's webhooks in process), Kueue's
admission (the kueue engine), then the driver pod under the operator's service account and the
executor pods under the driver's, each through the API server and the stack's Kyverno policies.
How the pods are assembled: substrate/engines/spark_pods.py."""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any

import pytest

from substrate.engines import apiserver
from substrate.engines.spark_pods import driver_pod, executor_pods
from tests.helpers import require_engine
from tests.journeys.cluster import Stack, denied, stack, tenant_engineer
from tests.journeys.journey import journey
from tests.journeys.test_spark import SPARK_DOCS, SPARK_STACKS, spark_run

GATE = "kueue.x-k8s.io/admission"
QUEUE = "kueue.x-k8s.io/queue-name"


def service_account(namespace: str, name: str) -> dict[str, Any]:
    return {
        "username": f"system:serviceaccount:{namespace}:{name}",
        "groups": ["system:serviceaccounts", f"system:serviceaccounts:{namespace}"],
    }


def operator_account(s: Stack) -> dict[str, Any]:
    """The operator controller's service account, as the chart renders it."""
    spark = s.config.workloads.spark
    assert spark is not None
    (name,) = [
        o["metadata"]["name"]
        for o in s.state.cluster
        if o["kind"] == "ServiceAccount"
        and o["metadata"].get("namespace") == spark.namespace
        and o["metadata"]["name"].endswith("-controller")
    ]
    return service_account(spark.namespace, name)


@dataclasses.dataclass(frozen=True)
class SparkAdmission:
    app: apiserver.Admission
    app_verdicts: dict[str, str]
    driver: apiserver.Admission
    driver_verdicts: dict[str, str]
    executors: tuple[apiserver.Admission, ...]
    executor_verdicts: dict[str, dict[str, str]]


@cache
def admitted(name: str) -> SparkAdmission:
    require_engine("apiserver")
    s = stack(name)
    first = spark_run(name)[0]
    workload = first.workload_of("SparkApplication", "features")
    app = dict(first.object("SparkApplication", "features"))  # as Kueue admitted it
    engineer = tenant_engineer("data-eng")
    (created,) = s.create([first.created_object("SparkApplication", "features")], engineer).results
    assert created.admitted is not None
    app["metadata"] = {**app["metadata"], "uid": created.admitted["metadata"]["uid"]}
    with_app = dataclasses.replace(s.state, cluster=(*s.state.cluster, app))
    operator = operator_account(s)
    (driver,) = apiserver.admit(
        with_app,
        [driver_pod(app, workload)],
        username=operator["username"],
        groups=operator["groups"],
    ).results
    assert driver.admitted is not None, driver.errors
    with_driver = dataclasses.replace(with_app, cluster=(*with_app.cluster, driver.admitted))
    sa = service_account("data-eng", app["spec"]["executor"]["serviceAccount"])
    executors = apiserver.admit(
        with_driver,
        executor_pods(app, workload, dict(driver.admitted)),
        username=sa["username"],
        groups=sa["groups"],
    ).results
    pods = [e.admitted for e in executors if e.admitted is not None]
    app_v = s.admit([created.admitted], engineer)
    driver_v = s.admit([driver.admitted], operator)
    exec_v = s.admit(pods, sa)
    return SparkAdmission(
        created,
        denied(app_v, "features"),
        driver,
        denied(driver_v, driver.name),
        tuple(executors),
        {e.name: denied(exec_v, e.name) for e in executors},
    )


@journey(
    user="data engineer of the Spark tenant; the Spark Operator; the Spark driver",
    stack="dev, staging, prod",
    steps=[
        "the engineer creates the documented SparkApplication",
        "Kueue admits its Workload (driver + executors) and unsuspends it",
        "the operator (its controller's service account) creates the driver pod",
        "the driver (service account spark) creates the executor pods",
    ],
    outcome="the API server stores all of them; Kueue's webhook suspends the SparkApplication "
    "before Kyverno sees it; the driver and executor pods are not queued again (Kueue finds "
    "their queued SparkApplication among their owners: no gate, no queue label); every pod "
    "passes Pod Security restricted and no Kyverno policy refuses any object; executors run "
    "on the NVMe pool with their local dir on an emptyDir (the node's instance-store RAID0)",
    docs=[SPARK_DOCS],
)
@pytest.mark.parametrize("name", SPARK_STACKS)
def test_spark_pods_go_through_kueue_and_kyverno(name: str) -> None:
    run = admitted(name)
    assert run.app.created and run.app.admitted is not None
    assert run.app.admitted["spec"]["suspend"] is True
    assert run.app_verdicts == {}
    for pod, verdicts in [
        (run.driver, run.driver_verdicts),
        *[(e, run.executor_verdicts[e.name]) for e in run.executors],
    ]:
        assert pod.created, (pod.name, pod.errors)
        assert pod.admitted is not None
        gates = [g["name"] for g in pod.admitted["spec"].get("schedulingGates", [])]
        assert GATE not in gates, pod.name
        assert QUEUE not in pod.admitted["metadata"].get("labels", {}), pod.name
        assert pod.pod_security is not None and pod.pod_security.enforce.allowed, pod.name
        assert verdicts == {}, (pod.name, verdicts)
    assert len(run.executors) == 4
    for e in run.executors:
        assert e.admitted is not None
        spec = e.admitted["spec"]
        assert spec["nodeSelector"]["substrate.io/pool"] == "nvme"
        assert {"name": "spark-local-dir-1", "emptyDir": {}} in spec["volumes"]


@journey(
    user="a Spark driver of the Spark tenant",
    stack="dev, staging, prod",
    steps=["the driver's service account creates a pod with no owner (not an executor)"],
    outcome="Kueue's pod webhook labels it kueue.x-k8s.io/queue-name: default and gates it: "
    "only pods owned by a queued SparkApplication skip the queue",
    docs=[SPARK_DOCS],
)
@pytest.mark.parametrize("name", SPARK_STACKS)
def test_a_pod_the_driver_creates_without_an_owner_is_queued(name: str) -> None:
    s = stack(name)
    first = spark_run(name)[0]
    workload = first.workload_of("SparkApplication", "features")
    app = dict(first.object("SparkApplication", "features"))
    app["metadata"] = {**app["metadata"], "uid": "00000000-0000-0000-0000-000000000000"}
    stray = driver_pod(app, workload)
    stray["metadata"]["name"] = "stray"
    del stray["metadata"]["ownerReferences"]
    sa = service_account("data-eng", "spark")
    (pod,) = apiserver.admit(s.state, [stray], username=sa["username"], groups=sa["groups"]).results
    assert pod.admitted is not None
    assert pod.admitted["metadata"]["labels"][QUEUE] == "default"
    assert GATE in [g["name"] for g in pod.admitted["spec"]["schedulingGates"]]
