"""``substrate:agents``: long-running stateful agents, keyed by agent name.

Each agent runs as a StatefulSet in one of its tenant's namespaces
(substrate.components.agents.agent_runtime),
keeps its memory on an `nvme-fast` volume per replica, may call the Bedrock models its tenant was
granted and scales through KEDA when `scaling` is set. Rules spanning sections (tenant, grants,
registries, the volume cap, production) live in ``substrate.config.agent_checks``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

from substrate.components.admission.admission_policies.no_static_aws_credentials import (
    CREDENTIAL_VARIABLES,
)
from substrate.components.core import validators
from substrate.config.checks import Memory, Quantity, between, object_name, rule, unique
from substrate.config.scaling import ScalingConfig
from substrate.config.schema import ConfigError, Invalid, doc

Label = Annotated[str, rule(validators.dns_label, 63)]
Duration = Annotated[str, rule(validators.prometheus_duration)]
RESERVED_ENV_PREFIX = "SUBSTRATE_"
"""Environment variables Substrate sets on every agent (see
substrate.components.agents.agent_manifests)."""
RESERVED_ENV = ("AWS_REGION", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE")
"""AWS SDK settings Substrate sets from the agent's config (region, `timeouts`)."""


def _path(value: str) -> None:
    if not re.fullmatch(r"/[A-Za-z0-9._~/-]*", value):
        raise Invalid("is not an absolute path", 'a path such as "/healthz"')


def _env(value: dict[str, str]) -> None:
    for name in value:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise Invalid(f"sets {name!r}, which is not a variable name", "[A-Za-z_][A-Za-z0-9_]*")
        if name in CREDENTIAL_VARIABLES:
            raise Invalid(
                f"sets {name}, a static AWS credential",
                "no credential variables: the agent's role comes from EKS Pod Identity (R20)",
            )
        if name.startswith(RESERVED_ENV_PREFIX) or name in RESERVED_ENV:
            raise Invalid(
                f"sets {name}, which Substrate sets itself",
                f"names without the {RESERVED_ENV_PREFIX} prefix, other than "
                + ", ".join(RESERVED_ENV),
            )


@dataclass(frozen=True)
class ProbeConfig:
    """An HTTP GET probe on the agent's service port."""

    path: Annotated[str, _path] = doc("Path to GET; any 2xx or 3xx status passes.")
    period_seconds: Annotated[int, between(1, 300)] = doc("Seconds between probes.", default=10)
    failure_threshold: Annotated[int, between(1, 1000)] = doc(
        "Consecutive failures before the probe fails.", default=3
    )
    timeout_seconds: Annotated[int, between(1, 60)] = doc(
        "Seconds before a probe times out.", default=2
    )


@dataclass(frozen=True)
class ProbesConfig:
    """Liveness (restart a wedged agent), readiness (route sessions only to ready replicas) and
    startup (time to load memory before liveness applies: period x failureThreshold)."""

    liveness: ProbeConfig = doc(
        "Restarts the container when it fails.", factory=lambda: ProbeConfig("/healthz")
    )
    readiness: ProbeConfig = doc(
        "Removes the replica from its Service while it fails.",
        factory=lambda: ProbeConfig("/ready", period_seconds=5),
    )
    startup: ProbeConfig = doc(
        "Holds off the other probes until it passes once (default: up to 5 minutes).",
        factory=lambda: ProbeConfig("/healthz", period_seconds=5, failure_threshold=60),
    )


@dataclass(frozen=True)
class MemoryVolumeConfig:
    """Each replica's own memory volume (a claim from the StatefulSet's `volumeClaimTemplates`:
    encrypted EBS, zonal, survives restarts, reschedules and drains)."""

    size: Memory = doc(
        "Size of each replica's volume; at most `substrate:storage.maxAgentMemoryVolume`.",
        default="20Gi",
    )
    mount_path: Annotated[str, _path] = doc(
        "Where the volume is mounted (the only writable path besides `/tmp`).",
        default="/var/lib/agent/memory",
    )
    volume_type: Literal["gp3", "io2"] = doc(
        "`gp3`: StorageClass `agent-gp3` (gp3 with `substrate:storage.agentMemoryIops` and "
        "`agentMemoryThroughput`); `io2`: `nvme-fast` (io2 at `fastIopsPerGib`, about 13x the "
        "price of gp3 with the same IOPS) for memory that needs io2's durability or more IOPS. "
        "Changing it changes the StatefulSet's claim template: Pulumi replaces the StatefulSet "
        "and existing claims keep their class.",
        default="gp3",
    )
    retain: bool = doc(
        "Keep the claims (and so the data) when the StatefulSet is deleted or scaled down "
        "(`persistentVolumeClaimRetentionPolicy` Retain/Retain); false deletes them (Delete/"
        "Delete). Required when environment.tier is production.",
        default=True,
    )


