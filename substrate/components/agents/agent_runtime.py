"""One long-running agent: a StatefulSet with a memory volume per replica, and what it needs.

Renders, in the agent's namespace: a ServiceAccount (no API token) bound to its Bedrock role
through EKS Pod Identity (`BedrockAgentRole`), a headless Service (stable per-replica DNS
names), a NetworkPolicy naming who may open sessions on its port, a PodDisruptionBudget
allowing one disruption (created before the StatefulSet: the Kyverno `statefulset-pdb` policy
reads PDBs at admission, R31), and the StatefulSet: restricted
pod security, requests and memory limit, probes, zone spread, `karpenter.sh/do-not-disrupt`,
the SPIFFE Workload API socket, and `volumeClaimTemplates` on `agent-gp3` (or `nvme-fast`) with a
`persistentVolumeClaimRetentionPolicy`. Optionally: a KEDA ScaledObject (`ElasticWorkload`,
which then owns the replica count), a ServiceMonitor with the NetworkPolicy that lets the
monitoring namespace scrape it, and a PrometheusRule for a filling memory volume and restart
loops. The manifests are built by `substrate.components.agents.agent_manifests`.
"""

from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, Required, TypedDict, cast

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.apiextensions import CustomResource
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from substrate.components.agents import agent_manifests as m
from substrate.components.agents import agent_task
from substrate.components.agents.agent_task import AgentMode, TaskArgs
from substrate.components.agents.agent_validation import validate_args
from substrate.components.agents.bedrock_agent_role import BedrockAgentRole, BedrockAgentRoleArgs
from substrate.components.core._args import check_args
from substrate.components.core.tokens import component_args
from substrate.components.observability.alert_rules import AgentAlerts, agent_rules
from substrate.components.observability.platform_monitoring import MONITORING_API, PART_OF
from substrate.components.observability.scrape_targets import monitor_spec
from substrate.components.workloads.elastic_workload import (
    AWS_TRIGGERS,
    ElasticWorkload,
    ElasticWorkloadArgs,
    trigger_manifest,
)
from substrate.components.workloads.keda_triggers import trigger_type


class ProbeArgs(TypedDict, total=False):
    """An HTTP GET probe on the agent's `http` port."""

    path: Required[str]
    """Path to GET."""
    period_seconds: NotRequired[int]
    """Seconds between probes (default 10)."""
    failure_threshold: NotRequired[int]
    """Consecutive failures before the probe fails (default 3)."""
    timeout_seconds: NotRequired[int]
    """Probe timeout in seconds (default 2)."""


class ProbesArgs(TypedDict, total=False):
    """The three probes every agent container has (R31)."""

    liveness: Required[ProbeArgs]
    """Restarts a wedged container."""
    readiness: Required[ProbeArgs]
    """Takes a replica out of its Service while it fails."""
    startup: Required[ProbeArgs]
    """Holds off liveness and readiness until the agent has loaded its memory."""


class MemoryVolumeArgs(TypedDict, total=False):
    """Each replica's memory volume (a `volumeClaimTemplates` entry)."""

    size: Required[str]
    """Requested size, e.g. `50Gi` (the layer enforces the platform cap)."""
    storage_class: NotRequired[str]
    """StorageClass of the claims (default `agent-gp3`: encrypted EBS gp3 with provisioned IOPS
    and throughput; `nvme-fast` for io2)."""
    mount_path: NotRequired[str]
    """Mount path in the container (default `/var/lib/agent/memory`)."""
    retain: NotRequired[bool]
    """Keep claims when the StatefulSet is deleted or scaled down (default true: Retain/Retain;
    false: Delete/Delete)."""


