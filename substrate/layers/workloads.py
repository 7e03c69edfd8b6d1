"""Workloads layer: tenants, Kueue (queues over the Karpenter GPU pools), the workload
operators its integrations need, and KEDA. The only code that maps `substrate:tenants`,
`substrate:kueue`, `substrate:keda` and `ScalingConfig` to component args.

Later layers read `Workloads.tenant(name)` (a substrate.components.workloads.tenancy.TenantSpec:
namespaces, GPU
rights, tier), `Workloads.identities` (tenant SPIFFE registrations) and make a Deployment or
StatefulSet elastic with `Workloads.elastic(...)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi

from substrate.components.identity.workload_identity import TenantIdentity
from substrate.components.observability.prometheus_stack import MONITORING_NAMESPACE, RELEASE_NAME
from substrate.components.workloads.elastic_workload import (
    ElasticWorkload,
    ElasticWorkloadArgs,
    KedaPermissions,
    ScaleTarget,
    Trigger,
    keda_permissions,
)
from substrate.components.workloads.keda import Keda
from substrate.components.workloads.kueue import FairSharingStrategy, Kueue, WaitForPodsReady
from substrate.components.workloads.kueue_integrations import operators_for
from substrate.components.workloads.kueue_platform import KueuePlatform
from substrate.components.workloads.spark_operator import S3Grant, SparkOperator, SparkTenant
from substrate.components.workloads.tenancy import TenantSpec, resource_quota_hard
from substrate.components.workloads.tenant import Tenant
from substrate.components.workloads.tenant_access import TenantAccess
from substrate.components.workloads.workload_operators import WorkloadOperator
from substrate.config import PlatformConfig
from substrate.config.scaling import ScalingConfig, TriggerConfig
from substrate.layers.capacity import Capacity
from substrate.layers.foundation import Foundation
from substrate.layers.tenant_network import peers

MANAGED_PROMETHEUS_URL = f"http://{RELEASE_NAME}-prometheus.{MONITORING_NAMESPACE}.svc:9090"
"""kube-prometheus-stack's Prometheus Service (`<fullname>-prometheus`, port 9090)."""


@dataclass(frozen=True)
class Workloads:
    kueue: Kueue | None
    kueue_platform: KueuePlatform | None
    operators: tuple[WorkloadOperator, ...]
    keda: Keda | None
    spark: SparkOperator | None
    access: TenantAccess | None
    tenants: dict[str, Tenant]
    specs: dict[str, TenantSpec]
    region: str
    prometheus_url: str | None
    keda_grants: KedaPermissions = field(default_factory=KedaPermissions)
    kubernetes: pulumi.ResourceOptions = field(default_factory=pulumi.ResourceOptions)

    def tenant(self, name: str) -> TenantSpec:
        if name not in self.specs:
            raise KeyError(f"no tenant {name!r}; tenants: {sorted(self.specs)}")
        return self.specs[name]

    @property
    def namespaces(self) -> tuple[str, ...]:
        """Namespaces the platform's controllers here run in (excluded from admission)."""
        addons = (self.kueue, *self.operators, self.keda, self.spark)
        return tuple(ns for a in addons if a is not None for ns in a.created_namespaces)

    @property
    def tenant_namespaces(self) -> tuple[str, ...]:
        return tuple(ns for spec in self.specs.values() for ns in spec.namespaces)

    @property
    def identities(self) -> tuple[TenantIdentity, ...]:
        """One SPIFFE registration per tenant (identity layer)."""
        return tuple(
            {"name": s.name, "namespaces": list(s.namespaces)} for s in self.specs.values()
        )

    def elastic(
        self, name: str, args: ElasticWorkloadArgs, opts: pulumi.ResourceOptions | None = None
    ) -> ElasticWorkload:
        """Make a workload elastic. KEDA must have been built with these args (`build`'s
        `elastic`), so its role grants exactly what the triggers read."""
        return ElasticWorkload(
            name,
            args,
            opts=pulumi.ResourceOptions.merge(
                pulumi.ResourceOptions.merge(
                    self.kubernetes,
                    pulumi.ResourceOptions(depends_on=self.elastic_dependencies(name, args)),
                ),
                opts,
            ),
        )

    def elastic_dependencies(self, name: str, args: ElasticWorkloadArgs) -> list[pulumi.Resource]:
        """What an ElasticWorkload built elsewhere (e.g. inside an agent) must wait for: the
        KEDA release that installs the CRDs. Refuses args KEDA's role was not built for."""
        if self.keda is None:
            raise ValueError(f"elastic workload {name!r}: substrate:keda is not configured")
        needed = keda_permissions([args])
        granted = self.keda_grants
        missing = (
            set(needed.sqs_queue_arns) - set(granted.sqs_queue_arns)
            | set(needed.assume_role_arns) - set(granted.assume_role_arns)
            | (
                {"cloudwatch"}
                if needed.cloudwatch_metrics and not granted.cloudwatch_metrics
                else set()
            )
        )
        if missing:
            raise ValueError(
                f"elastic workload {name!r} needs KEDA permissions it was not built with: "
                f"{sorted(missing)}; pass its args to workloads.build(elastic=...)"
            )
        return [self.keda.release]