@dataclass(frozen=True)
class AgentAlertsConfig:
    """Thresholds of the agent's alerts: `AgentMemoryVolumeFilling` (warning),
    `AgentMemoryVolumeAlmostFull` (critical: pages), `AgentRestartingRepeatedly` and
    `AgentReplicaNotRunning`."""

    memory_volume_percent: Annotated[int, between(1, 99)] = doc(
        "Warn when a replica's memory volume is fuller than this share of its size.", default=80
    )
    memory_volume_critical_percent: Annotated[int, between(2, 100)] = doc(
        "Page when a replica's memory volume is fuller than this share of its size (the agent "
        "is about to stop saving state); above memoryVolumePercent.",
        default=95,
    )
    restarts: Annotated[int, between(1, 100)] = doc(
        "Fire when a replica's containers restart at least this often within `restartWindow`.",
        default=3,
    )
    restart_window: Duration = doc("Window the restarts are counted over.", default="15m")
    not_running_for: Duration = doc(
        "Warn when a replica has been Pending or Unknown (node or zone gone) this long.",
        default="10m",
    )

    def check(self, path: str) -> None:
        if self.memory_volume_critical_percent <= self.memory_volume_percent:
            raise ConfigError(
                f"{path}.memoryVolumeCriticalPercent",
                self.memory_volume_critical_percent,
                f"is not above memoryVolumePercent ({self.memory_volume_percent})",
                f"{self.memory_volume_percent + 1}-100",
            )


@dataclass(frozen=True)
class TimeoutsConfig:
    """How long the agent waits, told to it through its environment. AWS SDKs read
    `AWS_MAX_ATTEMPTS` and `AWS_RETRY_MODE` themselves (AWS SDKs and Tools Reference Guide,
    "Retry behavior"); the read timeout has no SDK environment variable, so the agent passes
    `SUBSTRATE_BEDROCK_READ_TIMEOUT_SECONDS` to its Bedrock client (boto3:
    `Config(read_timeout=...)`), and ends a session after `SUBSTRATE_SESSION_MAX_SECONDS`."""

    model_read_seconds: Annotated[int, between(1, 86400)] = doc(
        "Read timeout of a model call. botocore's default is 60 s; AWS advises at least 3600 s "
        "for models that answer slowly (AWS Knowledge Center, read timeouts with Bedrock).",
        default=3600,
    )
    max_attempts: Annotated[int, between(1, 20)] = doc(
        "Attempts per AWS call, the first included (`AWS_MAX_ATTEMPTS`).", default=3
    )
    retry_mode: Literal["standard", "adaptive"] = doc(
        "SDK retry mode (`AWS_RETRY_MODE`).", default="standard"
    )
    session_seconds: Annotated[int, between(60, 604800)] = doc(
        "Longest a session may live before the agent ends it (a loop that never finishes "
        "cannot hold a replica forever).",
        default=28800,
    )


@dataclass(frozen=True)
class DrainConfig:
    """How a replica leaves (scale-down, rollout, node drain, eviction): Kubernetes calls
    `preStopPath`, then sends SIGTERM, and kills the container `terminationGraceSeconds` after
    the preStop call began; with `scaling`, the HPA removes at most one replica per
    `scaleDownPeriodSeconds`, after `scaleDownStabilizationSeconds` (at least the period) of
    lower demand."""

    pre_stop_path: Annotated[str, _path] | None = doc(
        "HTTP GET on the agent's port before SIGTERM: checkpoint memory, hand off or close "
        "sessions. None: the agent gets only SIGTERM.",
        default=None,
    )
    scale_down_stabilization_seconds: Annotated[int, between(0, 3600)] = doc(
        "With scaling: scale down only to the highest replica count recommended over this "
        "window (the HPA's stabilization window; Kubernetes' default is 300). The HPA gets at "
        "least the scale-down period: it counts replicas added within a period against the "
        "one-pod-per-period policy, so a shorter window would let it remove a whole burst at "
        "once.",
        default=600,
    )
    scale_down_period_seconds: Annotated[int, between(1, 1800)] | None = doc(
        "With scaling: remove at most one replica per this many seconds. Default: "
        "terminationGraceSeconds (at most 1800, the HPA's limit), so a replica has finished "
        "draining before the next one is asked to.",
        default=None,
    )