class AgentMonitoringArgs(TypedDict, total=False):
    """Where the agent's alert rules and scrape config go (the platform's monitoring namespace)."""

    namespace: Required[str]
    """Namespace of the PrometheusRule and ServiceMonitor."""
    labels: NotRequired[Mapping[str, str]]
    """Labels a bring-your-own Prometheus selects rules and monitors by."""
    metrics_path: NotRequired[str | None]
    """Scrape this path on the `http` port (ServiceMonitor + NetworkPolicy); none: no scraping."""
    memory_volume_percent: NotRequired[int]
    """`AgentMemoryVolumeFilling` threshold, percent of the volume (default 80)."""
    restarts: NotRequired[int]
    """`AgentRestartingRepeatedly` threshold (default 3)."""
    restart_window: NotRequired[str]
    """Window restarts are counted over (Prometheus duration, default `15m`)."""
    memory_volume_critical_percent: NotRequired[int]
    """`AgentMemoryVolumeAlmostFull` (critical) threshold, percent (default 95)."""
    not_running_for: NotRequired[str]
    """`AgentReplicaNotRunning`: how long a replica may be Pending/Unknown (default `10m`)."""


class TimeoutsArgs(TypedDict, total=False):
    """What the agent is told about waiting (its environment)."""

    model_read_seconds: NotRequired[int]
    """`SUBSTRATE_BEDROCK_READ_TIMEOUT_SECONDS` (default 3600)."""
    max_attempts: NotRequired[int]
    """`AWS_MAX_ATTEMPTS` (default 3)."""
    retry_mode: NotRequired[str]
    """`AWS_RETRY_MODE`: standard or adaptive (default standard)."""
    session_seconds: NotRequired[int]
    """`SUBSTRATE_SESSION_MAX_SECONDS` (default 28800)."""


class CallersArgs(TypedDict, total=False):
    """Who may open sessions on the agent's port (its own NetworkPolicy `<agent>-sessions`)."""

    tenant_pods: NotRequired[bool]
    """Pods of the tenant's namespaces that are not agents (default true)."""
    agents: NotRequired[Sequence[str]]
    """Agents of the same tenant that may call this one (default none)."""


class AgentRuntimeArgs(TypedDict, total=False):
    """Arguments of :class:`AgentRuntime`."""

    agent: Required[str]
    """Agent name: names the StatefulSet, Service, PDB and ServiceAccount (at most 40 chars)."""
    tenant: Required[str]
    """Owning tenant (pod label `substrate.io/tenant`, alert routing)."""
    namespace: Required[str]
    """One of the tenant's namespaces (must exist first)."""
    image: Required[str]
    """Image with a tag (not `latest`) or digest."""
    cpu: Required[str]
    """CPU request per replica."""
    memory: Required[str]
    """Memory request and limit per replica (equal, R28)."""
    memory_volume: Required[MemoryVolumeArgs]
    """The per-replica memory volume."""
    probes: Required[ProbesArgs]
    """Liveness, readiness and startup probes."""
    replicas: NotRequired[int | None]
    """Fixed replica count; leave unset with `scaling` (KEDA owns it). Default 1."""
    scaling: NotRequired[ElasticWorkloadArgs | None]
    """KEDA scaling; its target must be this StatefulSet. Pass KEDA's release in `depends_on`."""
    port: NotRequired[int]
    """Container and Service port named `http` (1024-65535, default 8080)."""
    protect_long_tasks: NotRequired[bool]
    """Annotate pods `karpenter.sh/do-not-disrupt: "true"` (default true, R33)."""
    termination_grace_seconds: NotRequired[int]
    """Seconds a pod gets after SIGTERM to checkpoint (default 300)."""
    timeouts: NotRequired[TimeoutsArgs]
    """Model call and session timeouts (defaults above)."""
    pre_stop_path: NotRequired[str | None]
    """HTTP GET on the `http` port before SIGTERM (checkpoint, hand off sessions)."""
    run_as_user: NotRequired[int]
    """Non-root UID, also GID and fsGroup (default 65532)."""
    env: NotRequired[Mapping[str, str]]
    """Extra environment variables (no AWS credential variables)."""
    region: NotRequired[str]
    """AWS Region for the SDK (`AWS_REGION`)."""
    bedrock: NotRequired[BedrockAgentRoleArgs | None]
    """The agent's Bedrock role (namespace/service account must be this agent's); none: no
    AWS role at all."""
    spiffe: NotRequired[bool]
    """Mount the SPIFFE Workload API socket (SPIFFE CSI driver, default true)."""
    monitoring: NotRequired[AgentMonitoringArgs | None]
    """Alert rules (and scraping); none: no rules."""
    callers: NotRequired[CallersArgs]
    """Who may reach the agent's port; default: the tenant's non-agent pods."""
    mode: NotRequired[AgentMode]
    """`service` (default): StatefulSet + ScaledObject; `task`: a KEDA ScaledJob (needs
    `scaling`; no Service, callers, PDB or retained memory)."""
    task: NotRequired[TaskArgs]
    """Job settings of a task agent."""