def _trigger(trigger: TriggerConfig, prometheus_url: str | None) -> Trigger:
    if trigger.sqs is not None:
        s = trigger.sqs
        return {
            "type": "sqs",
            "queue_url": s.queue_url,
            "messages_per_replica": s.messages_per_replica,
            "activation_messages": s.activation_messages,
        }
    if trigger.prometheus is not None:
        p = trigger.prometheus
        url = p.server_address or prometheus_url
        if url is None:
            raise ValueError(
                "prometheus trigger: no serverAddress and no platform Prometheus (set "
                "substrate:keda.prometheusUrl with an external monitoring stack)"
            )
        return {
            "type": "prometheus",
            "server_address": url,
            "query": p.query,
            "threshold": p.threshold,
            "activation_threshold": p.activation_threshold,
        }
    if trigger.cron is not None:
        c = trigger.cron
        return {
            "type": "cron",
            "start": c.start,
            "end": c.end,
            "desired_replicas": c.desired_replicas,
            "timezone": c.timezone,
        }
    assert trigger.cloudwatch is not None
    w = trigger.cloudwatch
    return {
        "type": "cloudwatch",
        "namespace": w.namespace,
        "metric_name": w.metric_name,
        "target_value": w.target_value,
        "dimensions": dict(w.dimensions),
        "statistic": w.statistic,
        "activation_target_value": w.activation_target_value,
    }


def elastic_args(
    scaling: ScalingConfig, target: ScaleTarget, region: str, prometheus_url: str | None
) -> ElasticWorkloadArgs:
    """Map a `ScalingConfig` (from any config section) onto the ElasticWorkload component."""
    args: ElasticWorkloadArgs = {
        "target": target,
        "min_replicas": scaling.min_replicas,
        "max_replicas": scaling.max_replicas,
        "scale_to_zero": scaling.scale_to_zero,
        "cooldown_seconds": scaling.cooldown_seconds,
        "polling_interval_seconds": scaling.polling_interval_seconds,
        "triggers": [_trigger(t, prometheus_url) for t in scaling.triggers],
        "region": region,
    }
    if scaling.role_arn is not None:
        args["role_arn"] = scaling.role_arn
    return args


def prometheus_url(cfg: PlatformConfig) -> str | None:
    if cfg.keda is not None and cfg.keda.prometheus_url is not None:
        return cfg.keda.prometheus_url
    return MANAGED_PROMETHEUS_URL if cfg.observability.managed else None


