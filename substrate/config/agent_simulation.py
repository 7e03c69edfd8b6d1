"""``substrate:agentSimulation``: a namespace where a tenant's CI runs its agents against
injected memory (a VolumeSnapshot or a fixture volume) with the agents' own model grants.

Rules spanning sections (the tenant, its agents, the namespace, the pools' limits) live in
``check_agent_simulation``; the default-flavor capacity check counts the simulation quota in
``substrate.config.quota_checks``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from substrate.components.core import validators
from substrate.config.checks import Memory, between, rule
from substrate.config.schema import ConfigError, doc

if TYPE_CHECKING:
    from substrate.config.platform import PlatformConfig

SECTION = "substrate:agentSimulation"
Label = Annotated[str, rule(validators.dns_label, 63)]


@dataclass(frozen=True)
class SimulationQuotaConfig:
    """What all runs in the namespace may hold at once. CPU and memory are the nominal quota of
    the namespace's own ClusterQueue, which is in no cohort: it never borrows from or lends to
    the tenants, so a run beyond it waits."""

    cpu: Annotated[int, between(1, 4096)] = doc("CPUs (Kueue nominal quota).", default=8)
    memory: Memory = doc("Memory (Kueue nominal quota).", default="32Gi")
    storage: Memory = doc(
        "Total size of the namespace's claims (injected memory volumes).", default="200Gi"
    )
    claims: Annotated[int, between(1, 1000)] = doc("Most claims at once.", default=10)
    jobs: Annotated[int, between(1, 1000)] = doc(
        "Most Jobs at once, finished ones included.", default=20
    )


@dataclass(frozen=True)
class AgentSimulationConfig:
    """A namespace for agent tests: each run is a Job whose pod runs the agent's image as the
    agent's simulation service account (its own Bedrock role: the agent's model grants, the
    guardrail, nothing else) on a claim restored from a VolumeSnapshot or a fixture volume."""

    tenant: Label = doc("Tenant whose agents are simulated and whose admins run the tests.")
    namespace: Label = doc("The simulation namespace.", default="agent-sim")
    quota: SimulationQuotaConfig = doc("Quota of the namespace.", factory=SimulationQuotaConfig)
    max_run_seconds: Annotated[int, between(60, 86400)] = doc(
        "Longest a run may last: every Job must set `activeDeadlineSeconds` at most this.",
        default=3600,
    )
    cleanup_after_seconds: Annotated[int, between(0, 86400)] = doc(
        "Every Job must set `ttlSecondsAfterFinished` at most this: finished runs are deleted "
        "with their pods.",
        default=600,
    )


def check_agent_simulation(cfg: PlatformConfig) -> None:
    sim = cfg.agent_simulation
    if sim is None:
        return
    tenant = cfg.tenants.get(sim.tenant)
    if tenant is None:
        raise ConfigError(
            f"{SECTION}.tenant",
            sim.tenant,
            "is not a tenant",
            ", ".join(sorted(cfg.tenants)) or "a substrate:tenants key",
        )
    if not any(a.tenant == sim.tenant for a in cfg.agents.values()):
        raise ConfigError(
            f"{SECTION}.tenant",
            sim.tenant,
            "runs no agent to simulate",
            ", ".join(sorted({a.tenant for a in cfg.agents.values()})) or "a tenant with agents",
        )
    taken = {n for t in cfg.tenants.values() for n in t.namespaces} | set(cfg.tenants)
    if sim.namespace in taken:
        raise ConfigError(
            f"{SECTION}.namespace",
            sim.namespace,
            "is a tenant or a tenant's namespace (production agents and their callers trust those)",
            "a namespace of its own",
        )
