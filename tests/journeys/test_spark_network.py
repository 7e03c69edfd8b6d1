"""What the documented SparkApplication's pods may open, decided by the NetworkPolicy analyzer
(np-guard netpol-analyzer) over each stack's cluster (tests/network.py: the plan's manifests,
the Helm releases as rendered, CoreDNS, the stand-in pods) plus the driver and executor pods as
the Spark journeys build them (substrate/engines/spark_pods.py, from Kueue's admitted pod sets).
One analyzer run per stack.

The ports are Spark's own (Spark 4.0 `deploy/k8s/Constants.scala`): the driver's RPC endpoint
`spark.driver.port` (7078), block manager `spark.blockManager.port` (7079) and UI (`spark-ui`,
`spark.ui.port` 4040), which spark-submit declares on the driver's container and publishes on
its headless Service, and the executors' block manager (7079, declared as their `blockmanager`
container port); the documented application sets neither, so these
defaults apply. The driver talks to the API server (it creates and watches the executor pods)
through the `kubernetes` Service, whose endpoints are the EKS control plane's cross-account
network interfaces in the subnets given to the cluster (EKS user guide, "network-reqs"): the
journeys dial an address in each of those subnets on 443, and the Service's cluster IP, which is
what the VPC CNI's policy agent matches (it sees the address before kube-proxy translates it)."""

from __future__ import annotations

import copy
import ipaddress
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest

from substrate.engines import netpol
from substrate.engines.netpol import Connectivity, Ports
from substrate.engines.spark_pods import driver_pod, executor_pods
from substrate.plan.mocks import KUBERNETES_SERVICE_CIDR_STAND_IN
from tests.conftest import planned
from tests.crds import validation_errors
from tests.helm.rendered import rendered
from tests.helpers import crd_dir
from tests.journeys.cluster import docs_yaml
from tests.journeys.journey import journey
from tests.journeys.test_spark import SPARK_DOCS, SPARK_STACKS, spark_run
from tests.network import StackNetwork, runtime_objects, stack_network

APP = "features"
DRIVER_PORT = 7078
"""`spark.driver.port`'s default on Kubernetes (Constants.DEFAULT_DRIVER_PORT)."""
BLOCK_MANAGER_PORT = 7079
"""`spark.blockManager.port`'s default on Kubernetes (Constants.DEFAULT_BLOCKMANAGER_PORT)."""
UI_PORT = 4040
"""`spark.ui.port`'s default: the driver's `spark-ui` container port (Constants.UI_PORT_NAME)."""
API_SERVER_PORT = 443
CLUSTER = "eks:index:Cluster"
SPARK_METRICS_DOCS = "docs/workloads.md#spark-history-and-metrics"


@dataclass(frozen=True)
class SparkNetwork:
    net: StackNetwork
    reach: Connectivity
    driver: str
    executors: tuple[str, ...]

    def api_server_addresses(self) -> list[str]:
        """An address in each subnet the EKS cluster is given (where EKS puts the control
        plane's network interfaces), as the plan's mock engine assigns the subnet ids."""
        (cluster,) = [r for r in self.net.plan.records if r.type == CLUSTER]
        cidrs = self.net.subnets()
        ids = cluster.inputs["subnetIds"]
        assert ids and all(i in cidrs for i in ids), ids
        return [str(ipaddress.ip_network(cidrs[i]).network_address + 10) for i in ids]


def _ports(pod: dict[str, Any], *ports: tuple[str, int]) -> dict[str, Any]:
    """The pod for the analyzer: the container ports Spark declares and no owner references
    (the analyzer would fold pods into their owner; NetworkPolicies select by labels alone)."""
    pod = copy.deepcopy(pod)
    del pod["metadata"]["ownerReferences"]
    pod["spec"]["containers"][0]["ports"] = [
        {"name": n, "containerPort": p, "protocol": "TCP"} for n, p in ports
    ]
    return pod


def _spark_pods(stack: str) -> list[dict[str, Any]]:
    first = spark_run(stack)[0]
    workload = first.workload_of("SparkApplication", APP)
    app = copy.deepcopy(dict(first.object("SparkApplication", APP)))  # as Kueue admitted it
    app["metadata"].setdefault("uid", f"uid-{APP}")
    driver = driver_pod(app, workload)
    driver["metadata"].setdefault("uid", f"uid-{APP}-driver")
    executors = executor_pods(app, workload, driver)
    return [
        _ports(
            driver,
            ("driver-rpc-port", DRIVER_PORT),
            ("blockmanager", BLOCK_MANAGER_PORT),
            ("spark-ui", UI_PORT),
        ),
        *(_ports(e, ("blockmanager", BLOCK_MANAGER_PORT)) for e in executors),
    ]


