"""Tenant quota against what the pools can run and what Kueue can admit: CPU and memory on
Kueue's default flavor within the pools pods without tolerations use, and each tenant's
declared largest gang within one flavor's ceiling. Called from workload_checks.check_workloads
(GPU quota within each GPU pool's limit is checked there)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from substrate.components.core.labels import GPU_RESOURCE
from substrate.components.workloads.tenancy import (
    TenantSpec,
    ceiling,
    cpu_ceiling,
    format_bytes,
    memory_bytes,
    memory_ceiling,
)
from substrate.config.schema import ConfigError, key_path

if TYPE_CHECKING:
    from substrate.config.platform import PlatformConfig
    from substrate.config.tenants import GangConfig

TENANTS = "substrate:tenants"
POOLS = "substrate:nodePools"


class DefaultFlavorOvercommitError(ConfigError):
    """Tenants' nominal CPU or memory on the default flavor exceeds what the pools pods without
    tolerations can use may launch."""


class GangNeverAdmitsError(ConfigError):
    """A tenant's declared largest gang is more than Kueue could ever admit for it."""


def check_quota(cfg: PlatformConfig) -> None:
    specs = [t.spec(n) for n, t in cfg.tenants.items()]
    _check_default_flavor(cfg, specs)
    for spec in specs:
        gang = cfg.tenants[spec.name].largest_gang
        if gang is not None:
            _check_gang(f"{key_path(TENANTS, spec.name)}.largestGang", gang, spec, specs)


def _check_default_flavor(cfg: PlatformConfig, specs: list[TenantSpec]) -> None:
    """Kueue counts every pod's CPU and memory on the default flavor, which has no node labels
    or tolerations: a CPU-only pod it admits runs on a pool without taints. Nominal quota is
    what the cohort can hand out in total (borrowing only moves it between tenants), so it
    must fit those pools' limits or Kueue admits pods Karpenter may never launch nodes for."""
    untainted = {n: p for n, p in sorted(cfg.node_pools.items()) if not p.taints}
    for resource, unit in (("cpu", "CPUs"), ("memory", "of memory")):
        held = [(s.name, getattr(s, resource).nominal) for s in specs]
        sim = cfg.agent_simulation
        if sim is not None:
            # The simulation namespace's ClusterQueue holds its own nominal quota (no cohort).
            own = sim.quota.cpu if resource == "cpu" else memory_bytes(sim.quota.memory)
            held.append((sim.namespace, own))
        total = sum(n for _, n in held)
        raw = {
            n: p.limits.cpu if resource == "cpu" else p.limits.memory for n, p in untainted.items()
        }
        capacity = sum(int(v) if resource == "cpu" else memory_bytes(str(v)) for v in raw.values())
        if total <= capacity:
            continue
        show = str if resource == "cpu" else format_bytes
        shares = ", ".join(f"{t}: {show(n)}" for t, n in held if n)
        holders = "the tenants" if sim is None else "the tenants and the agent simulation queue"
        quota = (
            f"the {show(total)} {unit} {holders} hold as nominal quota on Kueue's default "
            f"flavor ({shares})"
        )
        why = "and pods admitted there without tolerations run only on untainted pools"
        less = f"less nominal {resource} quota in {TENANTS}"
        if len(untainted) == 1:
            ((pool, limit),) = raw.items()
            raise DefaultFlavorOvercommitError(
                f"{POOLS}.{pool}.limits.{resource}",
                limit,
                f"is below {quota}, {why}",
                f"a limit of at least {show(total)}, or {less}",
            )
        if not untainted:
            raise DefaultFlavorOvercommitError(
                POOLS,
                sorted(cfg.node_pools),
                f"has no pool without taints, where the pods of {quota} would run",
                f"a pool without taints, or {less}",
            )
        raise DefaultFlavorOvercommitError(
            POOLS,
            raw,
            f"has {show(capacity)} {unit} in pools without taints, below {quota}, {why}",
            f"untainted pools with limits adding up to at least {show(total)}, or {less}",
        )


def _check_gang(path: str, gang: GangConfig, spec: TenantSpec, specs: list[TenantSpec]) -> None:
    """Kueue admits a pod set whole and puts each of its resources on one flavor: the gang
    must fit the tenant's ceiling (nominal plus what it may borrow) on a single flavor."""
    cpu, memory, gpus = gang.totals()
    for resource, need, most, show in (
        ("CPUs", cpu, Decimal(cpu_ceiling(spec, specs)), lambda v: f"{Decimal(v).normalize():f}"),
        ("of memory", Decimal(memory), Decimal(memory_ceiling(spec, specs)), format_bytes_of),
    ):
        if need > most:
            raise GangNeverAdmitsError(
                path,
                gang_value(gang),
                f"needs {show(need)} {resource} in one pod set, more than the {show(most)} the "
                "tenant can hold on Kueue's default flavor (nominal and borrowable)",
                f"a gang of at most {show(most)} {resource}, or more quota for the tenant",
            )
    if not gpus:
        return
    others = [s for s in specs if s.name != spec.name]
    per_pool = {
        pool: ceiling(share, [s for o in others if (s := o.gpu_share(pool)) is not None])
        for pool, share in ((g.pool, g.share) for g in spec.gpus)
    }
    best = max(per_pool.values(), default=0)
    if gpus > best:
        pools = ", ".join(f"{p}: {n}" for p, n in per_pool.items())
        raise GangNeverAdmitsError(
            path,
            gang_value(gang),
            f"needs {gpus} {GPU_RESOURCE} in one pod set, more than the {best} the tenant can "
            f"hold on any one GPU pool ({pools}); Kueue puts all of a pod set's GPUs on one "
            "flavor",
            f"a gang of at most {best} GPUs, or more quota on one pool",
        )


def format_bytes_of(value: Decimal) -> str:
    return format_bytes(int(value))


def gang_value(gang: GangConfig) -> dict[str, object]:
    return {"pods": gang.pods, "cpu": gang.cpu, "memory": gang.memory, "gpus": gang.gpus}
