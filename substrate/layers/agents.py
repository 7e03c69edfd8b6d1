"""Agents layer: one `AgentRuntime` per `substrate:agents` entry, the only code that maps that
section to component args.

Two pure functions run before the layers an agent needs are built, because those layers must
know about the agents up front: `plans(cfg)` gives each agent's namespace, its SPIFFE
registration (`identity.build(agents=...)`) and its KEDA scaling args (`workloads.build(
elastic=...)`, so KEDA's role grants exactly what its triggers read). `build` then declares the
runtimes, each waiting for its tenant's namespace, the StorageClasses, its ClusterSPIFFEID, the
admission policies that must judge its pods, the Prometheus CRDs and, when it scales, KEDA.

What happens when a piece is absent (config errors come from `substrate.config.agent_checks`):
- no `substrate:bedrock`: an agent naming models is refused; one without models gets no role;
- no `substrate:keda`: an agent with `scaling` is refused;
- SPIRE and the `nvme-fast` StorageClass are always part of the platform (`substrate:identity`
  is required; the foundation layer always creates the StorageClasses);
- an external Prometheus: the agent's rules and monitor go to its namespace with its labels and
  rely on it scraping the kubelet and kube-state-metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from substrate.components.agents.agent_memory_quota import AgentMemoryQuota, AgentVolumes
from substrate.components.agents.agent_runtime import (
    AgentMonitoringArgs,
    AgentRuntime,
    AgentRuntimeArgs,
    ProbeArgs,
)
from substrate.components.agents.agent_simulation import AgentSimulation, SimulatedAgent
from substrate.components.agents.agent_snapshots import AgentSnapshots
from substrate.components.agents.agent_task import AgentMode, TaskArgs
from substrate.components.cluster.ebs import AGENT_MEMORY_CLASSES
from substrate.components.cluster.storage import SCHEDULED_SNAPSHOT_CLASS
from substrate.components.identity.workload_identity import AgentIdentity
from substrate.components.workloads.elastic_workload import (
    ElasticWorkloadArgs,
    ScaleTarget,
    ScaleTargetKind,
)
from substrate.components.workloads.tenancy import NetworkSpec, TenantSpec
from substrate.components.workloads.tenant_manifests import (
    ALLOW_DNS,
    ALLOW_ENDPOINTS,
    ALLOW_POD_IDENTITY,
    DEFAULT_DENY,
    network_policies,
)
from substrate.config import PlatformConfig
from substrate.config.agent_checks import agent_namespace
from substrate.config.agents import AgentConfig, ProbeConfig
from substrate.layers.admission import Admission
from substrate.layers.bedrock import Bedrock
from substrate.layers.foundation import Foundation
from substrate.layers.identity import Identity
from substrate.layers.observability import Observability
from substrate.layers.tenant_network import peers
from substrate.layers.workloads import Workloads, elastic_args, prometheus_url

SIMULATION_POLICIES = frozenset({DEFAULT_DENY, ALLOW_DNS, ALLOW_POD_IDENTITY, ALLOW_ENDPOINTS})
"""The tenant NetworkPolicies the simulation namespace gets: nothing but an agent's own egress."""
SIMULATION = "sim"
"""Logical name of the AgentSimulation: its roles, `sim-<agent>-bedrock-identity-role`, are
shorter than the agents' own (`agent-<agent>-...`), so the agent name check covers them."""
MEMORY_CLASSES = AGENT_MEMORY_CLASSES
"""`memoryVolume.volumeType` -> the StorageClass of the agent's claims."""


@dataclass(frozen=True)
class AgentPlan:
    """What other layers must know about an agent before it is built."""

    name: str
    config: AgentConfig
    namespace: str
    identity: AgentIdentity
    elastic: ElasticWorkloadArgs | None


@dataclass(frozen=True)
class Agents:
    runtimes: dict[str, AgentRuntime]
    quotas: dict[str, AgentMemoryQuota]
    """Storage quota of the agents' StorageClass, by namespace."""
    simulation: AgentSimulation | None = None
    """The agent simulation namespace (`substrate:agentSimulation`)."""


def plans(cfg: PlatformConfig) -> tuple[AgentPlan, ...]:
    out = []
    for name, agent in sorted(cfg.agents.items()):
        ns = agent_namespace(cfg, agent)
        elastic = None
        if agent.scaling is not None:
            target: ScaleTarget = {
                "kind": ScaleTargetKind.STATEFUL_SET,
                "name": name,
                "namespace": ns,
            }
            elastic = elastic_args(agent.scaling, target, cfg.region, prometheus_url(cfg))
            elastic["scale_down"] = {
                "stabilization_seconds": agent.scale_down_window,
                "pods_per_period": 1,
                "period_seconds": agent.scale_down_period,
            }
        identity: AgentIdentity = {
            "name": name,
            "tenant": agent.tenant,
            "namespace": ns,
            "service_account": name,
        }
        out.append(AgentPlan(name, agent, ns, identity, elastic))
    return tuple(out)


