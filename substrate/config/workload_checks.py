"""Rules spanning `substrate:tenants`, `substrate:kueue`, `substrate:keda`, the node pools, the
cluster admins. Called from PlatformConfig.check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from substrate.components.capacity.instance_families import FAMILIES
from substrate.components.core.labels import SYSTEM_NAMESPACES
from substrate.components.workloads.kueue_integrations import operators_for
from substrate.components.workloads.tenancy import cpu_ceiling, memory_ceiling, overcommitted
from substrate.config.node_pools import NodePoolConfig
from substrate.config.quota_checks import check_quota
from substrate.config.schema import ConfigError, key_path

if TYPE_CHECKING:
    from substrate.config.platform import PlatformConfig

TENANTS = "substrate:tenants"
ADDON_NAMESPACES = (
    "karpenter",
    "nvidia-device-plugin",
    "dcgm-exporter",
    "monitoring",
    "spire-system",
    "spire-server",
    "aws-load-balancer-controller",
    "aws-efa-k8s-device-plugin",
)
"""Namespaces the platform's other add-ons create (tests/test_workloads_layer.py checks this
list against the planned stacks)."""


class GpuQuotaOvercommitError(ConfigError):
    """Tenants' nominal GPU quota on a pool exceeds what its NodePool may launch."""


def platform_namespaces(cfg: PlatformConfig) -> dict[str, str]:
    """Namespace -> what owns it, for every namespace a tenant may not use."""
    owners = {ns: "Kubernetes" for ns in SYSTEM_NAMESPACES}
    owners.update({ns: "a platform add-on" for ns in ADDON_NAMESPACES})
    owners[cfg.admission.namespace] = "Kyverno"
    if not cfg.observability.managed:
        owners[cfg.observability.external_settings.namespace] = "the monitoring stack"
    if cfg.kueue is not None:
        owners[cfg.kueue.namespace] = "Kueue"
        for op in operators_for(cfg.kueue.integrations):
            owners[op.namespace] = op.title
    if cfg.keda is not None:
        owners[cfg.keda.namespace] = "KEDA"
    if cfg.workloads.spark is not None:
        owners[cfg.workloads.spark.namespace] = "the Spark Operator"
    return owners


def check_workloads(cfg: PlatformConfig) -> None:
    tenants = cfg.tenants
    if not tenants:
        return
    if cfg.kueue is None:
        raise ConfigError(
            TENANTS,
            sorted(tenants),
            "declares tenants but substrate:kueue is not set",
            "a substrate:kueue section (tenants get their queues from Kueue), or no tenants",
        )
    reserved = platform_namespaces(cfg)
    owner: dict[str, str] = {}
    cluster_admins = set(cfg.cluster.admins)
    for name, tenant in tenants.items():
        path = key_path(TENANTS, name)
        for i, ns in enumerate(tenant.namespaces):
            where = f"{path}.namespaces[{i}]"
            if ns in reserved:
                raise ConfigError(
                    where,
                    ns,
                    f"is a namespace of {reserved[ns]}",
                    "a namespace of the tenant's own",
                )
            if ns in owner:
                raise ConfigError(
                    where,
                    ns,
                    f"is also a namespace of tenant {owner[ns]!r}",
                    "each namespace in one tenant",
                )
            owner[ns] = name
        for i, arn in enumerate(tenant.admins):
            if arn in cluster_admins:
                raise ConfigError(
                    f"{path}.admins[{i}]",
                    arn,
                    "is a cluster admin, which already has its EKS access entry (one per "
                    "principal)",
                    "principals not listed in substrate:cluster.admins",
                )
        if tenant.tier not in cfg.kueue.priority_classes:
            raise ConfigError(
                f"{path}.tier",
                tenant.tier,
                "is not a priority class in substrate:kueue.priorityClasses",
                ", ".join(sorted(cfg.kueue.priority_classes)),
            )
        _check_pools(cfg, path, tenant.gpus)
    _check_usable(cfg)
    _check_overcommit(cfg)
    check_quota(cfg)


def _check_pools(cfg: PlatformConfig, path: str, gpus: dict) -> None:
    for pool in gpus:
        where = f"{path}.gpus.{pool}"
        spec = cfg.node_pools.get(pool)
        if spec is None:
            raise ConfigError(
                where,
                pool,
                "is not a pool in substrate:nodePools",
                ", ".join(sorted(cfg.node_pools)) or "no pools are configured",
            )
        if FAMILIES[spec.instance_families[0]].accelerator != "nvidia":
            raise ConfigError(
                where,
                pool,
                "is not an NVIDIA GPU pool, so its nodes advertise no nvidia.com/gpu",
                "pools of NVIDIA GPU families",
            )


def _check_usable(cfg: PlatformConfig) -> None:
    """GPU pods request CPU and memory too: GPU quota without any reachable CPU or memory
    quota could never be used."""
    specs = [t.spec(n) for n, t in cfg.tenants.items()]
    for spec in specs:
        if not spec.gpus:
            continue
        cpu, memory = cpu_ceiling(spec, specs), memory_ceiling(spec, specs)
        if cpu == 0 or memory == 0:
            quota = cfg.tenants[spec.name].quota
            raise ConfigError(
                f"{key_path(TENANTS, spec.name)}.quota",
                {"cpu": quota.cpu, "memory": quota.memory},
                "leaves the tenant no CPU or memory (nominal or borrowable), so its GPU quota "
                "could never be used",
                "CPU and memory quota alongside GPU quota",
            )


def _per_gpu(pool: NodePoolConfig) -> int:
    """Units of the pool's GPU resource per physical GPU (slices on a time-sliced pool)."""
    sharing = pool.gpu_sharing
    return sharing.replicas if sharing.mode == "time-slicing" else 1


def _check_overcommit(cfg: PlatformConfig) -> None:
    specs = [t.spec(n) for n, t in cfg.tenants.items()]
    limits = {
        n: p.limits.gpu * _per_gpu(p) for n, p in cfg.node_pools.items() if p.limits.gpu is not None
    }
    found = overcommitted(specs, limits)
    if found:
        over = found[0]
        per = _per_gpu(cfg.node_pools[over.pool])
        if per > 1:
            raise GpuQuotaOvercommitError(
                f"substrate:nodePools.{over.pool}.limits.gpu",
                over.limit // per,
                f"makes {over.limit} nvidia.com/gpu.shared ({per} slices per GPU), below the "
                f"{over.nominal} slices the tenants hold as nominal quota on the pool "
                f"({', '.join(f'{t}: {n}' for t, n in over.by_tenant)})",
                f"a limit of at least {-(-over.nominal // per)} GPUs, or less nominal quota on "
                f"{over.pool!r} in substrate:tenants",
            )
        raise GpuQuotaOvercommitError(
            f"substrate:nodePools.{over.pool}.limits.gpu",
            over.limit,
            f"is below the {over.nominal} nvidia.com/gpu the tenants hold as nominal quota on "
            f"the pool ({', '.join(f'{t}: {n}' for t, n in over.by_tenant)})",
            f"a limit of at least {over.nominal}, or less nominal GPU quota on "
            f"{over.pool!r} in substrate:tenants",
        )
