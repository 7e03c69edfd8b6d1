"""Prometheus stack values and Substrate's monitoring content (rules, monitors, dashboard)."""

from __future__ import annotations

import json

import pytest

from substrate.components.observability.alert_rules import Thresholds
from substrate.components.observability.platform_monitoring import (
    PlatformMonitoring,
    PlatformMonitoringArgs,
)
from substrate.components.observability.prometheus_stack import PrometheusStack
from substrate.components.observability.scrape_targets import karpenter, keda, kueue
from tests.helpers import Resources, run_program

MON = "kubernetes:monitoring.coreos.com/v1"


@pytest.fixture(scope="module")
def stack_values() -> dict:
    resources = Resources(
        run_program(
            lambda: PrometheusStack(
                "prometheus-stack",
                {"cluster_name": "c", "retention": "30d", "storage_gib": 200, "replicas": 2},
            )
        )
    )
    release = resources.one("kubernetes:helm.sh/v3:Release").inputs
    assert (release["chart"], release["version"], release["namespace"]) == (
        "kube-prometheus-stack",
        "88.5.3",
        "monitoring",
    )
    return release["values"]


def test_stack_leaves_crds_to_their_own_release(stack_values: dict) -> None:
    assert stack_values["crds"] == {"enabled": False}


def test_stack_skips_targets_eks_does_not_expose(stack_values: dict) -> None:
    for key in ("kubeEtcd", "kubeControllerManager", "kubeScheduler", "kubeProxy", "nodeExporter"):
        assert stack_values[key] == {"enabled": False}, key


def test_prometheus_selects_every_monitor_and_rule(stack_values: dict) -> None:
    spec = stack_values["prometheus"]["prometheusSpec"]
    for kind in ("serviceMonitor", "podMonitor", "rule"):
        assert spec[f"{kind}SelectorNilUsesHelmValues"] is False
    assert (spec["retention"], spec["replicas"]) == ("30d", 2)
    storage = spec["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]
    assert storage == {"storage": "200Gi"}


def test_tenant_label_reaches_kube_state_metrics_and_dashboards_are_discovered(
    stack_values: dict,
) -> None:
    assert stack_values["kube-state-metrics"]["metricLabelsAllowlist"] == [
        "namespaces=[substrate.io/tenant]",
        "nodes=[substrate.io/pool,karpenter.k8s.aws/instance-gpu-name,"
        "karpenter.k8s.aws/instance-gpu-manufacturer,karpenter.sh/capacity-type]",
        "pods=[sparkoperator.k8s.io/app-name,spark-role]",
    ]
    sidecar = stack_values["grafana"]["sidecar"]["dashboards"]
    assert (sidecar["label"], sidecar["labelValue"]) == ("grafana_dashboard", "1")


def test_invalid_retention_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^PrometheusStackArgs.retention: '2 weeks' is not"):
        run_program(lambda: PrometheusStack("p", {"cluster_name": "c", "retention": "2 weeks"}))


def _monitoring(**extra: object) -> Resources:
    args: PlatformMonitoringArgs = {
        "namespace": "monitoring",
        "labels": {"release": "prometheus"},
        "thresholds": Thresholds(gpu_idle_for="2h"),
        "targets": [karpenter("kube-system"), kueue("kueue-system"), keda("keda")],
    }
    args.update(extra)  # type: ignore[typeddict-item]
    return Resources(run_program(lambda: PlatformMonitoring("platform-monitoring", args)))


def test_controller_monitors_match_how_the_charts_expose_metrics() -> None:
    resources = _monitoring()
    karp = resources.named("platform-monitoring-karpenter").inputs
    assert karp["metadata"]["namespace"] == "monitoring"
    assert karp["spec"]["namespaceSelector"] == {"matchNames": ["kube-system"]}
    assert karp["spec"]["endpoints"] == [{"port": "http-metrics", "path": "/metrics"}]
    kq = resources.named("platform-monitoring-kueue").inputs["spec"]
    assert kq["selector"]["matchLabels"]["app.kubernetes.io/component"] == "metrics-service"
    assert kq["endpoints"][0]["scheme"] == "https"
    assert kq["endpoints"][0]["bearerTokenFile"].endswith("serviceaccount/token")
    kd = resources.named("platform-monitoring-keda-operator")
    assert kd.type == f"{MON}:PodMonitor"
    assert kd.inputs["spec"]["podMetricsEndpoints"] == [{"port": "metrics", "path": "/metrics"}]


def test_rules_carry_the_selection_labels_and_thresholds() -> None:
    resources = _monitoring()
    gpu = resources.named("platform-monitoring-substrate-gpu").inputs
    assert gpu["metadata"]["labels"]["release"] == "prometheus"
    idle = next(
        r
        for g in gpu["spec"]["groups"]
        for r in g["rules"]
        if r.get("alert") == "GpuAllocatedButIdle"
    )
    assert idle["for"] == "2h"


def test_dashboard_configmap_is_labelled_for_the_grafana_sidecar() -> None:
    cm = _monitoring().one("kubernetes:core/v1:ConfigMap").inputs
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(cm["data"]["gpus-and-queues.json"])
    assert dashboard["uid"] == "substrate-gpus-queues"


def test_no_dashboard_without_a_sidecar_label() -> None:
    assert _monitoring(dashboard_label=None).of_type("kubernetes:core/v1:ConfigMap") == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"targets": [keda("a"), keda("b")]}, "PlatformMonitoringArgs.targets: 'keda-operator'"),
        (
            {"thresholds": Thresholds(kueue_pending_for="soon")},
            "PlatformMonitoringArgs.thresholds.kueue_pending_for: 'soon' is not",
        ),
    ],
)
def test_monitoring_args_are_validated(extra: dict, message: str) -> None:
    with pytest.raises(ValueError) as err:
        _monitoring(**extra)
    assert str(err.value).startswith(message)