class AgentRuntime(pulumi.ComponentResource):
    """ServiceAccount + Bedrock role, headless Service, PDB, StatefulSet with its memory claims, and
    optionally KEDA scaling, scraping and alerts for one agent."""

    role_arn: pulumi.Output[str] | None
    service: str

    def __init__(
        self, name: str, args: AgentRuntimeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__(*component_args("substrate:agents:AgentRuntime", name, opts))
        validate_args(args)
        agent, ns = args["agent"], args["namespace"]
        child = pulumi.ResourceOptions(parent=self)
        labels = m.object_labels(agent, args["tenant"])

        def meta(obj: str, namespace: str = ns, extra: Mapping[str, str] | None = None):
            return ObjectMetaArgs(
                name=obj, namespace=namespace, labels={**labels, **dict(extra or {})}
            )

        account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata=meta(agent),
            automount_service_account_token=False,
            opts=child,
        )
        self.role_arn = None
        bedrock = args.get("bedrock")
        task = args.get("mode", AgentMode.SERVICE) == AgentMode.TASK
        spec = agent_task.scaled_job_spec(args, None) if task else m.statefulset_spec(args)
        if bedrock is not None:
            role = BedrockAgentRole(f"{name}-bedrock", bedrock, opts=child)
            self.role_arn = role.role_arn
            if bedrock.get("application_profiles"):
                template = spec["jobTargetRef"] if task else spec
                m.set_env(template, m.MODELS_ENV, m.models_env(role.model_ids))
        if task:
            self._task(name, args, spec, account)
            return
        service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=meta(agent),
            spec=cast(Any, m.service_spec(agent, args.get("port", m.DEFAULT_PORT))),
            opts=child,
        )
        callers = args.get("callers", {})
        k8s.networking.v1.NetworkPolicy(
            f"{name}-sessions",
            metadata=meta(f"{agent}-sessions"),
            spec=cast(
                Any,
                m.session_network_policy(
                    agent,
                    args["tenant"],
                    args.get("port", m.DEFAULT_PORT),
                    tenant_pods=callers.get("tenant_pods", True),
                    agents=list(callers.get("agents", [])),
                ),
            ),
            opts=child,
        )
        pdb = k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb", metadata=meta(agent), spec=cast(Any, m.pdb_spec(agent)), opts=child
        )
        statefulset = k8s.apps.v1.StatefulSet(
            f"{name}-statefulset",
            metadata=meta(agent),
            spec=cast(Any, spec),
            # The PDB must exist when admission checks the StatefulSet (R31); the Service
            # gives the pods their stable DNS names.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[pdb, service, account]),
        )
        scaling = args.get("scaling")
        if scaling is not None:
            ElasticWorkload(
                f"{name}-scaling",
                scaling,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[statefulset]),
            )
        monitoring = args.get("monitoring")
        if monitoring is not None:
            self._monitoring(name, args, monitoring, labels)
        self.service = f"{agent}.{ns}.svc"
        self.register_outputs(
            {
                "statefulSet": f"{ns}/{agent}",
                "service": self.service,
                "serviceAccount": f"{ns}/{agent}",
                "roleArn": self.role_arn,
                "scaled": scaling is not None,
            }
        )

    def _task(
        self,
        name: str,
        args: AgentRuntimeArgs,
        spec: dict[str, Any],
        account: pulumi.Resource,
    ) -> None:
        """The ScaledJob (and the TriggerAuthentication its AWS triggers read with)."""
        agent, ns = args["agent"], args["namespace"]
        scaling = args.get("scaling")
        assert scaling is not None
        labels = agent_task.labels(args)
        depends: list[pulumi.Resource] = [account]
        auth = None
        if any(trigger_type(t) in AWS_TRIGGERS for t in scaling["triggers"]):
            auth = f"{agent}-aws"
            identity = {"provider": "aws"}
            if scaling.get("role_arn"):
                identity["roleArn"] = str(scaling.get("role_arn"))
            depends.append(
                CustomResource(
                    f"{name}-trigger-auth",
                    api_version=agent_task.SCALED_JOB_API,
                    kind="TriggerAuthentication",
                    metadata=ObjectMetaArgs(name=auth, namespace=ns, labels=labels),
                    spec={"podIdentity": identity},
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
            spec["triggers"] = [
                trigger_manifest(t, scaling.get("region"), auth) for t in scaling["triggers"]
            ]
        CustomResource(
            f"{name}-scaled-job",
            api_version=agent_task.SCALED_JOB_API,
            kind="ScaledJob",
            metadata=ObjectMetaArgs(name=agent, namespace=ns, labels=labels),
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
        )
        self.service = ""
        self.register_outputs(
            {
                "scaledJob": f"{ns}/{agent}",
                "serviceAccount": f"{ns}/{agent}",
                "roleArn": self.role_arn,
            }
        )

    def _monitoring(
        self,
        name: str,
        args: AgentRuntimeArgs,
        monitoring: AgentMonitoringArgs,
        labels: Mapping[str, str],
    ) -> None:
        agent, ns = args["agent"], args["namespace"]
        where = monitoring["namespace"]
        window = monitoring.get("restart_window", "15m")
        extra = {**PART_OF, **labels, **dict(monitoring.get("labels", {}))}
        child = pulumi.ResourceOptions(parent=self)
        alerts = AgentAlerts(
            agent=agent,
            tenant=args["tenant"],
            namespace=ns,
            claim_template=m.MEMORY_VOLUME,
            memory_volume_percent=monitoring.get("memory_volume_percent", 80),
            memory_volume_critical_percent=monitoring.get("memory_volume_critical_percent", 95),
            not_running_for=monitoring.get("not_running_for", "10m"),
            restarts=monitoring.get("restarts", 3),
            restart_window=window,
        )
        CustomResource(
            f"{name}-alerts",
            api_version=MONITORING_API,
            kind="PrometheusRule",
            metadata=ObjectMetaArgs(name=f"agent-{agent}", namespace=where, labels=extra),
            spec={"groups": [{"name": f"substrate.agents.{agent}", "rules": agent_rules(alerts)}]},
            opts=child,
        )
        path = monitoring.get("metrics_path")
        if not path:
            return
        CustomResource(
            f"{name}-service-monitor",
            api_version=MONITORING_API,
            kind="ServiceMonitor",
            metadata=ObjectMetaArgs(name=f"agent-{agent}", namespace=where, labels=extra),
            spec=monitor_spec(m.scrape_target(agent, ns, path)),
            opts=child,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-allow-scrape",
            metadata=ObjectMetaArgs(name=f"{agent}-allow-scrape", namespace=ns, labels=labels),
            spec=cast(Any, m.scrape_network_policy(agent, args.get("port", m.DEFAULT_PORT), where)),
            opts=child,
        )
