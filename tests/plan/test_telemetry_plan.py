"""What every stack's plan renders for identity and telemetry: rules that parse, CRs that
validate, the environment's trust domain, the PSA exemptions, and P1 on the real plan."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import pytest

from components.alert_rules import UPSTREAM_METRICS, recorded_names
from components.dcgm_exporter import COUNTERS_CSV, read_counters
from components.validators import prometheus_duration
from policy_packs.substrate.policies import p01_dcgm_exporter_for_gpu_pools as p01
from substrate.plan.command import PlanResult
from substrate.plan.policy import effective_policies, evaluate
from substrate.plan.recorder import ResourceRecord
from substrate.platform import build_platform
from tests.crds import validation_errors
from tests.helpers import Resources, run_program, stack_yaml, typed_config

KNOWN_METRICS = (
    set(UPSTREAM_METRICS)
    | recorded_names()
    | {field for field, kind, _ in read_counters(COUNTERS_CSV.read_text()) if kind != "label"}
)
CUSTOM_KINDS = {"ClusterSPIFFEID", "ClusterFederatedTrustDomain", "ServiceMonitor", "PodMonitor"}


def _expressions(plan: PlanResult) -> Iterator[tuple[str, str]]:
    """(where, PromQL) for every rule and dashboard query the plan renders."""
    for path, body in plan.manifests.items():
        if body["kind"] == "PrometheusRule":
            for group in body["spec"]["groups"]:
                for rule in group["rules"]:
                    yield f"{path}:{rule.get('alert') or rule.get('record')}", rule["expr"]
        if body["kind"] == "ConfigMap" and body["metadata"]["name"].endswith("-dashboard"):
            for key, text in body["data"].items():
                for panel in json.loads(text)["panels"]:
                    for target in panel["targets"]:
                        yield f"{path}:{key}:{panel['title']}", target["expr"]


def _selectors(expr: str) -> list[str]:
    names: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            names.append(node.name or "<no name>")

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


def test_every_promql_expression_parses_and_reads_known_metrics(any_plan: PlanResult) -> None:
    found = list(_expressions(any_plan))
    assert len(found) > 25
    for where, expr in found:
        names = _selectors(expr)  # raises on a syntax or type error
        assert names, where
        unknown = [n for n in names if n not in KNOWN_METRICS]
        assert unknown == [], f"{where}: {unknown}"


def test_the_parser_rejects_broken_promql() -> None:
    for broken in ("rate(DCGM_FI_DEV_GPU_UTIL)", "sum by (node (x)", "nosuchfn(up)"):
        with pytest.raises(ValueError):
            promql_parser.parse(broken)


def _rules(plan: PlanResult) -> dict[str, dict[str, Any]]:
    return {
        rule.get("alert") or rule["record"]: rule
        for body in plan.manifests.values()
        if body["kind"] == "PrometheusRule"
        for group in body["spec"]["groups"]
        for rule in group["rules"]
    }


def test_required_alerts_and_chargeback_rules_exist(any_plan: PlanResult) -> None:
    rules = _rules(any_plan)
    assert {
        "GpuXidError",
        "GpuThermalThrottling",
        "GpuEccUncorrectableErrors",
        "GpuAllocatedButIdle",
        "KueueWorkloadsPendingTooLong",
        "KueueClusterQueueStalled",
        "KarpenterNodeLaunchTimeouts",
        "namespace:gpu_hours_allocated:avg1h",
        "tenant:gpu_hours_allocated:avg1h",
    } <= set(rules)
    for name, rule in rules.items():
        if "alert" in rule:
            assert prometheus_duration(rule["for"]) is None or rule["for"] == "0m", name
            assert rule["labels"]["severity"] in ("info", "warning", "critical"), name


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
    # R27's explicit list: SPIRE's agent, DCGM exporter (SYS_ADMIN), NVIDIA device plugin.
    assert {ns for ns, level in levels.items() if level != "restricted"} == {
        "spire-system",
        "dcgm-exporter",
        "nvidia-device-plugin",
    }
    assert levels["spire-server"] == levels["monitoring"] == "restricted"


def test_custom_resources_wait_for_their_crd_releases(prod: Resources) -> None:
    # depends_on a component expands to its children, and children register only after their
    # component: every CR below waits for the CRD release (as the system node group does).
    crds = prod.named("prometheus-crds-release").urn
    for typ in ("PlatformMonitoring", "DcgmExporter", "PrometheusStack"):
        assert crds in prod.one(f"substrate:observability:{typ}").dependencies, typ
    spire = prod.one("substrate:identity:Spire")
    assert prod.named("spire-crds-release").urn in spire.dependencies
    workloads = prod.one("substrate:identity:WorkloadIdentity")
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
    assert monitors == {
        "karpenter": [releases["karpenter"]],
        "kueue": [releases["kueue"]],
        "keda-operator": [releases["keda"]],
    }
