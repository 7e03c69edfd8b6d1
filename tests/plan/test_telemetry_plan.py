"""What every stack's plan renders for identity and telemetry: dashboards whose every panel
shows data, CRs that validate, the environment's trust domain, the PSA exemptions, and P1 on
the real plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from substrate.engines.promtool import run_rule_tests, write_rule_files
from substrate.plan.command import PlanResult
from substrate.plan.policy import effective_policies, evaluate
from substrate.plan.recorder import ResourceRecord
from substrate.platform import build_platform
from substrate.policies import p01_dcgm_exporter_for_gpu_pools as p01
from tests.crds import validation_errors
from tests.helpers import Resources, require_engine, run_program, stack_yaml, typed_config
from tests.rules.suite import KNOWN_METRICS, series_metric

CUSTOM_KINDS = {"ClusterSPIFFEID", "ClusterFederatedTrustDomain", "ServiceMonitor", "PodMonitor"}
GPU = 'gpu="0", UUID="GPU-5b2c", modelName="NVIDIA A100-SXM4-40GB", node="gpu-node-1"'
HELD = f'{GPU}, namespace="ml-research", pod="train-0", container="trainer"'
POD = 'namespace="ml-research", pod="train-0", uid="a1"'
CQ = 'cluster_queue="training", replica_role="leader"'
PLATFORM_SERIES = {
    # What the platform's exporters report for one busy, idle-looking GPU (util 2%, XID 48) on
    # a node of the training pool, one Running 8-GPU pod, one ClusterQueue, one NodePool and
    # one ScaledObject.
    f"DCGM_FI_DEV_GPU_UTIL{{{HELD}}}": "2x30",
    f"DCGM_FI_PROF_PIPE_TENSOR_ACTIVE{{{HELD}}}": "0.01x30",
    f"DCGM_FI_DEV_FB_USED{{{HELD}}}": "1024x30",
    f"DCGM_FI_DEV_POWER_USAGE{{{HELD}}}": "95x30",
    f"DCGM_FI_DEV_GPU_TEMP{{{HELD}}}": "41x30",
    f'DCGM_EXP_XID_ERRORS_COUNT{{{GPU}, window_size_in_ms="300000", xid="48"}}': "1x30",
    'kube_node_labels{node="gpu-node-1", label_substrate_io_pool="training", '
    'label_karpenter_k8s_aws_instance_gpu_name="a100"}': "1x30",
    f'kube_pod_container_resource_requests{{{POD}, container="trainer", node="gpu-node-1", '
    'resource="nvidia_com_gpu", unit="integer"}': "8x30",
    f'kube_pod_status_phase{{{POD}, phase="Running"}}': "1x30",
    'kube_namespace_labels{namespace="ml-research", label_substrate_io_tenant="ml-research"}': (
        "1x30"
    ),
    f'kueue_pending_workloads{{{CQ}, status="active"}}': "3x30",
    f'kueue_cluster_queue_resource_usage{{{CQ}, cohort="gpu", flavor="gpu-training", '
    'resource="nvidia.com/gpu"}': "8x30",
    **{
        f'kueue_admission_wait_time_seconds_bucket{{{CQ}, priority_class="", le="{le}"}}': "0+1x30"
        for le in ("1", "2.5", "5", "10", "+Inf")
    },
    'karpenter_nodeclaims_created_total{nodepool="gpu-training", reason="provisioning", '
    'min_values_relaxed="false"}': "1+1x30",
    'karpenter_nodeclaims_disrupted_total{nodepool="gpu-training", reason="launch_timeout", '
    'capacity_type="on-demand"}': "1+1x30",
    'keda_scaler_active{exported_namespace="agents", scaledObject="research", '
    'type="scaledobject"}': "1x30",
    'keda_scaled_object_errors_total{exported_namespace="agents", scaledObject="research"}': "0x30",
}


def _dashboard_queries(plan: PlanResult) -> list[tuple[str, str]]:
    """(panel, PromQL) for every query of the dashboards the plan renders."""
    return [
        (f"{key}: {panel['title']}", target["expr"])
        for body in plan.manifests.values()
        if body["kind"] == "ConfigMap" and body["metadata"]["name"].endswith("-dashboard")
        for key, text in body["data"].items()
        for panel in json.loads(text)["panels"]
        for target in panel["targets"]
    ]


def test_every_dashboard_panel_shows_data_from_the_platforms_metrics(
    any_plan: PlanResult, tmp_path: Path
) -> None:
    """promtool evaluates every panel query (with the chargeback records the rules write) over
    series named as the exporters name them: a misspelt metric or a broken query shows nothing."""
    require_engine("promtool")
    assert set(map(series_metric, PLATFORM_SERIES)) <= KNOWN_METRICS
    write_rule_files(any_plan.manifests, tmp_path)
    queries = _dashboard_queries(any_plan)
    assert len(queries) > 15
    cases = [{"expr": f"absent({q})", "eval_time": "20m", "exp_samples": []} for _, q in queries]
    group = {
        "name": "every panel shows data",
        "input_series": [{"series": k, "values": v} for k, v in PLATFORM_SERIES.items()],
        "promql_expr_test": cases,
    }
    test = tmp_path / "dashboard.test.yaml"
    test.write_text(yaml.safe_dump({"rule_files": ["substrate-chargeback.yaml"], "tests": [group]}))
    run = run_rule_tests([test], tmp_path / "junit.xml")
    (result,) = run.results
    assert result.passed, result.message()


def _rules(plan: PlanResult) -> dict[str, dict[str, Any]]:
    return {
        rule.get("alert") or rule["record"]: rule
        for body in plan.manifests.values()
        if body["kind"] == "PrometheusRule"
        for group in body["spec"]["groups"]
        for rule in group["rules"]
    }


def test_alert_thresholds_come_from_the_stack_file(
    dev_plan: PlanResult, prod_plan: PlanResult
) -> None:
    assert _rules(dev_plan)["GpuAllocatedButIdle"]["for"] == "30m"
    assert _rules(prod_plan)["GpuAllocatedButIdle"]["for"] == "1h"
    assert _rules(prod_plan)["KueueWorkloadsPendingTooLong"]["expr"].endswith("> 1800")


@pytest.mark.crds
def test_every_rendered_custom_resource_validates(any_plan: PlanResult, crds: Path) -> None:
    checked = 0
    for path, body in any_plan.manifests.items():
        if body["kind"] in CUSTOM_KINDS | {"PrometheusRule"}:
            assert validation_errors(crds, body) == [], path
            checked += 1
    assert checked >= 6


def test_spire_uses_the_stack_trust_domain(any_plan: PlanResult) -> None:
    spire = next(r for r in any_plan.releases if r["chart"] == "spire")
    domain = typed_config(stack_yaml(any_plan.stack)).identity.trust_domain
    assert spire["values"]["global"]["spire"]["trustDomain"] == domain


def test_only_r27_exempt_namespaces_are_privileged(any_plan: PlanResult) -> None:
    levels = {
        body["metadata"]["name"]: body["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
        for body in any_plan.manifests.values()
        if body["kind"] == "Namespace"
    }
    # R27's explicit list: SPIRE's agent, DCGM exporter (SYS_ADMIN), NVIDIA and EFA device
    # plugins.
    assert {ns for ns, level in levels.items() if level != "restricted"} == {
        "spire-system",
        "dcgm-exporter",
        "nvidia-device-plugin",
        "aws-efa-k8s-device-plugin",
    }
    assert levels["spire-server"] == levels["monitoring"] == "restricted"


def test_custom_resources_wait_for_their_crd_releases(prod: Resources) -> None:
    # depends_on a component expands to its children, and children register only after their
    # component: every CR below waits for the CRD release (as the system node group does).
    crds = prod.named("prometheus-crds-release").urn
    for typ in ("PlatformMonitoring", "DcgmExporter", "PrometheusStack"):
        assert crds in prod.one(f"substrate:index:{typ}").dependencies, typ
    spire = prod.one("substrate:index:Spire")
    assert prod.named("spire-crds-release").urn in spire.dependencies
    workloads = prod.one("substrate:index:WorkloadIdentity")
    assert prod.named("spire-release").urn in workloads.dependencies


def _gpu_pool() -> ResourceRecord:
    return ResourceRecord(
        urn="urn:pulumi:prod::substrate::kubernetes:karpenter.sh/v1:NodePool::gpu",
        type="kubernetes:karpenter.sh/v1:NodePool",
        name="gpu",
        parent=None,
        custom=True,
        remote=False,
        dependencies=[],
        property_dependencies={},
        provider=None,
        raw_inputs={
            "metadata": {"name": "gpu-a100"},
            "spec": {
                "template": {
                    "spec": {
                        "taints": [
                            {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}
                        ]
                    }
                }
            },
        },
    )


def test_p1_accepts_the_planned_exporter_once_a_gpu_pool_exists(prod_plan: PlanResult) -> None:
    policies = effective_policies([p01.POLICY], {})
    assert evaluate([*prod_plan.records, _gpu_pool()], policies) == []
    without = [r for r in prod_plan.records if not r.name.startswith("dcgm-exporter")]
    violations = evaluate([*without, _gpu_pool()], policies)
    assert [v.policy for v in violations] == ["p1-dcgm-exporter-for-gpu-pools"]


def test_external_prometheus_gets_only_monitors_rules_and_dashboards() -> None:
    raw = stack_yaml("dev")
    raw["substrate:observability"] = {
        "stack": "external",
        "external": {"namespace": "observability", "labels": {"release": "prometheus"}},
    }
    cfg = typed_config(raw)
    resources = Resources(run_program(lambda: build_platform(cfg), stack="dev"))
    charts = {r.inputs["chart"] for r in resources.of_type("kubernetes:helm.sh/v3:Release")}
    assert "kube-prometheus-stack" not in charts
    assert "prometheus-operator-crds" not in charts
    assert "dcgm-exporter" in charts
    rules = resources.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    assert rules
    for record in rules:
        assert record.inputs["metadata"]["namespace"] == "observability"
        assert record.inputs["metadata"]["labels"]["release"] == "prometheus"
    monitor = resources.one(
        "kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "dcgm-exporter-service-monitor"
    )
    assert monitor.inputs["metadata"]["labels"]["release"] == "prometheus"


def test_controller_monitors_point_at_the_namespaces_the_controllers_run_in(
    any_plan: PlanResult,
) -> None:
    """Scrape targets follow the deployed releases (Karpenter, Kueue, KEDA), never a guess."""
    releases = {r["name"]: r["namespace"] for r in any_plan.releases}
    monitors = {
        m["metadata"]["name"]: m["spec"]["namespaceSelector"]["matchNames"]
        for m in any_plan.manifests.values()
        if m["kind"] in ("ServiceMonitor", "PodMonitor")
        and m["metadata"]["name"] != "dcgm-exporter"
        and m["metadata"]["labels"].get("app.kubernetes.io/component") != "agent"
    }
    expected = {
        "karpenter": [releases["karpenter"]],
        "kueue": [releases["kueue"]],
        "keda-operator": [releases["keda"]],
    }
    if "spark-operator" in releases:
        expected["spark-operator-controller"] = [releases["spark-operator"]]
        (spark,) = [r for r in any_plan.releases if r["name"] == "spark-operator"]
        # Spark drivers are scraped where they run: the operator's job namespaces.
        for ns in spark["values"]["spark"]["jobNamespaces"]:
            expected[f"spark-{ns}-driver"] = [ns]
            expected[f"spark-{ns}-executors"] = [ns]
    assert monitors == expected