@dataclass(frozen=True)
class SnapshotsConfig:
    """Scheduled VolumeSnapshots of every memory claim of the agent (`memory-<agent>-<n>`), on the
    VolumeSnapshotClass `ebs-scheduled-snapshots` (deletionPolicy Delete: a snapshot pruned
    beyond `keep` is deleted from EBS too, whatever the volumes' reclaim policy), by a CronJob
    in the agent's namespace that may only list the claims and create, list and delete
    VolumeSnapshots there."""

    schedule: Annotated[str, rule(validators.cron)] = doc(
        "Five-field cron schedule (UTC), e.g. `0 */6 * * *`."
    )
    image: Annotated[str, rule(validators.image_reference)] = doc(
        "An image with `/bin/sh`, `awk` and `kubectl` (of the cluster's minor version), from a "
        "registry in `substrate:admission.allowedRegistries`, pinned by digest outside "
        "development. Substrate pins no such image: mirror one into your registry."
    )
    keep: Annotated[int, between(1, 100)] = doc(
        "Snapshots kept per claim: each run deletes the oldest beyond this.", default=7
    )


@dataclass(frozen=True)
class TaskConfig:
    """A task agent's Jobs (`mode: task`): KEDA starts one Job per unit of work its triggers
    report (a KEDA ScaledJob), each running the agent until the task is done."""

    max_run_seconds: Annotated[int, between(60, 604800)] | None = doc(
        "A Job's `activeDeadlineSeconds`: the longest a task may run before Kubernetes ends it "
        "(default: `timeouts.sessionSeconds`).",
        default=None,
    )
    retries: Annotated[int, between(0, 10)] = doc(
        "A Job's `backoffLimit`: failed pods retried before the task is marked failed.",
        default=1,
    )
    history: Annotated[int, between(0, 100)] = doc(
        "Finished Jobs kept of each outcome (KEDA's successful/failedJobsHistoryLimit).",
        default=5,
    )


@dataclass(frozen=True)
class CallersConfig:
    """Who may open sessions on the agent's port (its NetworkPolicy `<agent>-sessions`); no
    other pod reaches it, other agents of the tenant included (Prometheus reaches it only with
    `metricsPath`)."""

    tenant_pods: bool = doc(
        "The tenant's own pods (in any of its namespaces) that are not agents.", default=True
    )
    agents: Annotated[list[Label], unique] = doc(
        "Agents of the same tenant that may call this agent (e.g. to hand off a task).",
        factory=list,
    )


