"""Substrate's Prometheus rules: GPU health and waste, queue and capacity alerts, chargeback.

Pure data (no Pulumi import). Every metric an expression reads is listed in ``UPSTREAM_METRICS``
with the project and version that exports it. promtool checks and unit-tests every rule a stack
renders (tests/rules/), feeding only series of those metrics and the curated DCGM counters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.labels import TENANT_LABEL

UPSTREAM_METRICS: dict[str, str] = {
    # kube-state-metrics v2.20.0 (kube-prometheus-stack 88.5.3 -> kube-state-metrics chart 8.4.0)
    "kube_pod_container_resource_requests": "kube-state-metrics v2.20.0",
    "kube_pod_status_phase": "kube-state-metrics v2.20.0",
    "kube_namespace_labels": "kube-state-metrics v2.20.0",
    # Kueue v0.19.2, pkg/metrics/metrics.go (subsystem "kueue")
    "kueue_pending_workloads": "Kueue v0.19.2",
    "kueue_admitted_workloads_total": "Kueue v0.19.2",
    "kueue_admission_wait_time_seconds_bucket": "Kueue v0.19.2 (histogram)",
    "kueue_cluster_queue_resource_usage": "Kueue v0.19.2",
    # Karpenter v1.14.1 (sigs.k8s.io/karpenter pkg/metrics, pkg/cloudprovider/metrics)
    "karpenter_nodeclaims_disrupted_total": "Karpenter v1.14.1",
    "karpenter_nodeclaims_created_total": "Karpenter v1.14.1",
    "karpenter_cloudprovider_errors_total": "Karpenter v1.14.1",
    # KEDA v2.20.2, pkg/metricscollector/prommetrics.go (namespace "keda")
    "keda_scaler_active": "KEDA v2.20.2",
    "keda_scaled_object_errors_total": "KEDA v2.20.2",
    # kubelet /metrics, pkg/kubelet/metrics/collectors/volume_stats.go (labels namespace,
    # persistentvolumeclaim); scraped by kube-prometheus-stack 88.5.3's kubelet ServiceMonitor
    # (kubelet.serviceMonitor.kubelet: true), whose own KubePersistentVolumeFillingUp reads them.
    "kubelet_volume_stats_used_bytes": "kubelet (Kubernetes)",
    "kubelet_volume_stats_capacity_bytes": "kubelet (Kubernetes)",
    # kube-state-metrics v2.20.0 internal/store/pod.go (labels container, namespace, pod, uid)
    "kube_pod_container_status_restarts_total": "kube-state-metrics v2.20.0",
}

GPU_RESOURCE_LABEL = "nvidia_com_gpu"
"""kube-state-metrics sanitizes `nvidia.com/gpu` into the `resource` label value (unit integer)."""
TENANT_METRIC_LABEL = "label_" + TENANT_LABEL.replace(".", "_").replace("/", "_")
"""`substrate.io/tenant` as kube_namespace_labels exports it (label_substrate_io_tenant)."""
NOT_FOLLOWER = 'replica_role!="follower"'
"""Kueue HA: followers report too; count the leader (or standalone) only."""


@dataclass(frozen=True)
class Thresholds:
    """Alert thresholds (from `substrate:observability.alerts`)."""

    gpu_idle_utilization_percent: int = 5
    gpu_idle_for: str = "1h"
    kueue_pending_for: str = "30m"


def _seconds(duration: str) -> int:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    total, number = 0.0, ""
    i = 0
    while i < len(duration):
        ch = duration[i]
        if ch.isdigit():
            number += ch
            i += 1
            continue
        unit = "ms" if duration.startswith("ms", i) else ch
        total += int(number) * units[unit]
        number, i = "", i + len(unit)
    return int(total)


def _alert(
    name: str, expr: str, for_: str, severity: str, *, summary: str, description: str
) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity, "platform": "substrate"},
        "annotations": {"summary": summary, "description": description},
    }


def gpu_health_rules() -> list[dict[str, Any]]:
    by_gpu = "node, gpu, UUID, modelName"
    return [
        _alert(
            "GpuXidError",
            f"max by ({by_gpu}) (DCGM_FI_DEV_XID_ERRORS) > 0",
            "1m",
            "warning",
            summary="GPU {{ $labels.gpu }} on {{ $labels.node }} reported XID {{ $value }}",
            description=(
                "The driver logged an XID error. 48, 63/64, 79, 92-95 point to hardware: drain "
                "the node and let Karpenter replace it; 13/31/43 are usually application faults."
            ),
        ),
        _alert(
            "GpuThermalThrottling",
            f"max by ({by_gpu}) (rate(DCGM_FI_DEV_THERMAL_VIOLATION[5m])) / 1e9 > 0.1",
            "10m",
            "warning",
            summary="GPU {{ $labels.gpu }} on {{ $labels.node }} is thermally throttled",
            description=(
                "Clocks were held back for thermal reasons more than 10% of the last 5 minutes."
            ),
        ),
        _alert(
            "GpuEccUncorrectableErrors",
            f"max by ({by_gpu}) (increase(DCGM_FI_DEV_ECC_DBE_VOL_TOTAL[10m])) > 0",
            "0m",
            "critical",
            summary="GPU {{ $labels.gpu }} on {{ $labels.node }} had double-bit ECC errors",
            description=(
                "Uncorrectable memory errors corrupt results: drain the node and replace it."
            ),
        ),
        _alert(
            "GpuRowRemapFailure",
            f"max by ({by_gpu}) (DCGM_FI_DEV_ROW_REMAP_FAILURE) > 0",
            "0m",
            "critical",
            summary="GPU {{ $labels.gpu }} on {{ $labels.node }} failed to remap a memory row",
            description="The GPU can no longer retire bad memory rows: replace the node.",
        ),
        _alert(
            "GpuNvlinkErrors",
            f"sum by ({by_gpu}) (increase(DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL[10m])"
            f" + increase(DCGM_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL[10m])) > 0",
            "10m",
            "warning",
            summary="NVLink errors on GPU {{ $labels.gpu }} of {{ $labels.node }}",
            description="Sustained NVLink CRC or recovery errors slow collective operations.",
        ),
    ]


def waste_rules(t: Thresholds) -> list[dict[str, Any]]:
    return [
        _alert(
            "GpuAllocatedButIdle",
            "max by (namespace, pod, node, gpu) "
            f'(avg_over_time(DCGM_FI_DEV_GPU_UTIL{{pod!=""}}[10m])) '
            f"< {t.gpu_idle_utilization_percent}",
            t.gpu_idle_for,
            "info",
            summary=(
                "{{ $labels.namespace }}/{{ $labels.pod }} holds GPU {{ $labels.gpu }} but is idle"
            ),
            description=(
                f"GPU utilization stayed below {t.gpu_idle_utilization_percent}% for "
                f"{t.gpu_idle_for} while allocated: release the GPU or scale the workload down."
            ),
        )
    ]


def queue_and_capacity_rules(t: Thresholds) -> list[dict[str, Any]]:
    window = t.kueue_pending_for
    return [
        _alert(
            "KueueWorkloadsPendingTooLong",
            "histogram_quantile(0.9, sum by (cluster_queue, le) "
            f"(rate(kueue_admission_wait_time_seconds_bucket{{{NOT_FOLLOWER}}}[1h]))) "
            f"> {_seconds(window)}",
            "15m",
            "warning",
            summary="ClusterQueue {{ $labels.cluster_queue }}: p90 admission wait above " + window,
            description=(
                "Workloads wait longer than expected for quota: check the queue's nominal quota, "
                "borrowing and whether Karpenter can launch the flavor's nodes."
            ),
        ),
        _alert(
            "KueueClusterQueueStalled",
            "(sum by (cluster_queue) "
            f'(kueue_pending_workloads{{status="active", {NOT_FOLLOWER}}}) > 0) '
            "unless on (cluster_queue) (sum by (cluster_queue) "
            f"(increase(kueue_admitted_workloads_total{{{NOT_FOLLOWER}}}[{window}])) > 0)",
            window,
            "warning",
            summary=(
                "ClusterQueue {{ $labels.cluster_queue }} has pending workloads and admits none"
            ),
            description=f"Active workloads have been pending with no admission for {window}.",
        ),
        _alert(
            "KarpenterNodeLaunchTimeouts",
            "sum by (nodepool) (increase(karpenter_nodeclaims_disrupted_total"
            '{reason=~"launch_timeout|registration_timeout"}[30m])) > 0',
            "0m",
            "warning",
            summary="NodePool {{ $labels.nodepool }}: nodes failed to launch or register",
            description=(
                "Karpenter deleted NodeClaims that did not launch within 5 minutes or register "
                "within 15 minutes: check EC2 capacity, the EC2NodeClass (AMI, subnets, security "
                "groups) and node bootstrap."
            ),
        ),
        _alert(
            "KarpenterCloudProviderCreateErrors",
            'sum by (error) (rate(karpenter_cloudprovider_errors_total{method="Create"}[10m])) > 0',
            "30m",
            "warning",
            summary="Karpenter keeps failing to create instances ({{ $labels.error }})",
            description=(
                "CreateFleet has failed for 30 minutes; InsufficientCapacityError means no "
                "capacity for any allowed instance type (common for GPUs): widen the NodePool's "
                "instance types, zones or capacity types."
            ),
        ),
    ]


def chargeback_rules() -> list[dict[str, Any]]:
    """GPU-hours per namespace (and tenant) from kube-state-metrics requests and DCGM usage."""
    requests = (
        f'kube_pod_container_resource_requests{{resource="{GPU_RESOURCE_LABEL}", unit="integer"}}'
    )
    return [
        {
            "record": "namespace:gpu_allocated:sum",
            "expr": f"sum by (namespace) ({requests} * on (namespace, pod) group_left () "
            '(kube_pod_status_phase{phase="Running"} == 1))',
        },
        {
            "record": "namespace:gpu_in_use:count",
            "expr": 'count by (namespace) (DCGM_FI_DEV_GPU_UTIL{namespace!=""})',
        },
        {
            "record": "namespace:gpu_hours_allocated:avg1h",
            "expr": "avg_over_time(namespace:gpu_allocated:sum[1h])",
        },
        {
            "record": "namespace:gpu_hours_used:avg1h",
            "expr": "avg_over_time(namespace:gpu_in_use:count[1h])",
        },
        {
            "record": "tenant:gpu_hours_allocated:avg1h",
            "expr": "sum by (tenant) (label_replace(namespace:gpu_hours_allocated:avg1h "
            f"* on (namespace) group_left ({TENANT_METRIC_LABEL}) kube_namespace_labels, "
            f'"tenant", "$1", "{TENANT_METRIC_LABEL}", "(.+)"))',
        },
    ]


@dataclass(frozen=True)
class AgentAlerts:
    """One agent's alert subjects and thresholds (`substrate:agents.<name>.alerts`)."""

    agent: str
    tenant: str
    namespace: str
    claim_template: str
    """Name of the StatefulSet's volume claim template (claims are `<template>-<agent>-<n>`)."""
    memory_volume_percent: int = 80
    memory_volume_critical_percent: int = 95
    restarts: int = 3
    restart_window: str = "15m"
    not_running_for: str = "10m"