def _probe(p: ProbeConfig) -> ProbeArgs:
    return {
        "path": p.path,
        "period_seconds": p.period_seconds,
        "failure_threshold": p.failure_threshold,
        "timeout_seconds": p.timeout_seconds,
    }


def runtime_args(
    cfg: PlatformConfig, plan: AgentPlan, bedrock: Bedrock, obs: Observability
) -> AgentRuntimeArgs:
    agent = plan.config
    probes = agent.probes
    monitoring: AgentMonitoringArgs = {
        "namespace": obs.namespace,
        "labels": dict(obs.labels),
        "metrics_path": agent.metrics_path,
        "memory_volume_percent": agent.alerts.memory_volume_percent,
        "memory_volume_critical_percent": agent.alerts.memory_volume_critical_percent,
        "not_running_for": agent.alerts.not_running_for,
        "restarts": agent.alerts.restarts,
        "restart_window": agent.alerts.restart_window,
    }
    args: AgentRuntimeArgs = {
        "agent": plan.name,
        "tenant": agent.tenant,
        "namespace": plan.namespace,
        "image": agent.image,
        "cpu": agent.cpu,
        "memory": agent.memory,
        "memory_volume": {
            "size": agent.memory_volume.size,
            "mount_path": agent.memory_volume.mount_path,
            "retain": agent.memory_volume.retain,
            "storage_class": MEMORY_CLASSES[agent.memory_volume.volume_type],
        },
        "probes": {
            "liveness": _probe(probes.liveness),
            "readiness": _probe(probes.readiness),
            "startup": _probe(probes.startup),
        },
        "replicas": agent.replicas,
        "scaling": plan.elastic,
        "port": agent.port,
        "protect_long_tasks": agent.protect_long_tasks,
        "termination_grace_seconds": agent.termination_grace_seconds,
        "pre_stop_path": agent.drain.pre_stop_path,
        "timeouts": {
            "model_read_seconds": agent.timeouts.model_read_seconds,
            "max_attempts": agent.timeouts.max_attempts,
            "retry_mode": agent.timeouts.retry_mode,
            "session_seconds": agent.timeouts.session_seconds,
        },
        "run_as_user": agent.run_as_user,
        "env": dict(agent.env),
        "region": cfg.region,
        "bedrock": (
            bedrock.agent_role_args(
                plan.namespace,
                plan.name,
                agent.models,
                bedrock.application_profiles.get(plan.name),
            )
            if agent.models
            else None
        ),
        "monitoring": monitoring,
        "callers": {
            "tenant_pods": agent.callers.tenant_pods,
            "agents": list(agent.callers.agents),
        },
        "mode": AgentMode(agent.mode),
    }
    if agent.mode == "task":
        task: TaskArgs = {
            "max_run_seconds": agent.task.max_run_seconds or agent.timeouts.session_seconds,
            "retries": agent.task.retries,
            "history": agent.task.history,
        }
        # Kueue queues Jobs (batch/job) of tenants with a queue: the Jobs KEDA starts carry
        # the tenant's LocalQueue label, copied from the ScaledJob's labels.
        if cfg.kueue is not None and "batch/job" in cfg.kueue.integrations:
            task["queue"] = cfg.tenants[agent.tenant].spec(agent.tenant).queue_name
        args["task"] = task
    return args


def build(
    cfg: PlatformConfig,
    base: Foundation,
    agent_plans: Sequence[AgentPlan],
    *,
    work: Workloads,
    ident: Identity,
    bedrock: Bedrock,
    obs: Observability,
    admission: Admission,
) -> Agents:
    runtimes: dict[str, AgentRuntime] = {}
    for plan in agent_plans:
        name = f"agent-{plan.name}"
        waits: list[pulumi.Resource] = [
            work.tenants[plan.config.tenant],
            base.storage,
            ident.workloads,
            admission.policies,
        ]
        if obs.crds is not None:
            waits.append(obs.crds)
        if plan.elastic is not None:
            waits += work.elastic_dependencies(name, plan.elastic)
        runtimes[plan.name] = AgentRuntime(
            name,
            runtime_args(cfg, plan, bedrock, obs),
            opts=pulumi.ResourceOptions.merge(
                base.kubernetes, pulumi.ResourceOptions(depends_on=waits)
            ),
        )
    for plan in agent_plans:
        _snapshots(plan, base, admission, runtimes[plan.name])
    quotas = _quotas(cfg, agent_plans, base, work)
    simulation = _simulation(
        cfg, agent_plans, base=base, work=work, bedrock=bedrock, admission=admission
    )
    if runtimes:
        pulumi.export(
            "agents",
            {
                p.name: {
                    "namespace": p.namespace,
                    "service": runtimes[p.name].service,
                    "spiffeId": f"spiffe://{ident.trust_domain}/agent/{p.config.tenant}/{p.name}",
                }
                for p in agent_plans
            },
        )
    return Agents(runtimes, quotas, simulation)


