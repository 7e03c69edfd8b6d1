"""Elastic workloads as data: the config type a section embeds to make a Deployment or
StatefulSet scale with demand through KEDA (``substrate.components.workloads.elastic_workload``).

Not a stack section of its own: agents (and any later section) embed ``ScalingConfig`` and the
layer maps it with ``substrate.layers.workloads.elastic_args``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

from substrate.components.core import validators
from substrate.config.checks import between, non_empty, rule
from substrate.config.schema import ConfigError, Invalid, doc

IamRoleArn = Annotated[str, rule(validators.iam_principal_arn)]
Cron = Annotated[str, rule(validators.cron)]


def _timezone(value: str) -> None:
    if not re.fullmatch(r"[A-Za-z_]+(/[A-Za-z0-9_+-]+)*", value):
        raise Invalid("is not an IANA time zone name", '"UTC", "America/New_York"')


def _query(value: str) -> None:
    if not value.strip():
        raise Invalid("is empty", "a PromQL expression returning one number")


@dataclass(frozen=True)
class SqsTriggerConfig:
    """Scale on the depth of an SQS queue (KEDA `aws-sqs-queue`, GetQueueAttributes)."""

    queue_url: Annotated[str, rule(validators.sqs_queue_url)] = doc("Queue URL.")
    messages_per_replica: Annotated[int, between(1, 100000)] = doc(
        "Target visible + in-flight messages per replica (KEDA `queueLength`).", default=5
    )
    activation_messages: Annotated[int, between(0, 100000)] = doc(
        "Messages above which the workload wakes from zero (KEDA `activationQueueLength`).",
        default=0,
    )


@dataclass(frozen=True)
class PrometheusTriggerConfig:
    """Scale on a PromQL query, e.g. active agent sessions or requests queued in a server."""

    query: Annotated[str, _query] = doc("PromQL returning one number.")
    threshold: float = doc("Target value per replica.")
    activation_threshold: float = doc(
        "Value above which the workload wakes from zero.", default=0.0
    )
    server_address: str | None = doc(
        "Prometheus URL (default: the platform's Prometheus).", default=None
    )


@dataclass(frozen=True)
class CronTriggerConfig:
    """Hold a replica count during a recurring window (e.g. business hours)."""

    start: Cron = doc('Window start, five-field cron, e.g. "0 8 * * 1-5".')
    end: Cron = doc('Window end, e.g. "0 20 * * 1-5".')
    desired_replicas: Annotated[int, between(1, 1000)] = doc("Replicas inside the window.")
    timezone: Annotated[str, _timezone] = doc("IANA time zone of the schedule.", default="UTC")


@dataclass(frozen=True)
class CloudWatchTriggerConfig:
    """Scale on a CloudWatch metric (KEDA `aws-cloudwatch`, GetMetricData)."""

    namespace: str = doc('Metric namespace, e.g. "AWS/SQS".')
    metric_name: str = doc("Metric name.")
    target_value: float = doc("Target value per replica.")
    dimensions: dict[str, str] = doc("Dimension name -> value.", factory=dict)
    statistic: Literal["Average", "Sum", "Maximum", "Minimum", "SampleCount"] = doc(
        "Statistic.", default="Average"
    )
    activation_target_value: float = doc("Value above which the workload wakes.", default=0.0)


@dataclass(frozen=True)
class TriggerConfig:
    """One scaling trigger: set exactly one of the keys."""

    sqs: SqsTriggerConfig | None = doc("SQS queue depth.", default=None)
    prometheus: PrometheusTriggerConfig | None = doc("Prometheus query.", default=None)
    cron: CronTriggerConfig | None = doc("Cron window.", default=None)
    cloudwatch: CloudWatchTriggerConfig | None = doc("CloudWatch metric.", default=None)

    @property
    def kind(self) -> str:
        return next(k for k in ("sqs", "prometheus", "cron", "cloudwatch") if getattr(self, k))

    def check(self, path: str) -> None:
        chosen = [k for k in ("sqs", "prometheus", "cron", "cloudwatch") if getattr(self, k)]
        if len(chosen) != 1:
            raise ConfigError(
                path,
                chosen,
                "sets no trigger" if not chosen else "sets more than one trigger",
                "exactly one of sqs, prometheus, cron, cloudwatch",
            )


@dataclass(frozen=True)
class ScalingConfig:
    """How a workload scales: replica bounds, cooldown and the triggers (any active trigger
    scales up). AWS triggers authenticate through EKS Pod Identity, never static keys."""

    max_replicas: Annotated[int, between(1, 1000)] = doc("Most replicas.")
    triggers: Annotated[list[TriggerConfig], non_empty("trigger")] = doc("Scaling triggers.")
    min_replicas: Annotated[int, between(1, 1000)] = doc(
        "Fewest replicas while any trigger is active.", default=1
    )
    scale_to_zero: bool = doc(
        "Scale to zero replicas while every trigger is inactive (never unless asked).",
        default=False,
    )
    cooldown_seconds: Annotated[int, between(0, 86400)] = doc(
        "How long after the last active trigger before scaling to zero.", default=300
    )
    polling_interval_seconds: Annotated[int, between(1, 3600)] = doc(
        "How often KEDA checks the triggers.", default=30
    )
    role_arn: IamRoleArn | None = doc(
        "IAM role KEDA assumes for this workload's AWS triggers (default: KEDA's own Pod "
        "Identity role, scoped to the configured queues and metrics).",
        default=None,
    )

    def check(self, path: str) -> None:
        if self.min_replicas > self.max_replicas:
            raise ConfigError(
                f"{path}.minReplicas",
                self.min_replicas,
                f"is above maxReplicas ({self.max_replicas})",
                "minReplicas <= maxReplicas",
            )
