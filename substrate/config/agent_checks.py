"""Rules spanning `substrate:agents` and the rest of the stack: the tenant and its namespace,
model grants, registries, the memory-volume cap, KEDA, R33, Kueue, quota and production. Called from
PlatformConfig.check after the tenants have been checked."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from substrate.components.core import validators
from substrate.components.workloads.kueue_integrations import effective
from substrate.components.workloads.tenancy import memory_bytes, quantity
from substrate.config.agents import AgentConfig
from substrate.config.schema import ConfigError, key_path
from substrate.plan.engine_rules import longest_logical_name

if TYPE_CHECKING:
    from substrate.config.platform import PlatformConfig

AGENTS = "substrate:agents"
PRODUCTION_MIN_REPLICAS = 2
AGENT_ROLE = "agent-{agent}-bedrock-identity-role"
"""Logical name of an agent's Bedrock role (runtime `agent-<name>`, its `-bedrock` role, the
Pod Identity role's `-identity` ... `-role`). pulumi-aws auto-names it: the name plus `-` and 7
random characters must fit IAM's 64 (tests/plan/test_engine_rules.py checks the plans use it)."""


class UnknownTenantError(ConfigError):
    """An agent names a tenant that `substrate:tenants` does not declare."""


class MemoryVolumeTooLargeError(ConfigError):
    """An agent's memory volume is above `substrate:storage.maxAgentMemoryVolume`."""


def agent_namespace(cfg: PlatformConfig, agent: AgentConfig) -> str:
    """The namespace an agent runs in (its tenant's first unless it names one)."""
    return agent.namespace or cfg.tenants[agent.tenant].namespaces[0]


def check_agents(cfg: PlatformConfig) -> None:
    for name, agent in sorted(cfg.agents.items()):
        path = key_path(AGENTS, name)
        _check_role_name(path, name, agent)
        _check_placement(cfg, path, agent)
        _check_pinned(cfg, path, agent)
        _check_access(cfg, path, name, agent)
        _check_scaling(cfg, path, agent)
        _check_task(cfg, path, name, agent)
        if cfg.environment.production and agent.mode == "service":
            _check_production(path, agent)
    for name, agent in sorted(cfg.agents.items()):
        _check_callers(cfg, key_path(AGENTS, name), name, agent)
    _check_queued(cfg)
    _check_quota(cfg)


def _check_callers(cfg: PlatformConfig, path: str, name: str, agent: AgentConfig) -> None:
    for i, caller in enumerate(agent.callers.agents):
        other = cfg.agents.get(caller)
        if other is None or caller == name or other.tenant != agent.tenant:
            same = sorted(
                n
                for n, a in cfg.agents.items()
                if a.tenant == agent.tenant and n != name and a.mode == "service"
            )
            raise ConfigError(
                f"{path}.callers.agents[{i}]",
                caller,
                f"is not another agent of tenant {agent.tenant!r}",
                ", ".join(same) or f"no other agent of tenant {agent.tenant}",
            )


def _check_pinned(cfg: PlatformConfig, path: str, agent: AgentConfig) -> None:
    """Outside development, an agent runs exactly the image that was tested: a digest, never
    only a tag (tags can be moved to other images); so does its snapshot CronJob."""
    _check_digest(cfg, f"{path}.image", agent.image)
    if agent.snapshots is None:
        return
    image, registries = agent.snapshots.image, cfg.admission.allowed_registries
    if not validators.image_allowed(image, registries):
        raise ConfigError(
            f"{path}.snapshots.image",
            image,
            "is not from a registry admission allows (R28), so its pods would be refused",
            "images under " + ", ".join(registries),
        )
    _check_digest(cfg, f"{path}.snapshots.image", image)


def _check_digest(cfg: PlatformConfig, key: str, image: str) -> None:
    if cfg.environment.tier != "development" and "@sha256:" not in image:
        raise ConfigError(
            key,
            image,
            f"has no digest in a {cfg.environment.tier} environment, so its tag can be moved "
            "to another image under the running agent",
            "<registry>/<repository>:<tag>@sha256:<digest> (tags alone only in development)",
        )


