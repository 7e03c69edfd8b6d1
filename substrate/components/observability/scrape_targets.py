"""How the platform's controllers expose metrics, as ServiceMonitor/PodMonitor specs.

Pure data: each constructor encodes what the pinned upstream chart renders (names, labels and
ports verified in the chart templates), parameterised by the namespace the release lives in.
The charts' own monitors stay off so nothing is scraped twice.
"""

from enum import StrEnum
from typing import Any, NotRequired, Required, TypedDict


class MonitorKind(StrEnum):
    """Which Prometheus Operator monitor scrapes a target."""

    SERVICE_MONITOR = "ServiceMonitor"
    """Scrape the endpoints of a Service selected by its labels."""
    POD_MONITOR = "PodMonitor"
    """Scrape pods selected by their labels (no Service needed)."""


class Scheme(StrEnum):
    """Scrape scheme."""

    HTTP = "http"
    HTTPS = "https"


class ScrapeTarget(TypedDict, total=False):
    """One ServiceMonitor or PodMonitor."""

    name: Required[str]
    """Object name (also the scrape job's name)."""
    kind: Required[MonitorKind]
    """Which monitor to render."""
    namespace: Required[str]
    """Namespace of the target (the monitor is created there)."""
    match_labels: Required[dict[str, str]]
    """Labels of the Service (ServiceMonitor) or Pod (PodMonitor)."""
    port: Required[str]
    """Named port to scrape."""
    path: NotRequired[str]
    """Metrics path (default `/metrics`)."""
    scheme: NotRequired[Scheme]
    """Scrape scheme (default http)."""
    bearer_token_file: NotRequired[str]
    """Send Prometheus' own service-account token (authenticated metrics endpoints)."""
    insecure_skip_verify: NotRequired[bool]
    """Skip TLS server verification (self-signed controller-runtime metrics certs)."""
    interval: NotRequired[str]
    """Scrape interval (default: Prometheus' global interval)."""


SA_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"


def karpenter(namespace: str, release: str = "karpenter") -> ScrapeTarget:
    """aws/karpenter-provider-aws v1.14.1 charts/karpenter/templates/service.yaml."""
    return {
        "name": "karpenter",
        "kind": MonitorKind.SERVICE_MONITOR,
        "namespace": namespace,
        "match_labels": {
            "app.kubernetes.io/name": "karpenter",
            "app.kubernetes.io/instance": release,
        },
        "port": "http-metrics",
    }


def kueue(namespace: str, release: str = "kueue") -> ScrapeTarget:
    """kubernetes-sigs/kueue v0.19.2 chart: metrics Service port `https` (8443) behind
    controller-runtime authn/authz; Prometheus' ClusterRole grants `get` on `/metrics`."""
    return {
        "name": "kueue",
        "kind": MonitorKind.SERVICE_MONITOR,
        "namespace": namespace,
        "match_labels": {
            "app.kubernetes.io/name": "kueue",
            "app.kubernetes.io/instance": release,
            "app.kubernetes.io/component": "metrics-service",
        },
        "port": "https",
        "scheme": Scheme.HTTPS,
        "bearer_token_file": SA_TOKEN,
        "insecure_skip_verify": True,
    }


def keda(namespace: str) -> ScrapeTarget:
    """kedacore/charts v2.20.2: operator pods `app.kubernetes.io/name: keda-operator`, container
    port `metrics` (8080) when `prometheus.operator.enabled` is true."""
    return {
        "name": "keda-operator",
        "kind": MonitorKind.POD_MONITOR,
        "namespace": namespace,
        "match_labels": {"app.kubernetes.io/name": "keda-operator"},
        "port": "metrics",
    }


def spark_operator(namespace: str, release: str = "spark-operator") -> ScrapeTarget:
    """kubeflow/spark-operator v2.5.1 chart: controller pods carry the selector labels
    (`spark-operator.controller.selectorLabels`) and container port `metrics` (8080) when
    `prometheus.metrics.enable`; the chart's own PodMonitor stays off."""
    return {
        "name": "spark-operator-controller",
        "kind": MonitorKind.POD_MONITOR,
        "namespace": namespace,
        "match_labels": {
            "app.kubernetes.io/name": "spark-operator",
            "app.kubernetes.io/instance": release,
            "app.kubernetes.io/component": "controller",
        },
        "port": "metrics",
    }


SPARK_METRICS_PATHS = {
    "driver": "/metrics/prometheus",
    "executors": "/metrics/executors/prometheus",
}
"""Where a Spark 4.0 driver serves Prometheus text on its UI port: its own metrics through the
PrometheusServlet sink (`spark.metrics.conf.*.sink.prometheusServlet.*`, path as Spark's
metrics.properties.template sets it) and its executors' (`spark.ui.prometheus.enabled`)."""


def spark_drivers(namespace: str) -> list[ScrapeTarget]:
    """The Spark drivers of a Spark tenant's namespace: spark-submit labels every driver pod
    `spark-role: driver` and names its UI container port `spark-ui` (Spark 4.0
    resource-managers/kubernetes Constants.scala)."""
    return [
        {
            "name": f"spark-{namespace}-{what}",
            "kind": MonitorKind.POD_MONITOR,
            "namespace": namespace,
            "match_labels": {"spark-role": "driver"},
            "port": "spark-ui",
            "path": path,
        }
        for what, path in SPARK_METRICS_PATHS.items()
    ]


def monitor_spec(target: ScrapeTarget) -> dict[str, Any]:
    endpoint: dict[str, Any] = {"port": target["port"], "path": target.get("path", "/metrics")}
    if "scheme" in target:
        endpoint["scheme"] = target["scheme"]
    if "bearer_token_file" in target:
        endpoint["bearerTokenFile"] = target["bearer_token_file"]
    if target.get("insecure_skip_verify"):
        endpoint["tlsConfig"] = {"insecureSkipVerify": True}
    if "interval" in target:
        endpoint["interval"] = target["interval"]
    key = "endpoints" if target["kind"] == "ServiceMonitor" else "podMetricsEndpoints"
    return {
        "selector": {"matchLabels": dict(target["match_labels"])},
        "namespaceSelector": {"matchNames": [target["namespace"]]},
        key: [endpoint],
    }