def _admins(specs: Sequence[TenantSpec]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for spec in specs:
        for arn in spec.admins:
            out.setdefault(arn, []).append(spec.admin_group)
    return out


def build(
    cfg: PlatformConfig,
    base: Foundation,
    capacity: Capacity,
    elastic: Sequence[ElasticWorkloadArgs] = (),
) -> Workloads:
    """``elastic``: every ElasticWorkload later layers will create; KEDA's role grants what
    their AWS triggers read and nothing else."""
    k8s = pulumi.ResourceOptions.merge(
        base.kubernetes, pulumi.ResourceOptions(depends_on=[base.core_addons])
    )
    cluster_name, tags = base.cluster.cluster_name, base.tags
    kueue = platform = None
    operators: list[WorkloadOperator] = []
    if cfg.kueue is not None:
        kc = cfg.kueue
        for op in operators_for(kc.integrations):
            operators.append(
                WorkloadOperator(
                    op.chart,
                    {
                        "cluster_name": cluster_name,
                        "tags": tags,
                        "image_cache": base.image_cache,
                        "operator": op,
                        "replicas": kc.operator_replicas,
                    },
                    opts=k8s,
                )
            )
        ready = kc.wait_for_pods_ready
        wait: WaitForPodsReady = {
            "timeout": ready.timeout,
            "block_admission": ready.block_admission,
            "backoff_limit_count": ready.backoff_limit_count,
            "backoff_base_seconds": ready.backoff_base_seconds,
            "backoff_max_seconds": ready.backoff_max_seconds,
        }
        if ready.recovery_timeout is not None:
            wait["recovery_timeout"] = ready.recovery_timeout
        kueue = Kueue(
            "kueue",
            {
                "cluster_name": cluster_name,
                "tags": tags,
                "image_cache": base.image_cache,
                "namespace": kc.namespace,
                "replicas": kc.replicas,
                "integrations": list(cfg.integrations),
                "wait_for_pods_ready": wait,
                "fair_sharing": kc.fair_sharing,
                "preemption_strategies": [FairSharingStrategy(s) for s in kc.preemption_strategies],
            },
            opts=pulumi.ResourceOptions.merge(
                k8s, pulumi.ResourceOptions(depends_on=[o.release for o in operators])
            ),
        )
        platform = KueuePlatform(
            "kueue-platform",
            {"gpu_pools": list(capacity.gpu_pools), "priority_classes": dict(kc.priority_classes)},
            opts=pulumi.ResourceOptions.merge(
                base.kubernetes, pulumi.ResourceOptions(depends_on=[kueue.release])
            ),
        )
    grants = keda_permissions(elastic)
    keda = None
    if cfg.keda is not None:
        kd = cfg.keda
        keda = Keda(
            "keda",
            {
                "cluster_name": cluster_name,
                "tags": tags,
                "image_cache": base.image_cache,
                "namespace": kd.namespace,
                "operator_replicas": kd.operator_replicas,
                "metrics_server_replicas": kd.metrics_server_replicas,
                "webhook_replicas": kd.webhook_replicas,
                "sqs_queue_arns": list(grants.sqs_queue_arns),
                "cloudwatch_metrics": grants.cloudwatch_metrics,
                "assume_role_arns": list(grants.assume_role_arns),
            },
            opts=k8s,
        )
    specs = {name: t.spec(name) for name, t in cfg.tenants.items()}
    tenants: dict[str, Tenant] = {}
    access = None
    if specs:
        assert kueue is not None and platform is not None  # config requires kueue for tenants
        everyone = list(specs.values())
        admins = _admins(everyone)
        if admins:
            access = TenantAccess(
                "tenant-access",
                {
                    "cluster_name": cluster_name,
                    "tags": tags,
                    "admins": admins,
                    "integrations": list(cfg.integrations),
                },
                opts=base.kubernetes,
            )
        gpu_pools = [p.name for p in capacity.gpu_pools]
        network = peers(cfg, everyone, cluster_name)
        units = {p.name: p.gpu_resource for p in capacity.gpu_pools}
        for name, spec in specs.items():
            tenants[name] = Tenant(
                f"tenant-{name}",
                {
                    "tenant": spec,
                    "quota_hard": resource_quota_hard(spec, everyone, units),
                    "gpu_pools": gpu_pools,
                    "gpu_resources": units,
                    "efa_nodes": capacity.efa_nodes,
                    "cohort": cfg.kueue.cohort if cfg.kueue else "substrate",
                    "network_peers": network,
                },
                opts=pulumi.ResourceOptions.merge(
                    base.kubernetes, pulumi.ResourceOptions(depends_on=[kueue.release, platform])
                ),
            )
        pulumi.export("tenants", {n: list(s.namespaces) for n, s in specs.items()})
    spark = _spark(cfg, specs, base, k8s, kueue)
    return Workloads(
        kueue=kueue,
        kueue_platform=platform,
        operators=tuple(operators),
        keda=keda,
        spark=spark,
        access=access,
        tenants=tenants,
        specs=specs,
        region=cfg.region,
        prometheus_url=prometheus_url(cfg),
        keda_grants=grants,
        kubernetes=base.kubernetes,
    )


def _spark(
    cfg: PlatformConfig,
    specs: dict[str, TenantSpec],
    base: Foundation,
    k8s: pulumi.ResourceOptions,
    kueue: Kueue | None,
) -> SparkOperator | None:
    """The Spark Operator for `substrate:workloads.spark` (installed after Kueue, whose
    SparkApplication webhook must see every SparkApplication)."""
    sc = cfg.workloads.spark
    if sc is None:
        return None
    tenants = [
        SparkTenant(
            name,
            tuple(specs[name].namespaces),
            tuple(S3Grant(g.bucket, g.prefix, g.access) for g in t.s3),
        )
        for name, t in sc.tenants.items()
    ]
    after = [kueue.release] if kueue is not None else []
    return SparkOperator(
        "spark-operator",
        {
            "cluster_name": base.cluster.cluster_name,
            "tags": base.tags,
            "image_cache": base.image_cache,
            "tenants": tenants,
            "namespace": sc.namespace,
            "controller_replicas": sc.controller_replicas,
            "webhook_replicas": sc.webhook_replicas,
        },
        opts=pulumi.ResourceOptions.merge(k8s, pulumi.ResourceOptions(depends_on=after)),
    )