def _check_role_name(path: str, name: str, agent: AgentConfig) -> None:
    """An agent with models gets an auto-named IAM role; refuse a name that cannot fit."""
    longest = longest_logical_name("aws:iam/role:Role")
    role = AGENT_ROLE.format(agent=name)
    if agent.models and longest is not None and len(role) > longest:
        raise ConfigError(
            path,
            name,
            f"is {len(name)} characters: its Bedrock role {role!r} plus the 8-character suffix "
            "pulumi-aws adds is longer than the 64 characters IAM allows",
            f"agent names of at most {longest - len(AGENT_ROLE.format(agent=''))} characters "
            "for agents that call models",
        )


def _check_placement(cfg: PlatformConfig, path: str, agent: AgentConfig) -> None:
    tenant = cfg.tenants.get(agent.tenant)
    if tenant is None:
        raise UnknownTenantError(
            f"{path}.tenant",
            agent.tenant,
            "is not a tenant in substrate:tenants",
            ", ".join(sorted(cfg.tenants)) or "no tenants are configured",
        )
    if agent.namespace is not None and agent.namespace not in tenant.namespaces:
        raise ConfigError(
            f"{path}.namespace",
            agent.namespace,
            f"is not a namespace of tenant {agent.tenant!r}",
            ", ".join(tenant.namespaces),
        )
    registries = cfg.admission.allowed_registries
    if not validators.image_allowed(agent.image, registries):
        raise ConfigError(
            f"{path}.image",
            agent.image,
            "is not from a registry admission allows (R28), so its pods would be refused",
            "images under " + ", ".join(registries),
        )
    cap = cfg.storage.max_agent_memory_volume
    size = agent.memory_volume.size
    if memory_bytes(size) > memory_bytes(cap):
        raise MemoryVolumeTooLargeError(
            f"{path}.memoryVolume.size",
            size,
            f"is above the memory-volume cap of {cap}",
            f"at most {cap} (substrate:storage.maxAgentMemoryVolume)",
        )
    if not agent.protect_long_tasks and "agent" in cfg.admission.long_running_classes:
        raise ConfigError(
            f"{path}.protectLongTasks",
            False,
            "drops karpenter.sh/do-not-disrupt, which admission requires of agent pods (R33)",
            'true, or remove "agent" from substrate:admission.longRunningClasses',
        )


def _check_access(cfg: PlatformConfig, path: str, name: str, agent: AgentConfig) -> None:
    if not agent.models:
        return
    if cfg.bedrock is None:
        raise ConfigError(
            f"{path}.models",
            agent.models,
            "names Bedrock models but substrate:bedrock is not set",
            "a substrate:bedrock catalog with these models, or no models",
        )
    granted = cfg.tenants[agent.tenant].models
    cfg.bedrock.require_granted(f"{path}.models", agent.tenant, agent.models, granted)
    if agent.application_profiles:
        catalog = cfg.bedrock.catalog(cfg.region)
        global_ = [m for m in agent.models if catalog[m].is_global]
        if global_:
            raise ConfigError(
                f"{path}.applicationProfiles",
                True,
                f"covers {', '.join(global_)}, a global cross-Region profile: Substrate does "
                "not know the policy an application profile copied from one needs",
                "geographic profiles or foundation models, or applicationProfiles: false",
            )


def _check_task(cfg: PlatformConfig, path: str, name: str, agent: AgentConfig) -> None:
    """A task agent runs Jobs KEDA starts: it needs triggers, and has no sessions to call, no
    fixed replicas and no retained claims to snapshot."""
    if agent.mode != "task":
        return
    if agent.scaling is None:
        raise ConfigError(
            f"{path}.scaling",
            None,
            "is needed by a task agent: KEDA starts its Jobs from the triggers",
            "scaling with triggers (e.g. sqs), or mode: service",
        )
    for key, value in (("replicas", agent.replicas), ("snapshots", agent.snapshots)):
        if value is not None:
            raise ConfigError(
                f"{path}.{key}",
                value if isinstance(value, int) else "set",
                "is set on a task agent, whose Jobs have no fixed replicas and no retained memory",
                f"no {key}, or mode: service",
            )
    callers = sorted(n for n, a in cfg.agents.items() if name in a.callers.agents)
    if callers:
        raise ConfigError(
            f"substrate:agents.{callers[0]}.callers.agents",
            name,
            f"names {name}, a task agent, which serves no sessions",
            "service agents of the tenant",
        )


