"""The tenant's ResourceQuota split over its namespaces against what the stack documents: the
declared largest gang fits one namespace's share, and the agents of a namespace (their CPU,
memory and memory claims at their most replicas) fit its share. Called from
PlatformConfig.check after the tenants and agents have been checked."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from substrate.components.cluster.ebs import AGENT_MEMORY_CLASSES
from substrate.components.core.labels import GPU_RESOURCE, GPU_SHARED_RESOURCE
from substrate.components.workloads.tenancy import format_bytes, memory_bytes, quantity
from substrate.components.workloads.tenant_quota import STORAGE_SUFFIX, storage_keys
from substrate.config.agent_checks import agent_namespace
from substrate.config.schema import ConfigError, key_path
from substrate.config.tenants import GangConfig

if TYPE_CHECKING:
    from substrate.config.platform import PlatformConfig

TENANTS = "substrate:tenants"
AGENTS = "substrate:agents"


class NamespaceQuotaTooSmallError(ConfigError):
    """What the stack documents for a namespace does not fit its share of the tenant's quota."""


def gpu_units(cfg: PlatformConfig) -> dict[str, str]:
    """GPU pool -> the unit its nodes advertise (slices on a time-sliced pool)."""
    return {
        name: GPU_SHARED_RESOURCE if pool.gpu_sharing.mode == "time-slicing" else GPU_RESOURCE
        for name, pool in cfg.node_pools.items()
    }


def quotas(cfg: PlatformConfig) -> dict[str, dict[str, dict[str, str]]]:
    """Tenant -> namespace -> ResourceQuota `hard`, as the workloads layer writes them."""
    specs = {n: t.spec(n) for n, t in cfg.tenants.items()}
    everyone = list(specs.values())
    units = gpu_units(cfg)
    return {n: cfg.tenants[n].quota_by_namespace(s, everyone, units) for n, s in specs.items()}


def check_namespace_quotas(cfg: PlatformConfig) -> None:
    by_tenant = quotas(cfg)
    for name, tenant in sorted(cfg.tenants.items()):
        if tenant.largest_gang is not None:
            _check_gang(name, tenant.largest_gang, by_tenant[name])
    _check_agents(cfg, by_tenant)


def _check_gang(name: str, gang: GangConfig, hards: dict[str, dict[str, str]]) -> None:
    cpu, memory, gpus = gang.totals()
    for hard in hards.values():
        if (
            quantity(hard["requests.cpu"]) >= cpu
            and quantity(hard["requests.memory"]) >= memory
            and _gpus(hard) >= gpus
        ):
            return
    shares = "; ".join(
        f"{ns}: {hard['requests.cpu']} CPU, {hard['requests.memory']}, {_gpus(hard)} GPUs"
        for ns, hard in hards.items()
    )
    raise NamespaceQuotaTooSmallError(
        f"{key_path(TENANTS, name)}.largestGang",
        {"pods": gang.pods, "cpu": gang.cpu, "memory": gang.memory, "gpus": gang.gpus},
        f"needs {cpu.normalize():f} CPU, {format_bytes(memory)} and {gpus} GPUs in one "
        f"namespace, more than any namespace's share of the tenant's ResourceQuota ({shares})",
        "a smaller gang, or namespaceWeights that give one namespace room for it",
    )


def _check_agents(cfg: PlatformConfig, by_tenant: dict[str, dict[str, dict[str, str]]]) -> None:
    """Agents' memory claims count against the tenant quota of their namespace, class by
    class, as their CPU and memory do: at their most replicas they must fit its share."""
    demand: dict[tuple[str, str], dict[str, Decimal]] = {}
    names: dict[tuple[str, str], dict[str, list[str]]] = {}
    for name, agent in sorted(cfg.agents.items()):
        where = (agent.tenant, agent_namespace(cfg, agent))
        need = demand.setdefault(where, {})
        replicas = agent.max_replicas
        requests, claims = storage_keys(AGENT_MEMORY_CLASSES[agent.memory_volume.volume_type])
        size = memory_bytes(agent.memory_volume.size) * replicas
        for key, value in (
            ("requests.cpu", quantity(agent.cpu) * replicas),
            ("requests.memory", Decimal(memory_bytes(agent.memory) * replicas)),
            (requests, Decimal(size)),
            (claims, Decimal(replicas)),
            ("requests.storage", Decimal(size)),
        ):
            need[key] = need.get(key, Decimal(0)) + value
            names.setdefault(where, {}).setdefault(key, []).append(name)
    for (tenant, namespace), need in sorted(demand.items()):
        hard = by_tenant[tenant][namespace]
        for key, value in need.items():
            held = quantity(hard.get(key, "0"))
            if value > held:
                raise NamespaceQuotaTooSmallError(
                    _config_path(tenant, key),
                    hard.get(key, "0"),
                    f"gives namespace {namespace!r} {hard.get(key, '0')} of {key}, less than "
                    f"its agents ({', '.join(names[(tenant, namespace)][key])}) need at their most "
                    f"replicas ({_show(key, value)})",
                    f"at least {_show(key, value)} for {namespace!r}",
                )


def _config_path(tenant: str, key: str) -> str:
    """The stack-file key a ResourceQuota key comes from."""
    path = key_path(TENANTS, tenant)
    if STORAGE_SUFFIX in key:
        storage_class, resource = key.split(STORAGE_SUFFIX + "/")
        field = "claims" if resource == "persistentvolumeclaims" else "requests"
        return f"{key_path(path + '.storage', storage_class)}.{field}"
    if "storage" in key:
        return f"{path}.storage"
    return f"{path}.quota.{key.removeprefix('requests.')}"


def _gpus(hard: dict[str, str]) -> int:
    """The namespace's GPUs in the unit with the most (a gang's GPUs are in its pool's unit:
    whole GPUs, or slices on a time-sliced pool)."""
    units = (GPU_RESOURCE, GPU_SHARED_RESOURCE)
    return max(int(hard.get(f"requests.{unit}", "0")) for unit in units)


def _show(key: str, value: Decimal) -> str:
    if key.endswith(("memory", "storage")):
        return format_bytes(int(value))
    return f"{value.normalize():f}"
