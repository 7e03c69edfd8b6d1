"""Each Spark tenant's history server, on the engines: what its Pod Identity role may do in S3
(the IAM evaluator over the plan), where it may connect and who may connect to it (the
NetworkPolicy analyzer over the stack's cluster, as test_spark_network builds it), and how the
API server (the apiserver engine: validation, Pod Security) and the stack's Kyverno policies
take its objects and pods."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from substrate.components.core.validators import partition_of
from substrate.components.workloads import spark_history as history
from substrate.components.workloads.spark_operator import SERVICE_ACCOUNT
from substrate.config import PlatformConfig
from substrate.engines import apiserver
from substrate.engines.iam import Principal
from tests.helpers import stack_yaml, typed_config
from tests.journeys.cluster import (
    controller,
    denied,
    docs_yaml,
    in_namespace,
    judged_by,
    stack,
)
from tests.journeys.journey import journey
from tests.journeys.test_spark import SPARK_STACKS
from tests.journeys.test_spark_access import _decide, _plan
from tests.journeys.test_spark_network import spark_network

HISTORY_DOCS = "docs/workloads.md#spark-history-and-metrics"
HISTORY_STACKS = [
    s
    for s in SPARK_STACKS
    if (spark := typed_config(stack_yaml(s)).workloads.spark) and spark.history_server
]
JUDGES = {
    "substrate-restrict-images",
    "substrate-pod-security-restricted",
    "substrate-no-static-aws-credentials",
    "substrate-require-requests-limits",
}
"""Policies that must judge (and admit) the history server's pod where policies apply."""
INTERNET = "93.184.216.34"
"""An address on the internet (outside the VPC and the S3 prefix list)."""


def _spark(cfg: PlatformConfig) -> Any:
    spark = cfg.workloads.spark
    assert spark is not None and spark.history_server is not None
    return spark


def _event_logs(cfg: PlatformConfig, tenant: str) -> tuple[str, str]:
    """(bucket, prefix) of the tenant's first read-write grant, which holds spark-events/."""
    grant = next(g for g in _spark(cfg).tenants[tenant].s3 if g.access == "read-write")
    return grant.bucket, grant.prefix


def _principal(stack_name: str, namespace: str, account: str) -> Principal:
    plan = _plan(stack_name)
    association = plan.association(namespace, account)
    return plan.pod_principal(association, f"{account}-0", f"uid-{account}-0")


@journey(
    user="operator opening a Spark tenant's history server (its S3A client)",
    stack="dev, staging, prod",
    steps=[
        "the server lists the tenant's spark-events/ directory and reads an event log there",
        "it reads the tenant's features under the same grant, its raw read grant, another "
        "bucket; it writes or deletes an event log; lists the bucket above spark-events/",
        "the tenant's applications (service account spark) write their event logs there",
    ],
    outcome="the IAM evaluator allows the server to list and read the event logs and denies "
    "every other request; the applications' role may write the event logs",
    docs=[HISTORY_DOCS],
)
@pytest.mark.parametrize("name", HISTORY_STACKS)
def test_history_server_reads_only_its_tenants_event_logs(name: str) -> None:
    cfg = typed_config(stack_yaml(name))
    spark = _spark(cfg)
    partition = partition_of(cfg.region)
    for tenant, grants in spark.tenants.items():
        server = _principal(name, spark.namespace, history.server_name(tenant))
        bucket, prefix = _event_logs(cfg, tenant)
        arn = f"arn:{partition}:s3:::{bucket}"
        events = f"{prefix}{history.EVENTS}"
        log = f"{arn}/{events}spark-0123456789abcdef"
        assert _decide(name, server, "s3:GetObject", log)
        assert _decide(name, server, "s3:GetObject", f"{arn}/{events[:-1]}")  # S3A's probe
        assert _decide(name, server, "s3:ListBucket", arn, **{"s3:prefix": events})
        for action in ("s3:PutObject", "s3:DeleteObject"):
            assert not _decide(name, server, action, log), action
        assert not _decide(name, server, "s3:GetObject", f"{arn}/{prefix}part-00000.parquet")
        for g in grants.s3:
            other = f"arn:{partition}:s3:::{g.bucket}/{g.prefix}part-00000.parquet"
            assert not _decide(name, server, "s3:GetObject", other), other
        assert not _decide(name, server, "s3:ListBucket", arn, **{"s3:prefix": prefix})
        assert not _decide(name, server, "s3:GetObject", "arn:aws:s3:::other-bucket/x")
        for namespace in cfg.tenants[tenant].namespaces:
            app = _principal(name, namespace, SERVICE_ACCOUNT)
            assert _decide(name, app, "s3:PutObject", log), namespace