def _check_scaling(cfg: PlatformConfig, path: str, agent: AgentConfig) -> None:
    if agent.scaling is None:
        return
    if cfg.keda is None:
        raise ConfigError(
            f"{path}.scaling",
            {"maxReplicas": agent.scaling.max_replicas},
            "needs KEDA but substrate:keda is not set",
            "a substrate:keda section, or replicas instead of scaling",
        )
    platform_prometheus = cfg.keda.prometheus_url is not None or cfg.observability.managed
    for i, trigger in enumerate(agent.scaling.triggers):
        prom = trigger.prometheus
        if prom is not None and prom.server_address is None and not platform_prometheus:
            raise ConfigError(
                f"{path}.scaling.triggers[{i}].prometheus.serverAddress",
                None,
                "is needed: the stack runs no Prometheus of its own",
                "a serverAddress, or substrate:keda.prometheusUrl",
            )


def _check_production(path: str, agent: AgentConfig) -> None:
    if agent.scaling is not None and agent.scaling.scale_to_zero:
        raise ConfigError(
            f"{path}.scaling.scaleToZero",
            True,
            "leaves no replica to resume sessions in a production environment (R31)",
            "false when environment.tier is production",
        )
    if agent.min_replicas < PRODUCTION_MIN_REPLICAS:
        key = "scaling.minReplicas" if agent.scaling else "replicas"
        raise ConfigError(
            f"{path}.{key}",
            agent.min_replicas,
            "runs a single replica in a production environment, so a drain or restart "
            "interrupts every session (R31)",
            f"at least {PRODUCTION_MIN_REPLICAS} when environment.tier is production",
        )
    if not agent.memory_volume.retain:
        raise ConfigError(
            f"{path}.memoryVolume.retain",
            False,
            "deletes agent memory on scale-down or deletion in a production environment",
            "true when environment.tier is production",
        )


def _check_queued(cfg: PlatformConfig) -> None:
    """Agent pods are queued by Kueue (the `default` LocalQueue of their namespace), one pod at
    a time through the pod integration, so the quota they use is never lent to others."""
    services = sorted(n for n, a in cfg.agents.items() if a.mode == "service")
    if not services or cfg.kueue is None:
        return
    integrations = cfg.kueue.integrations
    names = ", ".join(services)
    if "statefulset" in integrations:
        raise ConfigError(
            f"substrate:kueue.integrations[{integrations.index('statefulset')}]",
            "statefulset",
            f"would make Kueue queue each agent StatefulSet ({names}) as one workload, which "
            "Kueue v0.19.2 lets change size only to and from zero, so the agents could not scale",
            "no statefulset integration in a stack with agents (the pod integration queues each "
            "agent pod on its own)",
        )
    if "pod" not in effective(integrations):
        raise ConfigError(
            "substrate:kueue.integrations",
            integrations,
            f"leaves the pods of the agents ({names}) outside Kueue, which would lend the "
            "quota they use to other tenants",
            "pod, or deployment or leaderworkerset.x-k8s.io/leaderworkerset (which enable it)",
        )


def _check_quota(cfg: PlatformConfig) -> None:
    """Agents at their most replicas must fit their tenant's nominal quota: Kueue then admits
    every agent pod without borrowing (borrowed quota is reclaimed, evicting the agent), and
    the namespace's ResourceQuota (nominal plus borrowable) never refuses one."""
    specs = [t.spec(n) for n, t in cfg.tenants.items()]
    by_name = {s.name: s for s in specs}
    demand: dict[str, list[tuple[str, AgentConfig]]] = {}
    for name, agent in sorted(cfg.agents.items()):
        demand.setdefault(agent_namespace(cfg, agent), []).append((name, agent))
    for namespace, agents in sorted(demand.items()):
        tenant = by_name[agents[0][1].tenant]
        cpu = sum((quantity(a.cpu) * a.max_replicas for _, a in agents), Decimal(0))
        memory = sum(memory_bytes(a.memory) * a.max_replicas for _, a in agents)
        cpu_cap, memory_cap = tenant.cpu.nominal, tenant.memory.nominal
        if cpu > cpu_cap or memory > memory_cap:
            raise ConfigError(
                AGENTS,
                [n for n, _ in agents],
                f"request up to {cpu.normalize():f} CPU and {memory // 2**30}Gi memory at "
                f"their most replicas in namespace {namespace!r}, above the nominal quota of "
                f"tenant {tenant.name!r} ({cpu_cap} CPU, {memory_cap // 2**30}Gi), so Kueue "
                "would admit some only by borrowing quota it reclaims",
                f"fewer or smaller agents, or more nominal quota for tenant {tenant.name!r}",
            )