@cache
def spark_network(stack: str) -> SparkNetwork:
    net = stack_network(stack)
    cluster = list(rendered(stack).objects)
    pods = _spark_pods(stack)
    runtime = runtime_objects(net.config, net.plan, cluster)
    reach = netpol.analyze([*cluster, *netpol.eks_objects(), *runtime, *pods])
    names = [f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in pods]
    return SparkNetwork(net, reach, names[0], tuple(names[1:]))


def _spark_tenant(net: StackNetwork) -> str:
    spark = net.config.workloads.spark
    assert spark is not None
    (tenant, *_) = sorted(spark.tenants)
    return tenant


@journey(
    user="data engineer of the Spark tenant",
    stack="dev, staging, prod",
    steps=[
        "the documented SparkApplication is admitted; its driver and executors start in data-eng",
        "they read and write s3a:// paths (the S3 gateway endpoint routes the Region's S3 "
        "prefix list)",
    ],
    outcome="the driver and every executor reach an address in every entry of the Region's S3 "
    "prefix list on TCP 443 and not on 80, as the tenant's network.s3 allows",
    docs=[SPARK_DOCS],
)
@pytest.mark.parametrize("stack", SPARK_STACKS)
def test_spark_pods_reach_s3_through_the_gateway_endpoint(stack: str) -> None:
    s = spark_network(stack)
    tenant = _spark_tenant(s.net)
    assert s.net.config.tenants[tenant].network.s3, "the Spark tenant's network.s3 is off"
    assert s.driver.split("/")[0] in s.net.config.tenants[tenant].namespaces
    addresses = s.net.s3_addresses()
    assert len(addresses) >= 2, "the prefix list has several entries"
    for pod in (s.driver, *s.executors):
        for address in addresses:
            assert s.reach.allows(pod, address, 443), (pod, address)
            assert not s.reach.allows(pod, address, 80), (pod, address)


@journey(
    user="data engineer of the Spark tenant",
    stack="dev, staging, prod",
    steps=[
        "the executors register with the driver (spark.driver.port 7078) and fetch broadcasts "
        "from its block manager (spark.blockManager.port 7079)",
        "the driver and the other executors fetch blocks and shuffle data from each executor's "
        "block manager (7079)",
    ],
    outcome="every executor reaches the driver on 7078 and 7079 and every other executor on "
    "7079; the driver reaches every executor on 7079",
    docs=[SPARK_DOCS],
)
@pytest.mark.parametrize("stack", SPARK_STACKS)
def test_spark_executors_and_driver_reach_each_other(stack: str) -> None:
    s = spark_network(stack)
    assert len(s.executors) >= 2, "the documented application runs several executors"
    for executor in s.executors:
        assert s.reach.allows(executor, s.driver, DRIVER_PORT), executor
        assert s.reach.allows(executor, s.driver, BLOCK_MANAGER_PORT), executor
        assert s.reach.allows(s.driver, executor, BLOCK_MANAGER_PORT), executor
        for other in s.executors:
            if other != executor:
                assert s.reach.allows(executor, other, BLOCK_MANAGER_PORT), (executor, other)


@journey(
    user="the Spark driver of the documented SparkApplication",
    stack="dev, staging, prod",
    steps=[
        "creates its executor pods and watches them through the `kubernetes` Service (the EKS "
        "control plane's network interfaces in the cluster's subnets, HTTPS 443)",
        "a pod of every tenant tries the same addresses",
    ],
    outcome="the driver reaches an address in each of the cluster's subnets on TCP 443 (and "
    "not on 80); so does every pod of a tenant with network.awsEndpoints (the interface "
    "endpoints share those subnets) or an httpsEgressCidrs entry holding it, and no pod of any "
    "other tenant",
    docs=[SPARK_DOCS],
)
@pytest.mark.parametrize("stack", SPARK_STACKS)
def test_spark_driver_reaches_the_api_server(stack: str) -> None:
    s = spark_network(stack)
    addresses = s.api_server_addresses()
    assert len(addresses) >= 2, "the cluster spans several subnets"
    for address in addresses:
        assert s.reach.allows(s.driver, address, API_SERVER_PORT), address
        assert not s.reach.allows(s.driver, address, 80), address
    for tenant, cfg in s.net.config.tenants.items():
        for pod in s.net.pods(tenant):
            for address in addresses:
                declared = cfg.network.aws_endpoints or any(
                    ipaddress.ip_address(address) in ipaddress.ip_network(c)
                    for c in cfg.network.https_egress_cidrs
                )
                assert s.reach.allows(pod, address, API_SERVER_PORT) is declared, (pod, address)


def kubernetes_service_address() -> str:
    """The `kubernetes` Service's cluster IP: the first address of the cluster's Service range,
    as the plan reads it (substrate.plan.mocks stands in for EKS's default)."""
    return str(ipaddress.ip_network(KUBERNETES_SERVICE_CIDR_STAND_IN).network_address + 1)