def _snapshots(
    plan: AgentPlan, base: Foundation, admission: Admission, runtime: AgentRuntime
) -> AgentSnapshots | None:
    """The agent's scheduled snapshots (`snapshots`), after its StatefulSet and the admission
    policies that judge the CronJob's pods."""
    snaps = plan.config.snapshots
    if snaps is None:
        return None
    return AgentSnapshots(
        f"agent-{plan.name}-snapshots",
        {
            "agent": plan.name,
            "tenant": plan.config.tenant,
            "namespace": plan.namespace,
            "schedule": snaps.schedule,
            "image": snaps.image,
            "keep": snaps.keep,
            "snapshot_class": SCHEDULED_SNAPSHOT_CLASS,
            "run_as_user": plan.config.run_as_user,
        },
        opts=pulumi.ResourceOptions.merge(
            base.kubernetes,
            pulumi.ResourceOptions(depends_on=[runtime, base.storage, admission.policies]),
        ),
    )


def _simulation(
    cfg: PlatformConfig,
    agent_plans: Sequence[AgentPlan],
    *,
    base: Foundation,
    work: Workloads,
    bedrock: Bedrock,
    admission: Admission,
) -> AgentSimulation | None:
    """The simulation namespace of `substrate:agentSimulation`: the tenant's agents, each with a
    role of its own grants trusted only by its service account there."""
    sim = cfg.agent_simulation
    if sim is None:
        return None
    owner = cfg.tenants[sim.tenant].spec(sim.tenant)
    agents: list[SimulatedAgent] = [
        {
            "name": p.name,
            "bedrock": (
                bedrock.agent_role_args(sim.namespace, p.name, p.config.models)
                if p.config.models
                else None
            ),
        }
        for p in agent_plans
        if p.config.tenant == sim.tenant
    ]
    # Default-deny, DNS, the Pod Identity agent and, as the owning tenant has them, the AWS
    # interface endpoints: what an agent needs to call Bedrock, and nothing of the tenants.
    spec = TenantSpec(
        name=sim.namespace,
        namespaces=(sim.namespace,),
        network=NetworkSpec(
            within_tenant=False,
            pod_identity_agent=True,
            aws_endpoints=owner.network.aws_endpoints,
        ),
    )
    specs = [t.spec(n) for n, t in sorted(cfg.tenants.items())]
    return AgentSimulation(
        SIMULATION,
        {
            "namespace": sim.namespace,
            "admin_group": owner.admin_group,
            "quota": {
                "cpu": sim.quota.cpu,
                "memory": sim.quota.memory,
                "storage": sim.quota.storage,
                "claims": sim.quota.claims,
                "jobs": sim.quota.jobs,
            },
            "agents": agents,
            "network_policies": {
                name: policy
                for name, policy in network_policies(spec, peers(cfg, specs)).items()
                if name in SIMULATION_POLICIES
            },
        },
        opts=pulumi.ResourceOptions.merge(
            base.kubernetes,
            pulumi.ResourceOptions(
                # Kueue's CRDs (its release) and the flavors (its platform objects) first, as
                # for the tenants' queues.
                depends_on=[
                    work.tenants[sim.tenant],
                    *(r for r in (work.kueue and work.kueue.release, work.kueue_platform) if r),
                    base.storage,
                    admission.policies,
                ]
            ),
        ),
    )


def _quotas(
    cfg: PlatformConfig, agent_plans: Sequence[AgentPlan], base: Foundation, work: Workloads
) -> dict[str, AgentMemoryQuota]:
    """One storage quota per namespace that runs agents: their claims at their most replicas."""
    by_namespace: dict[str, list[AgentPlan]] = {}
    for plan in agent_plans:
        by_namespace.setdefault(plan.namespace, []).append(plan)
    out = {}
    for namespace, plans in sorted(by_namespace.items()):
        volumes: dict[str, AgentVolumes] = {
            p.name: {
                "size": p.config.memory_volume.size,
                "replicas": p.config.max_replicas,
                "storage_class": MEMORY_CLASSES[p.config.memory_volume.volume_type],
            }
            for p in plans
        }
        out[namespace] = AgentMemoryQuota(
            f"agents-{namespace}-memory",
            {
                "namespace": namespace,
                "agents": volumes,
                "no_gpus": not cfg.tenants[plans[0].config.tenant].gpu,
            },
            opts=pulumi.ResourceOptions.merge(
                base.kubernetes,
                pulumi.ResourceOptions(depends_on=[work.tenants[plans[0].config.tenant]]),
            ),
        )
    return out