@dataclass(frozen=True)
class AgentConfig:
    """A long-running agent: a StatefulSet with stable identity and a memory volume per replica,
    its own service account, Bedrock role and SPIFFE ID."""

    tenant: Label = doc("Owning tenant (a `substrate:tenants` key).")
    image: Annotated[str, rule(validators.image_reference)] = doc(
        "Container image, from a registry in `substrate:admission.allowedRegistries`, with a tag "
        "(not `latest`) or digest."
    )
    namespace: Label | None = doc(
        "One of the tenant's namespaces (default: its first).", default=None
    )
    replicas: Annotated[int, between(1, 100)] | None = doc(
        "Fixed replica count (default 1; at least 2 when environment.tier is production). Not "
        "with `scaling`: KEDA then owns the count.",
        default=None,
    )
    cpu: Quantity = doc("CPU request per replica.", default="1")
    memory: Memory = doc("Memory request and limit per replica.", default="2Gi")
    memory_volume: MemoryVolumeConfig = doc("The memory volume.", factory=MemoryVolumeConfig)
    models: Annotated[list[Label], unique] = doc(
        "Bedrock catalog models the agent calls; each must be granted to its tenant "
        "(`substrate:tenants.<tenant>.models`). None: no Bedrock role.",
        factory=list,
    )
    mode: Literal["service", "task"] = doc(
        "`service`: a StatefulSet serving sessions, each replica with its own retained memory "
        "volume. `task`: a KEDA ScaledJob starting one Job per unit of work its `scaling` "
        "triggers report (e.g. SQS messages), with the agent's identity and Bedrock role; a "
        "task's memory is ephemeral (a volume of the agent's class created with its pod and "
        "deleted with it). A task agent has no Service, callers or snapshots.",
        default="service",
    )
    task: TaskConfig = doc("Job settings of a task agent.", factory=TaskConfig)
    application_profiles: bool = doc(
        "Give the agent its own Bedrock application inference profile per model (copied from "
        "the catalog's cross-Region profile or foundation model, tagged with the agent and "
        "tenant so Cost Explorer attributes its model spend), and let it call its models only "
        "through them: `SUBSTRATE_BEDROCK_MODELS` then maps each model to its profile's ARN, "
        "and the system profile id and the bare foundation model are refused. Under a "
        "guardrail, models that cannot carry one (embedding models) keep the catalog's id. "
        "Opt-in because an agent that sends the catalog's ids breaks when switched; not for "
        "global profiles.",
        default=False,
    )
    scaling: ScalingConfig | None = doc(
        "Scale with KEDA on active sessions (Prometheus) or queue depth (SQS); needs "
        "`substrate:keda`. Never to zero unless `scaleToZero` (refused in production).",
        default=None,
    )
    protect_long_tasks: bool = doc(
        'Annotate the pods `karpenter.sh/do-not-disrupt: "true"` so Karpenter never '
        "consolidates a node under a running task, and drifts it only after the pool's "
        "terminationGracePeriod. Must stay true while `agent` is in "
        "`substrate:admission.longRunningClasses` (R33).",
        default=True,
    )
    port: Annotated[int, between(1024, 65535)] = doc(
        "Service port (HTTP; probes and sessions). Above 1023: the container runs without "
        "capabilities.",
        default=8080,
    )
    metrics_path: Annotated[str, _path] | None = doc(
        "Prometheus metrics path on the service port: adds a ServiceMonitor and lets the "
        "monitoring namespace reach the port (needed for Prometheus scaling triggers on the "
        "agent's own metrics).",
        default=None,
    )
    callers: CallersConfig = doc("Who may reach the agent's port.", factory=CallersConfig)
    drain: DrainConfig = doc("How a replica leaves.", factory=DrainConfig)
    timeouts: TimeoutsConfig = doc("Model call and session timeouts.", factory=TimeoutsConfig)
    probes: ProbesConfig = doc("HTTP probes.", factory=ProbesConfig)
    snapshots: SnapshotsConfig | None = doc(
        "Scheduled snapshots of the memory volumes (none: snapshots only on request).",
        default=None,
    )
    alerts: AgentAlertsConfig = doc("Alert thresholds.", factory=AgentAlertsConfig)
    termination_grace_seconds: Annotated[int, between(1, 86400)] = doc(
        "Time a replica gets after SIGTERM (drain, rollout, scale-down) to checkpoint its "
        "memory and finish the current step.",
        default=300,
    )
    run_as_user: Annotated[int, between(1, 2147483647)] = doc(
        "Non-root UID (also GID and fsGroup, so the memory volume is writable).", default=65532
    )
    env: Annotated[dict[str, str], _env] = doc(
        "Extra environment variables (no AWS credentials, no `SUBSTRATE_` names).", factory=dict
    )

    def check(self, path: str) -> None:
        if self.replicas is not None and self.scaling is not None:
            raise ConfigError(
                f"{path}.replicas",
                self.replicas,
                "is set together with scaling, which lets KEDA own the replica count",
                "scaling.minReplicas/maxReplicas, or replicas without scaling",
            )

    @property
    def min_replicas(self) -> int:
        """The fewest replicas the agent ever runs (0 when it may scale to zero)."""
        if self.scaling is None:
            return self.replicas or 1
        return 0 if self.scaling.scale_to_zero else self.scaling.min_replicas

    @property
    def scale_down_period(self) -> int:
        """Seconds between two replica removals by the HPA."""
        return self.drain.scale_down_period_seconds or min(self.termination_grace_seconds, 1800)

    @property
    def scale_down_window(self) -> int:
        """The HPA's scale-down stabilization window: the configured one, at least the period.
        The HPA limits a scale-down against the replica count at the start of the policy's
        period, replicas it added within the period included (k8s.io/kubernetes
        pkg/controller/podautoscaler, calculateScaleDownLimitWithBehaviors): scaled up 2 -> 4
        less than a period ago, "1 pod per period" lets it go 4 -> 2 at once. A window at least
        the period keeps every scale-up out of the period by the time it may scale down."""
        return max(self.drain.scale_down_stabilization_seconds, self.scale_down_period)

    @property
    def max_replicas(self) -> int:
        return self.scaling.max_replicas if self.scaling else (self.replicas or 1)


MAX_AGENT_NAME = 40
"""Pod (`<agent>-<ordinal>`), claim (`memory-<agent>-<ordinal>`) and revision-hash label values
derive from the name and must stay within 63 characters."""
AgentName = Annotated[
    str,
    object_name(
        "is not a valid agent name (it names the StatefulSet, its pods and claims)", MAX_AGENT_NAME
    ),
]
Agents = dict[AgentName, AgentConfig]