@journey(
    user="the Spark driver of the documented SparkApplication",
    stack="dev, staging, prod",
    steps=[
        "connects to https://kubernetes.default.svc (the `kubernetes` Service's cluster IP, "
        "port 443) to create and watch its executors",
        "an executor, and a pod of every other tenant, dial the same address",
    ],
    outcome="the driver reaches the `kubernetes` Service's cluster IP on TCP 443 and not on 80 "
    "(the VPC CNI's policy agent matches egress by the address the pod dials, before kube-proxy "
    "translates it: amazon-network-policy-controller-k8s, pkg/resolvers/endpoints.go); the "
    "executors and the pods of tenants that do not run Spark do not reach it",
    docs=[SPARK_DOCS],
)
@pytest.mark.parametrize("stack", SPARK_STACKS)
def test_only_the_spark_driver_reaches_the_kubernetes_service_address(stack: str) -> None:
    s = spark_network(stack)
    address = kubernetes_service_address()
    assert s.reach.ports(s.driver, address) == Ports(False, (("TCP", 443, 443),))
    for executor in s.executors:
        assert not s.reach.allows(executor, address, API_SERVER_PORT), executor
    spark = s.net.config.workloads.spark
    assert spark is not None
    others = [t for t in s.net.config.tenants if t not in spark.tenants]
    assert others, "every tenant runs Spark"
    for tenant in others:
        for pod in s.net.pods(tenant):
            assert not s.reach.allows(pod, address, API_SERVER_PORT), pod


def _driver_labels(stack: str) -> dict[str, str]:
    return dict(_spark_pods(stack)[0]["metadata"]["labels"])


@journey(
    user="Prometheus scraping the Spark tenant's drivers",
    stack="dev, staging, prod",
    steps=[
        "the documented SparkApplication sets spark.ui.prometheus.enabled and the "
        "PrometheusServlet sink on /metrics/prometheus",
        "the stack's PodMonitors select the running driver and scrape its spark-ui port on both "
        "paths",
        "Prometheus connects to the driver's UI port and an executor's; so does a pod of every "
        "tenant that does not run Spark",
    ],
    outcome="each Spark namespace has PodMonitors (valid against the PodMonitor CRD) that "
    "select the driver and no executor, on the driver's spark-ui port, at /metrics/prometheus "
    "and /metrics/executors/prometheus; the NetworkPolicy analyzer lets Prometheus reach the "
    "driver on 4040 and nothing else of it, not the executors, and lets no pod of a tenant that "
    "does not run Spark reach 4040",
    docs=[SPARK_METRICS_DOCS],
)
@pytest.mark.parametrize("stack", SPARK_STACKS)
def test_prometheus_scrapes_the_spark_driver(stack: str) -> None:
    (app,) = docs_yaml("workloads.md", "Spark jobs")
    conf = app["spec"]["sparkConf"]
    assert conf["spark.ui.prometheus.enabled"] == "true"
    servlet = "spark.metrics.conf.*.sink.prometheusServlet"
    assert conf[f"{servlet}.class"] == "org.apache.spark.metrics.sink.PrometheusServlet"
    s = spark_network(stack)
    driver, executor = _spark_pods(stack)[:2]
    ui_ports = [p["name"] for p in driver["spec"]["containers"][0]["ports"]]
    namespace = s.driver.split("/")[0]
    monitors = [
        m
        for m in planned(stack).manifests.values()
        if m["kind"] == "PodMonitor"
        and namespace in m["spec"]["namespaceSelector"].get("matchNames", [])
        and m["spec"]["selector"]["matchLabels"].items() <= _driver_labels(stack).items()
    ]
    paths = set()
    for monitor in monitors:
        assert validation_errors(crd_dir(), monitor) == [], monitor["metadata"]["name"]
        selector = monitor["spec"]["selector"]["matchLabels"].items()
        assert not selector <= executor["metadata"]["labels"].items()
        for endpoint in monitor["spec"]["podMetricsEndpoints"]:
            assert endpoint["port"] in ui_ports
            paths.add(endpoint["path"])
    assert paths == {conf[f"{servlet}.path"], "/metrics/executors/prometheus"}
    assert s.reach.ports(s.net.prometheus, s.driver) == Ports(False, (("TCP", UI_PORT, UI_PORT),))
    for executor_name in s.executors:
        assert not s.reach.allows(s.net.prometheus, executor_name, UI_PORT)
    spark = s.net.config.workloads.spark
    assert spark is not None
    for tenant in s.net.config.tenants:
        if tenant not in spark.tenants:
            for pod in s.net.pods(tenant):
                assert not s.reach.allows(pod, s.driver, UI_PORT), pod