def _volume_use(claims: str) -> str:
    return (
        "max by (namespace, persistentvolumeclaim) ("
        f"kubelet_volume_stats_used_bytes{{{claims}}} "
        f"/ kubelet_volume_stats_capacity_bytes{{{claims}}}) * 100"
    )


def agent_rules(a: AgentAlerts) -> list[dict[str, Any]]:
    """Memory volume filling up and nearly full, restart loops and replicas that do not run,
    for the pods and claims of one StatefulSet (pods `<agent>-<ordinal>`, claims
    `<template>-<agent>-<ordinal>`). kube-state-metrics series are deduplicated across its pods
    (two are scraped at once during its rollout): `max by` the series' own labels."""
    claims = (
        f'namespace="{a.namespace}", persistentvolumeclaim=~"{a.claim_template}-{a.agent}-[0-9]+"'
    )
    pods = f'namespace="{a.namespace}", pod=~"{a.agent}-[0-9]+"'
    rules = [
        _alert(
            "AgentMemoryVolumeFilling",
            f"{_volume_use(claims)} > {a.memory_volume_percent}",
            "5m",
            "warning",
            summary=(
                f"Agent {a.agent}: memory volume {{{{ $labels.persistentvolumeclaim }}}} is "
                f"over {a.memory_volume_percent}% full"
            ),
            description=(
                "The agent's memory volume is filling up: compact or expire its memory, or grow "
                "the claim (nvme-fast allows expansion) up to the platform's cap. A full volume "
                "stops the agent from saving state."
            ),
        ),
        _alert(
            "AgentMemoryVolumeAlmostFull",
            f"{_volume_use(claims)} > {a.memory_volume_critical_percent}",
            "2m",
            "critical",
            summary=(
                f"Agent {a.agent}: memory volume {{{{ $labels.persistentvolumeclaim }}}} is "
                f"over {a.memory_volume_critical_percent}% full"
            ),
            description=(
                "The agent is about to stop saving state. Stop the runaway replica (delete its "
                "pod: the StatefulSet restarts it on the same volume) or grow the claim now; see "
                "docs/agents.md, memory bound."
            ),
        ),
        _alert(
            "AgentRestartingRepeatedly",
            "sum by (namespace, pod) (max by (namespace, pod, container, uid) ("
            f"increase(kube_pod_container_status_restarts_total{{{pods}}}"
            f"[{a.restart_window}]))) >= {a.restarts}",
            "0m",
            "warning",
            summary=(
                f"Agent {a.agent}: {{{{ $labels.pod }}}} restarted {a.restarts}+ times in "
                f"{a.restart_window}"
            ),
            description=(
                "Containers of the agent keep restarting (crash, OOM kill at the memory limit, "
                "failing liveness probe): check `kubectl describe pod` and the previous logs."
            ),
        ),
        _alert(
            "AgentReplicaNotRunning",
            "max by (namespace, pod, phase) ("
            f'kube_pod_status_phase{{{pods}, phase=~"Pending|Unknown"}}) == 1',
            a.not_running_for,
            "warning",
            summary=(
                f"Agent {a.agent}: {{{{ $labels.pod }}}} is {{{{ $labels.phase }}}} for "
                f"{a.not_running_for}"
            ),
            description=(
                "A replica is not running: its node is gone or unreachable (Unknown), or it "
                "cannot be scheduled (Pending) - its memory volume is zonal, so it waits for "
                "capacity in that zone. Its sessions are interrupted; see docs/agents.md."
            ),
        ),
    ]
    for rule in rules:
        rule["labels"] = {**rule["labels"], "tenant": a.tenant, "agent": a.agent}
    return rules


def rule_groups(t: Thresholds) -> dict[str, list[dict[str, Any]]]:
    """PrometheusRule object name -> its groups."""
    return {
        "substrate-gpu": [
            {"name": "substrate.gpu.health", "rules": gpu_health_rules()},
            {"name": "substrate.gpu.waste", "rules": waste_rules(t)},
        ],
        "substrate-capacity": [
            {"name": "substrate.queues-and-capacity", "rules": queue_and_capacity_rules(t)},
        ],
        "substrate-chargeback": [
            {"name": "substrate.gpu.chargeback", "interval": "1m", "rules": chargeback_rules()},
        ],
    }
