"""Substrate's monitoring content: PrometheusRules, controller monitors, Grafana dashboard.

Everything lands in one namespace (the monitoring namespace): PrometheusRules (alerts and the
chargeback recording rules of `substrate.components.observability.alert_rules`), one
ServiceMonitor/PodMonitor per
controller target (selecting the target's namespace through `namespaceSelector`, so a target
whose namespace does not exist yet just has no endpoints), and the "GPUs and queues" dashboard
as a ConfigMap labelled for Grafana's sidecar. Works with the managed stack or an external
Prometheus Operator (pass the labels it selects by).
"""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NotRequired, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.apiextensions import CustomResource

from substrate.components.core import validators
from substrate.components.core._args import check_args
from substrate.components.observability.alert_rules import Thresholds, rule_groups
from substrate.components.observability.chargeback_rules import GpuPoolFacts
from substrate.components.observability.scrape_targets import ScrapeTarget, monitor_spec

MONITORING_API = "monitoring.coreos.com/v1"
DASHBOARDS = {
    "gpus-and-queues": Path(__file__).with_name("data") / "gpus-and-queues.dashboard.json"
}
PART_OF = {"app.kubernetes.io/part-of": "substrate"}


class PlatformMonitoringArgs(TypedDict, total=False):
    """What to render and where."""

    namespace: Required[str]
    """Namespace for rules, monitors and dashboards (must exist or be created before)."""
    labels: NotRequired[Mapping[str, str]]
    """Extra labels on every object (what a bring-your-own Prometheus selects)."""
    thresholds: NotRequired[Thresholds]
    """Alert thresholds."""
    targets: NotRequired[Sequence[ScrapeTarget]]
    """Controllers to scrape (Karpenter, Kueue, KEDA, ...)."""
    gpu_pools: NotRequired[Sequence[GpuPoolFacts]]
    """GPU NodePools: time-slicing replicas (physical GPU-hours) and reserved-first pools."""
    dashboard_label: NotRequired[Sequence[str] | None]
    """[key, value]: the label Grafana's sidecar discovers dashboards by; None renders no
    dashboard."""


def _check(args: PlatformMonitoringArgs) -> None:
    if validators.dns_label(args["namespace"]):
        raise ValueError(f"PlatformMonitoringArgs.namespace: {args['namespace']!r} invalid")
    t = args.get("thresholds", Thresholds())
    durations = {
        "gpu_idle_for": t.gpu_idle_for,
        "kueue_pending_for": t.kueue_pending_for,
        "storage.unused_claim_for": t.storage.unused_claim_for,
        "storage.released_volume_for": t.storage.released_volume_for,
    }
    for field, value in durations.items():
        if validators.prometheus_duration(value):
            raise ValueError(
                f"PlatformMonitoringArgs.thresholds.{field}: {value!r} is not a Prometheus duration"
            )
    pools = [p.name for p in args.get("gpu_pools", [])]
    twice = next((p for p in pools if pools.count(p) > 1), None)
    if twice:
        raise ValueError(f"PlatformMonitoringArgs.gpu_pools: {twice!r} is listed twice")
    for pool in args.get("gpu_pools", []):
        if pool.slices_per_gpu < 1:
            raise ValueError(
                f"PlatformMonitoringArgs.gpu_pools: {pool.name!r} slices_per_gpu "
                f"{pool.slices_per_gpu} must be 1 or more"
            )
    names = [target["name"] for target in args.get("targets", [])]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise ValueError(f"PlatformMonitoringArgs.targets: {duplicate!r} is listed twice")


class PlatformMonitoring(pulumi.ComponentResource):
    """Rules, monitors and dashboards; needs the Prometheus Operator CRDs first."""

    def __init__(
        self, name: str, args: PlatformMonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__("substrate:observability:PlatformMonitoring", name, None, opts)
        _check(args)
        ns = args["namespace"]
        labels = {**PART_OF, **dict(args.get("labels", {}))}
        child = pulumi.ResourceOptions(parent=self)

        def meta(obj: str, extra: Mapping[str, str] | None = None) -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(
                name=obj, namespace=ns, labels={**labels, **dict(extra or {})}
            )

        rules = rule_groups(args.get("thresholds", Thresholds()), args.get("gpu_pools", ()))
        for obj, groups in rules.items():
            CustomResource(
                f"{name}-{obj}",
                api_version=MONITORING_API,
                kind="PrometheusRule",
                metadata=meta(obj),
                spec={"groups": groups},
                opts=child,
            )
        for target in args.get("targets", []):
            CustomResource(
                f"{name}-{target['name']}",
                api_version=MONITORING_API,
                kind=target["kind"],
                metadata=meta(target["name"]),
                spec=monitor_spec(target),
                opts=child,
            )
        dashboards = []
        label = args.get("dashboard_label", ("grafana_dashboard", "1"))
        if label is not None:
            for key, path in DASHBOARDS.items():
                obj = f"substrate-{key}-dashboard"
                k8s.core.v1.ConfigMap(
                    f"{name}-{key}-dashboard",
                    metadata=meta(obj, {label[0]: label[1]}),
                    data={f"{key}.json": path.read_text()},
                    opts=child,
                )
                dashboards.append(obj)
        self.register_outputs(
            {
                "prometheusRules": sorted(rules),
                "monitors": sorted(t["name"] for t in args.get("targets", [])),
                "dashboards": dashboards,
            }
        )