@journey(
    user="operator of the platform; pods of every tenant; Prometheus",
    stack="dev, staging, prod",
    steps=[
        "the history server resolves the S3 endpoint, gets its Pod Identity credentials from "
        "the agent (169.254.170.23:80) and reads s3a:// (the Region's S3 prefix list, 443)",
        "it opens a connection to an internet address on 443",
        "the Spark driver and executors, a pod of every tenant namespace and Prometheus open "
        "its UI port 18080",
    ],
    outcome="the NetworkPolicy analyzer lets the server reach the Pod Identity agent on 80 "
    "and every S3 prefix-list entry on 443 (not on 80) and nothing on the internet; nothing in "
    "the cluster reaches the server (its NetworkPolicy admits no ingress)",
    docs=[HISTORY_DOCS],
)
@pytest.mark.parametrize("name", HISTORY_STACKS)
def test_history_server_reaches_s3_and_nothing_reaches_it(name: str) -> None:
    s = spark_network(name)
    spark = _spark(s.net.config)
    for tenant in spark.tenants:
        server = f"{spark.namespace}/{history.server_name(tenant)}"
        assert s.reach.allows(server, "169.254.170.23", 80)
        for address in s.net.s3_addresses():
            assert s.reach.allows(server, address, 443), address
            assert not s.reach.allows(server, address, 80), address
        assert not s.reach.allows(server, INTERNET, 443)
        clients = [s.driver, *s.executors, s.net.prometheus]
        clients += [p for t in s.net.config.tenants for p in s.net.pods(t)]
        for client in clients:
            assert not s.reach.allows(client, server, history.HISTORY_PORT), client


@cache
def _created(name: str) -> tuple[apiserver.ApiServerRun, list[dict[str, Any]]]:
    """The plan's history-server objects created by Pulumi's deployer (cluster admin)."""
    s = stack(name)
    spark = _spark(s.config)
    kinds = ("Deployment", "Service", "NetworkPolicy", "PodDisruptionBudget")
    objects = [
        o
        for kind in kinds
        for o in s.objects(kind, spark.namespace)
        if o["metadata"]["name"].startswith("spark-history-")
    ]
    admin = {"username": "kubernetes-admin", "groups": ["system:masters"]}
    return s.create(objects, admin), objects


@journey(
    user="Pulumi deploying the stack; the deployment and replica-set controllers",
    stack="dev, staging, prod",
    steps=[
        "creates each history server's Deployment, Service, NetworkPolicy and "
        "PodDisruptionBudget in the operator's namespace",
        "the controllers create its ReplicaSet and pods",
    ],
    outcome="the API server validates and stores every object; the pods pass Pod Security "
    "restricted (the namespace's enforce label) and run the configured Spark image on the "
    "system nodes; Kyverno's policies skip them (the operator's namespace is a platform "
    "namespace), and the same pod in the Spark tenant's namespace is judged and admitted by "
    "every policy there, restrict-images, pod-security-restricted, "
    "no-static-aws-credentials and require-requests-limits among them",
    docs=[HISTORY_DOCS],
)
@pytest.mark.parametrize("name", HISTORY_STACKS)
def test_history_server_objects_and_pods_are_admitted(name: str) -> None:
    s = stack(name)
    spark = _spark(s.config)
    run, objects = _created(name)
    assert len(objects) == 4 * len(spark.tenants)
    assert [(r.kind, r.name, r.errors) for r in run.results if not r.created] == []
    pods = [p for r in run.results for p in r.descendants("Pod")]
    assert len(pods) == len(spark.tenants) * spark.history_server.replicas
    for pod in pods:
        assert pod.created and pod.admitted is not None, pod.errors
        assert pod.pod_security is not None and pod.pod_security.enforce.allowed
        replicaset = controller("replicaset-controller")
        verdicts = s.admit([pod.admitted], replicaset)
        # The operator's namespace is a platform namespace: the policies never see it.
        assert judged_by(verdicts, pod.name) == set(), pod.name
        # The same pod where the policies do apply (the Spark tenant's first namespace).
        tenant = sorted(spark.tenants)[0]
        moved = in_namespace(pod.admitted, s.config.tenants[tenant].namespaces[0])
        verdicts = s.admit([moved], replicaset)
        assert denied(verdicts, pod.name) == {}, pod.name
        assert judged_by(verdicts, pod.name) >= JUDGES, pod.name
        spec = pod.admitted["spec"]
        (container,) = spec["containers"]
        assert container["image"] == spark.history_server.image
        assert spec["nodeSelector"]["substrate.io/pool"] == "system"


@journey(
    user="data engineer of the Spark tenant (prod, the documented application)",
    stack="prod",
    steps=["submits the documented SparkApplication; opens the tenant's history server"],
    outcome="the application's spark.eventLog.dir is the directory the tenant's history "
    "server reads (spark.history.fs.logDirectory), and event logging is on",
    docs=[HISTORY_DOCS],
)
def test_the_documented_application_logs_where_the_history_server_reads() -> None:
    s = stack("prod")
    (app,) = docs_yaml("workloads.md", "Spark jobs")
    conf = app["spec"]["sparkConf"]
    assert conf["spark.eventLog.enabled"] == "true"
    namespace = app["metadata"]["namespace"]
    (tenant,) = [t for t in _spark(s.config).tenants if namespace in s.config.tenants[t].namespaces]
    (deployment,) = [
        o
        for o in s.objects("Deployment", _spark(s.config).namespace)
        if o["metadata"]["name"] == history.server_name(tenant)
    ]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    opts = next(e["value"] for e in container["env"] if e["name"] == "SPARK_HISTORY_OPTS")
    assert f"-Dspark.history.fs.logDirectory={conf['spark.eventLog.dir']}" in opts.split()
