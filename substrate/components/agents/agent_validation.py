"""Argument checks of :class:`substrate.components.agents.agent_runtime.AgentRuntime`: each raises
ValueError
naming the first invalid input (`AgentRuntimeArgs.<field>: <value> <problem>`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from substrate.components.admission.admission_policies.no_static_aws_credentials import (
    CREDENTIAL_VARIABLES,
)
from substrate.components.agents import agent_manifests as m
from substrate.components.core import validators
from substrate.components.workloads.tenancy import quantity

if TYPE_CHECKING:
    from substrate.components.agents.agent_runtime import AgentMonitoringArgs, AgentRuntimeArgs


def validate_args(args: AgentRuntimeArgs) -> None:
    """Raise ValueError naming the first invalid input."""
    agent = args["agent"]
    for key, value, size in (
        ("agent", agent, 40),
        ("tenant", args["tenant"], 63),
        ("namespace", args["namespace"], 63),
    ):
        if validators.dns_label(value, size):
            raise ValueError(f"AgentRuntimeArgs.{key}: {value!r} is not a DNS label of <= {size}")
    problem = validators.image_reference(args["image"])
    if problem:
        raise ValueError(f"AgentRuntimeArgs.image: {args['image']!r} {problem}")
    for key in ("cpu", "memory"):
        try:
            quantity(cast(Any, args)[key])
        except ValueError:
            raise ValueError(
                f"AgentRuntimeArgs.{key}: {cast(Any, args)[key]!r} is not a Kubernetes quantity"
            ) from None
    if validators.quantity(args["memory_volume"]["size"]):
        raise ValueError(
            f"AgentRuntimeArgs.memory_volume.size: {args['memory_volume']['size']!r} is not a "
            "Kubernetes quantity"
        )
    port = args.get("port", m.DEFAULT_PORT)
    if not 1024 <= port <= 65535:
        raise ValueError(f"AgentRuntimeArgs.port: {port} must be 1024-65535 (no capabilities)")
    if args.get("run_as_user", m.DEFAULT_UID) < 1:
        raise ValueError("AgentRuntimeArgs.run_as_user: must be a non-root UID (>= 1)")
    _check_links(args)


def _check_links(args: AgentRuntimeArgs) -> None:
    """Probes, env, and the scaling target and Bedrock role belonging to this agent."""
    agent = args["agent"]
    mode = args.get("timeouts", {}).get("retry_mode", "standard")
    if mode not in ("standard", "adaptive"):
        raise ValueError(f"AgentRuntimeArgs.timeouts.retry_mode: {mode!r} is not standard/adaptive")
    stop = args.get("pre_stop_path")
    if stop is not None and not stop.startswith("/"):
        raise ValueError(f"AgentRuntimeArgs.pre_stop_path: {stop!r} is not a path")
    for probe in ("liveness", "readiness", "startup"):
        path = args["probes"][probe]["path"]
        if not path.startswith("/"):
            raise ValueError(f"AgentRuntimeArgs.probes.{probe}.path: {path!r} is not a path")
    bad_env = [k for k in args.get("env", {}) if k in CREDENTIAL_VARIABLES]
    if bad_env:
        raise ValueError(f"AgentRuntimeArgs.env: {bad_env} are static AWS credentials (R20)")
    scaling = args.get("scaling")
    if scaling is not None:
        target = scaling["target"]
        if (target["kind"], target["name"], target["namespace"]) != (
            "StatefulSet",
            agent,
            args["namespace"],
        ):
            raise ValueError(
                f"AgentRuntimeArgs.scaling.target: {dict(target)} is not this agent's StatefulSet"
            )
        if args.get("replicas") is not None:
            raise ValueError("AgentRuntimeArgs.replicas: unset it with scaling (KEDA owns it)")
    _check_monitoring(args.get("monitoring"))
    for caller in args.get("callers", {}).get("agents", []):
        if caller == agent or validators.dns_label(caller, 40):
            raise ValueError(f"AgentRuntimeArgs.callers.agents: {caller!r} is not another agent")
    bedrock = args.get("bedrock")
    if bedrock is not None and (bedrock["namespace"], bedrock["service_account"]) != (
        args["namespace"],
        agent,
    ):
        raise ValueError(
            f"AgentRuntimeArgs.bedrock: role is for {bedrock['namespace']}/"
            f"{bedrock['service_account']}, not this agent's {args['namespace']}/{agent}"
        )


def _check_monitoring(monitoring: AgentMonitoringArgs | None) -> None:
    if monitoring is None:
        return
    where = monitoring["namespace"]
    if validators.dns_label(where):
        raise ValueError(f"AgentRuntimeArgs.monitoring.namespace: {where!r} is not a DNS label")
    window = monitoring.get("restart_window", "15m")
    if validators.prometheus_duration(window):
        raise ValueError(
            f"AgentRuntimeArgs.monitoring.restart_window: {window!r} is not a Prometheus duration"
        )
    percent = monitoring.get("memory_volume_percent", 80)
    if not 1 <= percent <= 99:
        raise ValueError(
            f"AgentRuntimeArgs.monitoring.memory_volume_percent: {percent} must be 1-99"
        )
    critical = monitoring.get("memory_volume_critical_percent", 95)
    if not percent < critical <= 100:
        raise ValueError(
            f"AgentRuntimeArgs.monitoring.memory_volume_critical_percent: {critical} must be "
            f"{percent + 1}-100"
        )
    waiting = monitoring.get("not_running_for", "10m")
    if validators.prometheus_duration(waiting):
        raise ValueError(
            f"AgentRuntimeArgs.monitoring.not_running_for: {waiting!r} is not a Prometheus duration"
        )
    path = monitoring.get("metrics_path")
    if path is not None and not path.startswith("/"):
        raise ValueError(f"AgentRuntimeArgs.monitoring.metrics_path: {path!r} is not a path")
