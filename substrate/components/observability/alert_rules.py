"""Substrate's Prometheus rules: GPU health and waste, queue and capacity alerts, node and
storage alerts, chargeback.

Pure data (no Pulumi import). Every metric an expression reads is listed in ``UPSTREAM_METRICS``
with the project and version that exports it. promtool checks and unit-tests every rule a stack
renders (tests/rules/), feeding only series of those metrics and the curated DCGM counters.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from substrate.components.observability.chargeback_rules import (
    GpuPoolFacts,
    chargeback_rules,
    compute_chargeback_rules,
)
from substrate.components.observability.node_alerts import gpu_node_rules
from substrate.components.observability.rules_common import alert, increase_since_created, seconds
from substrate.components.observability.storage_alerts import StorageAlertThresholds, storage_rules

KSM = "kube-state-metrics v2.20.0"
KARPENTER = "Karpenter v1.14.1"
UPSTREAM_METRICS: dict[str, str] = {
    # kube-state-metrics v2.20.0 (kube-prometheus-stack 88.5.3 -> kube-state-metrics chart 8.4.0)
    "kube_pod_container_resource_requests": KSM,
    "kube_pod_status_phase": KSM,
    "kube_pod_status_unschedulable": KSM,
    "kube_namespace_labels": KSM,
    "kube_node_labels": KSM,
    "kube_pod_labels": KSM,  # labels namespace, pod, uid, label_<allowlisted pod label>
    "kube_node_status_condition": KSM,
    "kube_pod_container_status_restarts_total": KSM,  # labels container, namespace, pod, uid
    "kube_pod_spec_volumes_persistentvolumeclaims_info": KSM,
    "kube_persistentvolumeclaim_info": KSM,
    "kube_persistentvolumeclaim_status_phase": KSM,
    "kube_persistentvolumeclaim_resource_requests_storage_bytes": KSM,
    "kube_persistentvolume_info": KSM,
    "kube_persistentvolume_status_phase": KSM,
    "kube_persistentvolume_capacity_bytes": KSM,
    # Kueue v0.19.2, pkg/metrics/metrics.go (subsystem "kueue")
    "kueue_pending_workloads": "Kueue v0.19.2",
    "kueue_admitted_workloads_total": "Kueue v0.19.2",
    "kueue_admission_wait_time_seconds_bucket": "Kueue v0.19.2 (histogram)",
    "kueue_cluster_queue_resource_usage": "Kueue v0.19.2",
    # Karpenter v1.14.1 (sigs.k8s.io/karpenter pkg/metrics, pkg/cloudprovider/metrics,
    # pkg/controllers/metrics/nodepool; operatorpkg status-condition gauges, one per object)
    "karpenter_nodeclaims_disrupted_total": KARPENTER,
    "karpenter_nodeclaims_created_total": KARPENTER,
    "karpenter_cloudprovider_errors_total": KARPENTER,
    "karpenter_nodepools_usage": KARPENTER,
    "karpenter_nodepools_limit": KARPENTER,
    "operator_nodeclaim_status_condition_current_status_seconds": KARPENTER,
    "operator_ec2nodeclass_status_condition_count": KARPENTER,
    # Prometheus itself: 1 per scrape target that answered, 0 otherwise (labels job, instance)
    "up": "Prometheus v3.14.0",
    # KEDA v2.20.2, pkg/metricscollector/prommetrics.go (namespace "keda")
    "keda_scaler_active": "KEDA v2.20.2",
    "keda_scaled_object_errors_total": "KEDA v2.20.2",
    # kubelet /metrics, pkg/kubelet/metrics/collectors/volume_stats.go (labels namespace,
    # persistentvolumeclaim); scraped by kube-prometheus-stack 88.5.3's kubelet ServiceMonitor
    # (kubelet.serviceMonitor.kubelet: true), whose own KubePersistentVolumeFillingUp reads them.
    "kubelet_volume_stats_used_bytes": "kubelet (Kubernetes)",
    "kubelet_volume_stats_capacity_bytes": "kubelet (Kubernetes)",
}

NOT_FOLLOWER = 'replica_role!="follower"'
"""Kueue HA: followers report too; count the leader (or standalone) only."""
GPU = "node, gpu, UUID, modelName"
"""What identifies a GPU in DCGM series (and its model, kept on every GPU alert)."""


@dataclass(frozen=True)
class Thresholds:
    """Alert thresholds (from `substrate:observability.alerts`)."""

    gpu_idle_utilization_percent: int = 5
    """`GpuAllocatedButIdle` fires when an allocated GPU stays below this utilization, in
    percent, for `gpu_idle_for`."""
    gpu_idle_for: str = "1h"
    """How long the GPU stays idle before that alert, a Prometheus duration ("1h")."""
    kueue_pending_for: str = "30m"
    """Admission wait (p90) above which `KueueWorkloadsPendingTooLong` fires, and how long
    `KueueClusterQueueStalled` waits, a Prometheus duration ("30m")."""
    storage: StorageAlertThresholds = field(default_factory=StorageAlertThresholds)
    """Thresholds of the storage alerts."""


XID_WINDOW = "1h"
"""GpuXidError stays firing this long after the last XID (the exporter's windowed count drops an
XID after 5 minutes; an hour leaves time to see it)."""


def gpu_health_rules() -> list[dict[str, Any]]:
    return [
        alert(
            "GpuXidError",
            f"max by ({GPU}, xid) (max_over_time("
            f'DCGM_EXP_XID_ERRORS_COUNT{{xid!=""}}[{XID_WINDOW}])) > 0',
            "0m",
            "warning",
            summary="GPU {{ $labels.gpu }} on {{ $labels.node }} reported XID {{ $labels.xid }}",
            description=(
                "The driver logged an XID error. 48, 63/64, 79, 92-95 point to hardware: drain "
                "the node and let Karpenter replace it; 13/31/43 are usually application faults. "
                f"The alert clears {XID_WINDOW} after the last occurrence."
            ),
        ),
        alert(
            "GpuThermalThrottling",
            # A GPU's counter moves to a new series when the exporter pod is replaced or the pod
            # holding the GPU changes: the rates of the pieces add up; keep_firing_for bridges the
            # first minutes of a new series, where rate() has too few samples.
            f"sum by ({GPU}) (rate(DCGM_FI_DEV_THERMAL_VIOLATION[5m])) / 1e9 > 0.1",
            "10m",
            "warning",
            summary="GPU {{ $labels.gpu }} on {{ $labels.node }} is thermally throttled",
            description=(
                "Clocks were held back for thermal reasons more than 10% of the last 5 minutes."
            ),
            keep_firing_for="5m",
        ),
        alert(
            "GpuEccUncorrectableErrors",
            f"max by ({GPU}) (increase(DCGM_FI_DEV_ECC_DBE_VOL_TOTAL[10m])) > 0",
            "0m",
            "critical",
            summary="GPU {{ $labels.gpu }} on {{ $labels.node }} had double-bit ECC errors",
            description=(
                "Uncorrectable memory errors corrupt results: drain the node and replace it."
            ),
        ),
        alert(
            "GpuRowRemapFailure",
            f"max by ({GPU}) (DCGM_FI_DEV_ROW_REMAP_FAILURE) > 0",
            "0m",
            "critical",
            summary="GPU {{ $labels.gpu }} on {{ $labels.node }} failed to remap a memory row",
            description="The GPU can no longer retire bad memory rows: replace the node.",
        ),
        alert(
            "GpuNvlinkErrors",
            f"sum by ({GPU}) (increase(DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL[10m])"
            f" + increase(DCGM_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL[10m])) > 0",
            "10m",
            "warning",
            summary="NVLink errors on GPU {{ $labels.gpu }} of {{ $labels.node }}",
            description="Sustained NVLink CRC or recovery errors slow collective operations.",
        ),
    ]


def waste_rules(t: Thresholds) -> list[dict[str, Any]]:
    return [
        alert(
            "GpuAllocatedButIdle",
            f"max by (namespace, pod, {GPU}) "
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
    admitted = increase_since_created(f"kueue_admitted_workloads_total{{{NOT_FOLLOWER}}}", window)
    timeouts = increase_since_created(
        'karpenter_nodeclaims_disrupted_total{reason=~"launch_timeout|registration_timeout"}',
        "30m",
    )
    return [
        alert(
            "KueueWorkloadsPendingTooLong",
            "histogram_quantile(0.9, sum by (cluster_queue, le) "
            f"(rate(kueue_admission_wait_time_seconds_bucket{{{NOT_FOLLOWER}}}[1h]))) "
            f"> {seconds(window)}",
            "15m",
            "warning",
            summary="ClusterQueue {{ $labels.cluster_queue }}: p90 admission wait above " + window,
            description=(
                "Workloads wait longer than expected for quota: check the queue's nominal quota, "
                "borrowing and whether Karpenter can launch the flavor's nodes."
            ),
        ),
        alert(
            "KueueClusterQueueStalled",
            "(sum by (cluster_queue) "
            f'(kueue_pending_workloads{{status="active", {NOT_FOLLOWER}}}) > 0) '
            f"unless on (cluster_queue) (sum by (cluster_queue) ({admitted}) > 0)",
            window,
            "warning",
            summary=(
                "ClusterQueue {{ $labels.cluster_queue }} has pending workloads and admits none"
            ),
            description=f"Active workloads have been pending with no admission for {window}.",
        ),
        alert(
            "KarpenterNodeLaunchTimeouts",
            f"sum by (nodepool) ({timeouts}) > 0",
            "0m",
            "warning",
            summary="NodePool {{ $labels.nodepool }}: nodes failed to launch or register",
            description=(
                "Karpenter deleted NodeClaims that did not launch within 5 minutes or register "
                "within 15 minutes: check EC2 capacity, the EC2NodeClass (AMI, subnets, security "
                "groups) and node bootstrap."
            ),
        ),
        alert(
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
        alert(
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
                "the claim (agent-gp3 and nvme-fast allow expansion) up to the platform's cap. A "
                "full volume stops the agent from saving state."
            ),
        ),
        alert(
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
        alert(
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
        alert(
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


def rule_groups(
    t: Thresholds, pools: Sequence[GpuPoolFacts] = ()
) -> dict[str, list[dict[str, Any]]]:
    """PrometheusRule object name -> its groups."""
    return {
        "substrate-gpu": [
            {"name": "substrate.gpu.health", "rules": gpu_health_rules()},
            {"name": "substrate.gpu.waste", "rules": waste_rules(t)},
        ],
        "substrate-capacity": [
            {"name": "substrate.queues-and-capacity", "rules": queue_and_capacity_rules(t)},
            {"name": "substrate.gpu-nodes", "rules": gpu_node_rules(pools)},
        ],
        "substrate-chargeback": [
            {
                "name": "substrate.gpu.chargeback",
                "interval": "1m",
                "rules": chargeback_rules(pools),
            },
            {
                "name": "substrate.compute.chargeback",
                "interval": "1m",
                "rules": compute_chargeback_rules(),
            },
        ],
        "substrate-storage": [
            {"name": "substrate.storage", "rules": storage_rules(t.storage)},
        ],
    }
