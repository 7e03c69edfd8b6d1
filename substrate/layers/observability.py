"""Observability layer: Prometheus Operator CRDs and stack (or bring-your-own), DCGM exporter,
Substrate's rules, controller monitors and dashboards."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from substrate.components.capacity.pools import PoolSpec
from substrate.components.observability.alert_rules import Thresholds
from substrate.components.observability.chargeback_rules import GpuPoolFacts
from substrate.components.observability.dcgm_exporter import DcgmExporter
from substrate.components.observability.platform_monitoring import PlatformMonitoring
from substrate.components.observability.prometheus_crds import PrometheusOperatorCrds
from substrate.components.observability.prometheus_stack import (
    DASHBOARD_LABEL,
    MONITORING_NAMESPACE,
    PrometheusStack,
)
from substrate.components.observability.scrape_targets import (
    ScrapeTarget,
    karpenter,
    keda,
    kueue,
    spark_drivers,
    spark_operator,
)
from substrate.components.observability.storage_alerts import StorageAlertThresholds
from substrate.config import PlatformConfig
from substrate.layers.capacity import Capacity
from substrate.layers.foundation import Foundation
from substrate.layers.workloads import Workloads


@dataclass(frozen=True)
class Observability:
    crds: PrometheusOperatorCrds | None
    stack: PrometheusStack | None
    dcgm: DcgmExporter | None
    monitoring: PlatformMonitoring
    namespace: str
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels the monitoring stack selects rules and monitors by (external Prometheus)."""

    @property
    def namespaces(self) -> tuple[str, ...]:
        return tuple(
            ns
            for addon in (self.crds, self.stack, self.dcgm)
            if addon is not None
            for ns in addon.created_namespaces
        )


def scrape_targets(nodes: Capacity | None, work: Workloads | None) -> list[ScrapeTarget]:
    """Monitors for the controllers the platform actually deploys, where it deploys them."""
    targets: list[ScrapeTarget] = []
    if nodes is not None and nodes.karpenter is not None:
        targets.append(karpenter(nodes.karpenter.namespace_name))
    if work is not None and work.kueue is not None:
        targets.append(kueue(work.kueue.namespace_name))
    if work is not None and work.keda is not None:
        targets.append(keda(work.keda.namespace_name))
    if work is not None and work.spark is not None:
        targets.append(spark_operator(work.spark.namespace_name))
        targets.extend(t for ns in work.spark.job_namespaces for t in spark_drivers(ns))
    return targets


def gpu_pool_facts(pools: tuple[PoolSpec, ...]) -> list[GpuPoolFacts]:
    """What the chargeback records and capacity alerts need about each NVIDIA pool: the
    time-slicing replicas (the device plugin config's `replicas`) and whether reserved capacity
    comes first with on-demand as fallback."""
    return [
        GpuPoolFacts(
            name=p.name,
            slices_per_gpu=p.gpu_sharing.replicas if p.gpu_sharing.mode == "time-slicing" else 1,
            reserved_first="reserved" in p.capacity_types and "on-demand" in p.capacity_types,
        )
        for p in pools
        if p.is_gpu
    ]


def build(
    cfg: PlatformConfig,
    base: Foundation,
    nodes: Capacity | None = None,
    work: Workloads | None = None,
) -> Observability:
    obs = cfg.observability
    k8s = pulumi.ResourceOptions.merge(
        base.kubernetes, pulumi.ResourceOptions(depends_on=[base.core_addons, base.storage])
    )
    external = obs.external_settings
    namespace = MONITORING_NAMESPACE if obs.managed else external.namespace
    labels = {} if obs.managed else dict(external.labels)
    crds = None
    if obs.managed or external.install_crds:
        crds = PrometheusOperatorCrds(
            "prometheus-crds",
            {
                "cluster_name": cfg.cluster_name,
                "tags": base.tags,
                "namespace": namespace,
                "create_namespace": obs.managed,
            },
            opts=k8s,
        )
    after_crds = pulumi.ResourceOptions.merge(
        k8s, pulumi.ResourceOptions(depends_on=[crds] if crds else [])
    )
    stack = None
    if obs.managed:
        prom = obs.prometheus
        stack = PrometheusStack(
            "prometheus-stack",
            {
                "cluster_name": cfg.cluster_name,
                "tags": base.tags,
                "image_cache": base.image_cache,
                "retention": prom.retention,
                "storage_gib": prom.storage_gib,
                "replicas": prom.replicas,
                "alertmanager_replicas": prom.alertmanager_replicas,
            },
            opts=after_crds,
        )
    dcgm = None
    if obs.dcgm_exporter:
        dcgm = DcgmExporter(
            "dcgm-exporter",
            {"cluster_name": cfg.cluster_name, "tags": base.tags, "monitor_labels": labels},
            opts=after_crds,
        )
    alerts = obs.alerts
    monitoring = PlatformMonitoring(
        "platform-monitoring",
        {
            "namespace": namespace,
            "labels": labels,
            "thresholds": Thresholds(
                gpu_idle_utilization_percent=alerts.gpu_idle_utilization_percent,
                gpu_idle_for=alerts.gpu_idle_for,
                kueue_pending_for=alerts.kueue_pending_for,
                storage=StorageAlertThresholds(
                    unused_claim_for=alerts.unused_claim_for,
                    released_volume_for=alerts.released_volume_for,
                ),
            ),
            "targets": scrape_targets(nodes, work),
            "gpu_pools": gpu_pool_facts(nodes.pools if nodes is not None else ()),
            "dashboard_label": (DASHBOARD_LABEL, "1"),
        },
        opts=pulumi.ResourceOptions.merge(
            after_crds, pulumi.ResourceOptions(depends_on=[stack] if stack else [])
        ),
    )
    return Observability(
        crds=crds,
        stack=stack,
        dcgm=dcgm,
        monitoring=monitoring,
        namespace=namespace,
        labels=labels,
    )
