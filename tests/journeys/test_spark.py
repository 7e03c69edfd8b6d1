"""Spark on the shared queues: the documented SparkApplication, judged by Kueue v0.19.2's own
SparkApplication integration (webhook, pod sets, scheduler) on every stack that runs Spark.
Numbers come from the stack: the tenant's ceiling and the docs' own example."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from substrate.components.workloads.tenancy import memory_bytes
from substrate.engines.kueue import Step, StepResult
from substrate.engines.spark_pods import java_bytes
from tests.helpers import STACKS, stack_yaml, typed_config
from tests.journeys import queue_objects as q
from tests.journeys.cluster import denied, docs_yaml, judged_by, rehome, tenant_engineer
from tests.journeys.cluster import stack as cluster_stack
from tests.journeys.journey import journey
from tests.journeys.queues import QueueStack, played

SPARK_DOCS = "docs/workloads.md#spark-jobs"
SPARK_STACKS = [s for s in STACKS if typed_config(stack_yaml(s)).workloads.spark is not None]
NVME = {"substrate.io/pool": "nvme"}


def documented(s: QueueStack, name: str = "features") -> dict[str, Any]:
    (app,) = docs_yaml("workloads.md", "Spark jobs")
    app = rehome(app, s.config.admission.allowed_registries[0])
    app["metadata"]["name"] = name
    return app


def spark_tenant(s: QueueStack) -> str:
    spark = s.config.workloads.spark
    assert spark is not None
    (tenant, *_) = sorted(spark.tenants)
    return tenant


def _scenario(s: QueueStack) -> list[Step]:
    tenant = spark_tenant(s)
    unlabelled = documented(s, "unlabelled")
    del unlabelled["metadata"]["labels"]
    too_big = documented(s, "too-big")
    too_big["spec"]["executor"]["instances"] = s.cpu_ceiling(tenant) // 4 + 1
    return [
        Step("submit the documented SparkApplication", submit=[documented(s)]),
        Step("submit it without a queue label", submit=[unlabelled]),
        Step("submit one larger than the tenant's ceiling", submit=[too_big]),
    ]


def _variants(s: QueueStack) -> list[Step]:
    """Variants of the documented application, on an idle cluster."""
    no_core_request = documented(s, "no-core-request")
    for role in ("driver", "executor"):
        del no_core_request["spec"][role]["coreRequest"]
    no_limit = documented(s, "no-memory-limit")
    del no_limit["spec"]["executor"]["memoryLimit"]
    dynamic = documented(s, "dynamic")
    dynamic["spec"]["dynamicAllocation"] = {"enabled": True, "maxExecutors": 8}
    client = documented(s, "client-mode")
    client["spec"]["mode"] = "client"
    dynamic_conf = documented(s, "dynamic-conf")
    dynamic_conf["spec"]["sparkConf"]["spark.dynamicAllocation.enabled"] = "true"
    return [
        Step(
            "submit variants",
            submit=[no_limit, no_core_request, dynamic, client, dynamic_conf],
        )
    ]


def spark_run(stack: str) -> list[StepResult]:
    return played(stack, "spark", _scenario)


def variants_run(stack: str) -> StepResult:
    (step,) = played(stack, "spark-variants", _variants)
    return step


@journey(
    user="data engineer of the Spark tenant",
    stack="dev, staging, prod",
    steps=[
        "submit the documented SparkApplication (queue label data-eng)",
        "submit it again without a queue label",
        "submit one with more executors than the tenant's CPU ceiling",
    ],
    outcome="Kueue creates one Workload per application with pod sets driver (1) and executor "
    "(instances) counting coreRequest and memory, admits the documented one on the tenant's "
    "ClusterQueue (on dev, whose data-eng has 8 nominal CPUs, borrowing the other 9 from the "
    "idle cohort) and unsuspends it with the executors still on the NVMe pool; the unlabelled "
    "one is labelled default and queued on the same ClusterQueue; the oversized one stays "
    "suspended, pending with Kueue's reason",
    docs=[SPARK_DOCS],
)
@pytest.mark.parametrize("stack", SPARK_STACKS)
def test_the_documented_spark_application_is_queued_as_one_workload(stack: str) -> None:
    from tests.journeys.queues import queue_stack

    s = queue_stack(stack)
    tenant = spark_tenant(s)
    first, unlabelled, too_big = spark_run(stack)
    assert not first.rejected
    workload = first.workload_of("SparkApplication", "features")
    assert workload.admitted, workload.pending_message
    assert workload.cluster_queue == tenant
    nominal = int(s.config.tenants[tenant].quota.cpu)
    cq = first.cluster_queues[tenant]
    app_spec = documented(s)["spec"]
    counted = int(app_spec["driver"]["coreRequest"]) + int(
        app_spec["executor"]["coreRequest"]
    ) * int(app_spec["executor"]["instances"])
    assert cq.borrowed("default", "cpu") == str(max(counted - nominal, 0))
    driver, executor = workload.pod_sets
    spec = documented(s)["spec"]
    assert (driver.name, driver.count) == ("driver", 1)
    assert (executor.name, executor.count) == ("executor", spec["executor"]["instances"])
    assert executor.requests["cpu"] == str(4 * spec["executor"]["instances"])
    per_pod = java_bytes(spec["executor"]["memory"])  # Kueue counts `memory`, no overhead
    assert memory_bytes(executor.requests["memory"]) == per_pod * executor.count
    app = first.object("SparkApplication", "features")
    assert app["spec"]["suspend"] is False
    assert app["spec"]["executor"]["nodeSelector"] == NVME
    queued = unlabelled.workload_of("SparkApplication", "unlabelled")
    created = unlabelled.created_object("SparkApplication", "unlabelled")
    assert created["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "default"
    assert created["spec"]["suspend"] is True
    assert queued.queue == "default"
    assert queued.cluster_queue in ("", tenant)  # pending (no ClusterQueue yet) or admitted
    big = too_big.workload_of("SparkApplication", "too-big")
    assert not big.admitted
    assert "insufficient quota" in big.pending_message
    assert too_big.object("SparkApplication", "too-big")["spec"]["suspend"] is True


@journey(
    user="data engineer of the Spark tenant",
    stack="dev, staging, prod",
    steps=[
        "submit the documented SparkApplication without coreRequest",
        "submit it without executor.memoryLimit",
    ],
    outcome="without coreRequest Kueue counts the LimitRange's default CPU request per pod, "
    "not Spark's cores; without memoryLimit the executor pod set's memory request exceeds the "
    "LimitRange's default limit and the Workload stays pending",
    docs=[SPARK_DOCS],
)
@pytest.mark.parametrize("stack", SPARK_STACKS)
def test_spark_quota_counts_core_request_and_needs_a_memory_limit(stack: str) -> None:
    variants = variants_run(stack)
    no_cores = variants.workload_of("SparkApplication", "no-core-request")
    (_, executor) = no_cores.pod_sets
    default_cpu = typed_config(stack_yaml(stack)).tenants["data-eng"].container_defaults.cpu
    assert executor.requests["cpu"] != "16"
    assert executor.requests["cpu"] == _times(default_cpu, executor.count)
    no_limit = variants.workload_of("SparkApplication", "no-memory-limit")
    assert not no_limit.admitted
    assert "requests must not exceed its limits" in no_limit.pending_message


@journey(
    user="data engineer of the Spark tenant",
    stack="dev, staging, prod",
    steps=["submit the documented SparkApplication with dynamicAllocation, then in client mode"],
    outcome="Kueue's SparkApplication webhook refuses both (no Workload, nothing runs)",
    docs=[SPARK_DOCS],
)
@pytest.mark.parametrize("stack", SPARK_STACKS)
def test_dynamic_allocation_and_client_mode_are_refused(stack: str) -> None:
    variants = variants_run(stack)
    refused = {r["name"]: r["message"] for r in variants.rejected}
    assert "dynamicAllocation" in refused["dynamic"]
    assert "only Cluster mode is supported" in refused["client-mode"]
    assert not variants.workloads_of("SparkApplication", "dynamic")


def _times(cpu: str, count: int) -> str:
    millis = int(cpu[:-1]) if cpu.endswith("m") else int(cpu) * 1000
    total = millis * count
    return str(total // 1000) if total % 1000 == 0 else f"{total}m"


def test_spark_runs_on_every_stack() -> None:
    assert set(SPARK_STACKS) == set(STACKS)


SPARK_CONF_VARIANTS = {
    "dynamic-conf": {"spark.dynamicAllocation.enabled": "true"},
    "client-conf": {"spark.submit.deployMode": "client"},
    "instances-conf": {"spark.executor.instances": "40"},
}


@journey(
    user="data engineer of the Spark tenant",
    stack="dev, staging, prod",
    steps=[
        "submit the documented SparkApplication with sparkConf "
        'spark.dynamicAllocation.enabled: "true" (spec.dynamicAllocation unset)',
        "submit it with sparkConf spark.submit.deployMode: client, then with "
        "spark.executor.instances",
    ],
    outcome="Kueue's webhook admits them (it reads only spec.dynamicAllocation, spec.mode and "
    "spec.executor.instances); Kyverno's spark-fixed-executors fails each with a message "
    "saying why (Kueue cannot account executors that come and go, queues only cluster mode, "
    "counts spec.executor.instances): refused on staging and prod (Enforce), a warning on "
    "dev (Audit); the documented application passes it",
    docs=[SPARK_DOCS],
)
@pytest.mark.parametrize("stack", SPARK_STACKS)
def test_dynamic_allocation_through_spark_conf_is_refused(stack: str) -> None:
    variants = variants_run(stack)
    assert not any(r["name"] == "dynamic-conf" for r in variants.rejected)
    created = variants.created_object("SparkApplication", "dynamic-conf")
    others = []
    for name, conf in SPARK_CONF_VARIANTS.items():
        if name != "dynamic-conf":
            app = copy.deepcopy(created)
            app["metadata"]["name"] = name
            del app["spec"]["sparkConf"]["spark.dynamicAllocation.enabled"]
            app["spec"]["sparkConf"].update(conf)
            others.append(app)
    documented_app = variants.created_object("SparkApplication", "no-memory-limit")
    verdicts = cluster_stack(stack).admit(
        [created, *others, documented_app], tenant_engineer(spark_tenant_of(stack))
    )
    policy = "substrate-spark-fixed-executors"
    why = {
        "dynamic-conf": "cannot account executors that come and go",
        "client-conf": "queues only cluster mode",
        "instances-conf": "Kueue counts spec.executor.instances",
    }
    for name, reason in why.items():
        assert reason in denied(verdicts, name).get(policy, ""), (name, denied(verdicts, name))
    assert policy not in denied(verdicts, "no-memory-limit")
    assert policy in judged_by(verdicts, "no-memory-limit")


def spark_tenant_of(stack: str) -> str:
    spark = typed_config(stack_yaml(stack)).workloads.spark
    assert spark is not None
    return sorted(spark.tenants)[0]


def _pipeline(s: QueueStack) -> list[Step]:
    tenant = spark_tenant(s)
    gang = s.config.tenants[tenant].largest_gang
    cpu, memory = (gang.cpu, gang.memory) if gang else ("4", "16Gi")
    trainer = q.jobset(
        "train-on-features",
        tenant,
        {"trainer": (2, {"cpu": cpu, "memory": memory})},
        queue=tenant,
    )
    return [
        Step("submit the features job and the training JobSet", submit=[documented(s), trainer])
    ]


@journey(
    user="data engineer of the Spark tenant",
    stack="dev, staging, prod",
    steps=[
        "submit the documented SparkApplication (features to S3) and a training JobSet (two pods "
        "of the tenant's largestGang size) that reads them, both labelled with the tenant's "
        "queue",
    ],
    outcome="Kueue admits both on the tenant's ClusterQueue, in the same flavor and quota: "
    "Spark and training share one queue",
    docs=[SPARK_DOCS],
)
@pytest.mark.parametrize("stack", SPARK_STACKS)
def test_spark_features_and_training_share_the_tenants_queue(stack: str) -> None:
    from tests.journeys.queues import queue_stack

    tenant = spark_tenant(queue_stack(stack))
    (step,) = played(stack, "spark-pipeline", _pipeline)
    spark = step.workload_of("SparkApplication", "features")
    training = step.workload_of("JobSet", "train-on-features")
    assert spark.admitted and training.admitted, (spark.pending_message, training.pending_message)
    assert spark.cluster_queue == training.cluster_queue == tenant
    assert {f for p in (*spark.pod_sets, *training.pod_sets) for f in p.flavors.values()} == {
        "default"
    }
