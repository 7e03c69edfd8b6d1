"""The scaling triggers of an ElasticWorkload (KEDA scalers): one TypedDict per kind, and
`Trigger`, which sets exactly one of them (Pulumi's schema analyzer has no unions)."""

from typing import Any, NotRequired, Required, TypedDict


class SqsTrigger(TypedDict, total=False):
    """Scale on SQS queue depth."""

    queue_url: Required[str]
    """Queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)."""
    messages_per_replica: NotRequired[int]
    """Target messages per replica (default 5)."""
    activation_messages: NotRequired[int]
    """Messages above which the workload wakes from zero (default 0)."""


class PrometheusTrigger(TypedDict, total=False):
    """Scale on a PromQL query."""

    server_address: Required[str]
    """Prometheus URL."""
    query: Required[str]
    """PromQL returning one number."""
    threshold: Required[float]
    """Target value per replica."""
    activation_threshold: NotRequired[float]
    """Value above which the workload wakes from zero (default 0)."""


class CronTrigger(TypedDict, total=False):
    """Hold replicas during a recurring window."""

    start: Required[str]
    """Five-field cron start."""
    end: Required[str]
    """Five-field cron end."""
    desired_replicas: Required[int]
    """Replicas inside the window."""
    timezone: NotRequired[str]
    """IANA time zone (default UTC)."""


class CloudWatchTrigger(TypedDict, total=False):
    """Scale on a CloudWatch metric."""

    namespace: Required[str]
    """Metric namespace."""
    metric_name: Required[str]
    """Metric name."""
    target_value: Required[float]
    """Target value per replica."""
    dimensions: NotRequired[dict[str, str]]
    """Dimension name -> value."""
    statistic: NotRequired[str]
    """CloudWatch statistic (default Average)."""
    activation_target_value: NotRequired[float]
    """Value above which the workload wakes (default 0)."""


class Trigger(TypedDict, total=False):
    """One scaling trigger: exactly one of its keys."""

    sqs: NotRequired[SqsTrigger]
    """Scale on SQS queue depth."""
    prometheus: NotRequired[PrometheusTrigger]
    """Scale on a PromQL query."""
    cron: NotRequired[CronTrigger]
    """Hold replicas during a recurring window."""
    cloudwatch: NotRequired[CloudWatchTrigger]
    """Scale on a CloudWatch metric."""


TRIGGER_TYPES = ("sqs", "prometheus", "cron", "cloudwatch")
AWS_TRIGGERS = ("sqs", "cloudwatch")


def trigger_type(trigger: Trigger) -> str:
    """The kind of a trigger: its one key (ValueError unless exactly one is set)."""
    kinds = [k for k in TRIGGER_TYPES if trigger.get(k) is not None]
    if len(kinds) != 1:
        raise ValueError(
            f"ElasticWorkloadArgs.triggers: {sorted(trigger)} must set exactly one of "
            f"{', '.join(TRIGGER_TYPES)}"
        )
    return kinds[0]


def trigger_body(trigger: Trigger) -> Any:
    return trigger[trigger_type(trigger)]  # type: ignore[literal-required]
