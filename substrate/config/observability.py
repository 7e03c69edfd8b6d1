"""``substrate:observability``: Prometheus (managed or bring-your-own), DCGM, alerts, scraping."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Annotated, Literal

from substrate.components.core import validators
from substrate.components.observability.rules_common import seconds
from substrate.config.checks import between, rule
from substrate.config.schema import ConfigError, camel, doc

Duration = Annotated[str, rule(validators.prometheus_duration)]
MONTH_CLOSE_RETENTION = "35d"
"""The chargeback records live in Prometheus: a 31-day month plus 4 days to close it."""
Namespace = Annotated[str, rule(validators.dns_label)]


@dataclass(frozen=True)
class PrometheusConfig:
    """The managed kube-prometheus-stack (Prometheus, Alertmanager, Grafana, kube-state-metrics)."""

    retention: Duration = doc(
        "How long Prometheus keeps samples; at least "
        f"{MONTH_CLOSE_RETENTION} (a 31-day month of per-minute GPU-hour records plus 4 days to "
        "close it).",
        default=MONTH_CLOSE_RETENTION,
    )
    storage_gib: Annotated[int, between(10, 16384)] = doc(
        "Size of each Prometheus replica's volume (default StorageClass: encrypted gp3).",
        default=50,
    )
    replicas: Annotated[int, between(1, 5)] = doc(
        "Prometheus replicas (each scrapes everything; 2 for HA).", default=1
    )
    alertmanager_replicas: Annotated[int, between(1, 5)] = doc(
        "Alertmanager replicas (they gossip to deduplicate notifications).", default=1
    )


@dataclass(frozen=True)
class ExternalPrometheusConfig:
    """Bring your own Prometheus Operator: Substrate renders only monitors, rules, dashboards."""

    namespace: Namespace = doc(
        "Existing namespace for Substrate's PrometheusRules and dashboard ConfigMap.",
        default="monitoring",
    )
    install_crds: bool = doc(
        "Install the Prometheus Operator CRDs (prometheus-operator-crds chart); false when your "
        "operator already manages them.",
        default=False,
    )
    labels: dict[str, str] = doc(
        "Labels your Prometheus selects ServiceMonitors, PodMonitors and rules by, e.g. "
        "`release: prometheus`.",
        factory=dict,
    )


@dataclass(frozen=True)
class AlertsConfig:
    """Thresholds of Substrate's GPU, queue and capacity alerts."""

    gpu_idle_utilization_percent: Annotated[int, between(1, 100)] = doc(
        "A GPU allocated to a pod whose 10-minute average utilization stays below this is idle.",
        default=5,
    )
    gpu_idle_for: Duration = doc(
        "How long an allocated GPU must stay idle before `GpuAllocatedButIdle` fires.",
        default="1h",
    )
    kueue_pending_for: Duration = doc(
        "A ClusterQueue with pending workloads and no admission for this long is stalled; also "
        "the p90 admission wait that fires `KueueWorkloadsPendingTooLong`.",
        default="30m",
    )
    unused_claim_for: Duration = doc(
        "A bound PersistentVolumeClaim no pod has referenced for this long fires "
        "`PersistentVolumeClaimWithoutPod` (info).",
        default="7d",
    )
    released_volume_for: Duration = doc(
        "A PersistentVolume kept in phase Released (its claim deleted, reclaimPolicy Retain) this "
        "long fires `PersistentVolumeReleased` (info).",
        default="1d",
    )


@dataclass(frozen=True)
class ObservabilityConfig:
    """GPU telemetry and platform monitoring."""

    stack: Literal["kube-prometheus-stack", "external"] = doc(
        "`kube-prometheus-stack`: Substrate installs and owns the monitoring stack; `external`: "
        "an existing Prometheus Operator picks up Substrate's monitors and rules.",
        default="kube-prometheus-stack",
    )
    prometheus: PrometheusConfig = doc(
        "Managed stack sizing (stack kube-prometheus-stack).", factory=PrometheusConfig
    )
    external: ExternalPrometheusConfig | None = doc(
        "Bring-your-own settings (stack external).", default=None
    )
    dcgm_exporter: bool = doc(
        "Install NVIDIA's DCGM exporter on GPU nodes (required once any GPU NodePool exists).",
        default=True,
    )
    alerts: AlertsConfig = doc("Alert thresholds.", factory=AlertsConfig)

    @property
    def managed(self) -> bool:
        return self.stack == "kube-prometheus-stack"

    @property
    def external_settings(self) -> ExternalPrometheusConfig:
        return self.external or ExternalPrometheusConfig()

    def check(self, path: str) -> None:
        retention = self.prometheus.retention
        if self.managed and seconds(retention) < seconds(MONTH_CLOSE_RETENTION):
            raise ConfigError(
                f"{path}.prometheus.retention",
                retention,
                "cannot close a month of GPU-hours (the per-minute chargeback records live in "
                "Prometheus: 31 days plus 4 to close)",
                f"{MONTH_CLOSE_RETENTION} or more",
            )
        if self.managed and self.external is not None:
            raise ConfigError(
                f"{path}.external",
                {camel(k): v for k, v in dataclasses.asdict(self.external).items()},
                "is set while stack is kube-prometheus-stack",
                'stack: "external" to use an existing Prometheus Operator, or no external key',
            )
