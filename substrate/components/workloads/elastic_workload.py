"""The building block that makes a workload elastic: a KEDA ScaledObject for a Deployment or
StatefulSet, and, when a trigger reads AWS, a TriggerAuthentication through EKS Pod Identity.

- Replicas: between `min_replicas` and `max_replicas` while any trigger is active; down to zero
  only with `scale_to_zero` (KEDA `idleReplicaCount: 0` after `cooldown_seconds` with every
  trigger inactive). KEDA itself defaults `minReplicaCount` to 0; Substrate never relies on it.
- Triggers (KEDA v2.20.2 scaler metadata): `aws-sqs-queue` (queueURL, queueLength,
  activationQueueLength, awsRegion), `prometheus` (serverAddress, query, threshold,
  activationThreshold), `cron` (timezone, start, end, desiredReplicas), `aws-cloudwatch`
  (namespace, metricName, dimensionName/dimensionValue, targetMetricValue,
  activationTargetMetricValue, metricStat, awsRegion).
- AWS triggers authenticate with `podIdentity.provider: aws` (KEDA's own Pod Identity role, or a
  `role_arn` KEDA assumes): never keys, never Secrets.

`keda_permissions` lists what KEDA's role needs for a set of elastic workloads, so the KEDA
add-on gets exactly that.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NotRequired, Required, TypedDict

import pulumi
from pulumi_kubernetes.apiextensions import CustomResource
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from substrate.components.core import validators
from substrate.components.core._args import check_args
from substrate.components.core.tokens import component_args
from substrate.components.workloads.keda_triggers import (
    AWS_TRIGGERS,
    Trigger,
    trigger_body,
    trigger_type,
)

API_VERSION = "keda.sh/v1alpha1"
MANAGED_BY = {"app.kubernetes.io/managed-by": "substrate"}


class ScaleTargetKind(StrEnum):
    """The apps/v1 kinds KEDA scales."""

    DEPLOYMENT = "Deployment"
    STATEFUL_SET = "StatefulSet"


class ScaleTarget(TypedDict, total=False):
    """The workload KEDA scales."""

    kind: Required[ScaleTargetKind]
    """Kind of the target (apps/v1)."""
    name: Required[str]
    """Name of the target."""
    namespace: Required[str]
    """Namespace of the target; the ScaledObject is created there."""


class ScaleDownArgs(TypedDict, total=False):
    """How the HPA KEDA creates removes replicas between max and min (not to zero: that is
    `cooldown_seconds`): Kubernetes HPA `behavior.scaleDown`."""

    stabilization_seconds: Required[int]
    """Act on the highest recommendation of this window (0-3600)."""
    pods_per_period: Required[int]
    """Remove at most this many pods per period (>= 1)."""
    period_seconds: Required[int]
    """The period (1-1800)."""


class ElasticWorkloadArgs(TypedDict, total=False):
    """Arguments of :class:`ElasticWorkload`."""

    target: Required[ScaleTarget]
    """The Deployment or StatefulSet to scale."""
    max_replicas: Required[int]
    """Most replicas (1-1000)."""
    triggers: Required[Sequence[Trigger]]
    """Scaling triggers (at least one); any active trigger scales up."""
    min_replicas: NotRequired[int]
    """Fewest replicas while a trigger is active (>= 1). Default 1."""
    scale_to_zero: NotRequired[bool]
    """Scale to zero while all triggers are inactive. Default false."""
    cooldown_seconds: NotRequired[int]
    """Wait after the last active trigger before scaling to zero. Default 300."""
    polling_interval_seconds: NotRequired[int]
    """How often KEDA checks the triggers. Default 30."""
    region: NotRequired[str]
    """AWS Region of AWS triggers (required with sqs/cloudwatch triggers)."""
    role_arn: NotRequired[str]
    """IAM role KEDA assumes for AWS triggers (default: KEDA's own Pod Identity role)."""
    scale_down: NotRequired[ScaleDownArgs]
    """HPA scale-down behaviour (default: Kubernetes' own, 300 s window, any number of pods)."""


def _check_trigger(trigger: Trigger) -> None:
    kind, t = trigger_type(trigger), trigger_body(trigger)
    if kind == "sqs" and validators.sqs_queue_url(t["queue_url"]):
        raise ValueError(
            f"ElasticWorkloadArgs.triggers: {t['queue_url']!r} is not an SQS queue URL"
        )
    if kind == "cron":
        for key in ("start", "end"):
            if validators.cron(t[key]):
                raise ValueError(
                    f"ElasticWorkloadArgs.triggers: cron {key} {t[key]!r} is not a "
                    "five-field cron schedule"
                )


def _check(args: ElasticWorkloadArgs) -> None:
    target = args["target"]
    if target["kind"] not in ("Deployment", "StatefulSet"):
        raise ValueError(
            f"ElasticWorkloadArgs.target.kind: {target['kind']!r} is not Deployment or StatefulSet"
        )
    for key in ("name", "namespace"):
        if validators.dns_label(target[key], 253 if key == "name" else 63):
            raise ValueError(
                f"ElasticWorkloadArgs.target.{key}: {target[key]!r} is not a valid name"
            )
    low, high = args.get("min_replicas", 1), args["max_replicas"]
    if not 1 <= low <= high <= 1000:
        raise ValueError(
            f"ElasticWorkloadArgs.min_replicas: {low} must be 1..max_replicas ({high}); "
            "use scale_to_zero to reach zero"
        )
    if not args["triggers"]:
        raise ValueError("ElasticWorkloadArgs.triggers: empty; a ScaledObject needs a trigger")
    kinds = [trigger_type(t) for t in args["triggers"]]
    if any(k in AWS_TRIGGERS for k in kinds) and not args.get("region"):
        raise ValueError("ElasticWorkloadArgs.region: required for sqs and cloudwatch triggers")
    for trigger in args["triggers"]:
        _check_trigger(trigger)
    role = args.get("role_arn")
    if role is not None and (validators.iam_principal_arn(role) or ":role/" not in role):
        raise ValueError(f"ElasticWorkloadArgs.role_arn: {role!r} is not an IAM role ARN")
    down = args.get("scale_down")
    if down is not None and not (
        0 <= down["stabilization_seconds"] <= 3600
        and down["pods_per_period"] >= 1
        and 1 <= down["period_seconds"] <= 1800
    ):
        raise ValueError(
            f"ElasticWorkloadArgs.scale_down: {dict(down)} is outside the HPA's limits "
            "(stabilization 0-3600 s, at least 1 pod per period of 1-1800 s)"
        )


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def trigger_manifest(trigger: Trigger, region: str | None, auth: str | None) -> dict[str, Any]:
    """One KEDA trigger (metadata values are strings, as the CRD requires)."""
    kind, t = trigger_type(trigger), trigger_body(trigger)
    if kind == "sqs":
        body = {
            "type": "aws-sqs-queue",
            "metadata": {
                "queueURL": t["queue_url"],
                "queueLength": str(t.get("messages_per_replica", 5)),
                "activationQueueLength": str(t.get("activation_messages", 0)),
                "awsRegion": str(region),
            },
        }
    elif kind == "prometheus":
        body = {
            "type": "prometheus",
            "metadata": {
                "serverAddress": t["server_address"],
                "query": t["query"],
                "threshold": _num(t["threshold"]),
                "activationThreshold": _num(t.get("activation_threshold", 0)),
            },
        }
    elif kind == "cron":
        body = {
            "type": "cron",
            "metadata": {
                "timezone": t.get("timezone", "UTC"),
                "start": t["start"],
                "end": t["end"],
                "desiredReplicas": str(t["desired_replicas"]),
            },
        }
    else:
        dims = dict(sorted(t.get("dimensions", {}).items()))
        meta = {
            "namespace": t["namespace"],
            "metricName": t["metric_name"],
            "targetMetricValue": _num(t["target_value"]),
            "activationTargetMetricValue": _num(t.get("activation_target_value", 0)),
            "metricStat": t.get("statistic", "Average"),
            "awsRegion": str(region),
        }
        if dims:
            meta["dimensionName"] = ";".join(dims)
            meta["dimensionValue"] = ";".join(dims.values())
        body = {"type": "aws-cloudwatch", "metadata": meta}
    if auth is not None and kind in AWS_TRIGGERS:
        body["authenticationRef"] = {"name": auth}
    return body


def scaled_object_spec(args: ElasticWorkloadArgs, auth: str | None) -> dict[str, Any]:
    target = args["target"]
    spec: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": target["kind"], "name": target["name"]},
        "minReplicaCount": args.get("min_replicas", 1),
        "maxReplicaCount": args["max_replicas"],
        "cooldownPeriod": args.get("cooldown_seconds", 300),
        "pollingInterval": args.get("polling_interval_seconds", 30),
        "triggers": [trigger_manifest(t, args.get("region"), auth) for t in args["triggers"]],
    }
    if args.get("scale_to_zero", False):
        spec["idleReplicaCount"] = 0
    down = args.get("scale_down")
    if down is not None:
        spec["advanced"] = {
            "horizontalPodAutoscalerConfig": {
                "behavior": {
                    "scaleDown": {
                        "stabilizationWindowSeconds": down["stabilization_seconds"],
                        "policies": [
                            {
                                "type": "Pods",
                                "value": down["pods_per_period"],
                                "periodSeconds": down["period_seconds"],
                            }
                        ],
                    }
                }
            }
        }
    return spec


def sqs_queue_arn(url: str) -> str:
    match = validators.SQS_QUEUE_URL.match(url)
    if match is None:
        raise ValueError(f"{url!r} is not an SQS queue URL")
    region = match["region"]
    return f"arn:{validators.partition_of(region)}:sqs:{region}:{match['account']}:{match['queue']}"


@dataclass(frozen=True)
class KedaPermissions:
    """What KEDA's own role needs for a set of elastic workloads."""

    sqs_queue_arns: tuple[str, ...] = ()
    cloudwatch_metrics: bool = False
    assume_role_arns: tuple[str, ...] = ()


def keda_permissions(workloads: Iterable[ElasticWorkloadArgs]) -> KedaPermissions:
    """Queues and metrics KEDA reads with its own role; roles it assumes for workloads that
    bring their own (whose triggers it then reads with that role instead)."""
    queues: set[str] = set()
    cloudwatch = False
    roles: set[str] = set()
    for args in workloads:
        aws_triggers = [t for t in args["triggers"] if trigger_type(t) in AWS_TRIGGERS]
        if not aws_triggers:
            continue
        if args.get("role_arn"):
            roles.add(str(args.get("role_arn")))
            continue
        for trigger in aws_triggers:
            if trigger_type(trigger) == "sqs":
                queues.add(sqs_queue_arn(trigger_body(trigger)["queue_url"]))
            else:
                cloudwatch = True
    return KedaPermissions(tuple(sorted(queues)), cloudwatch, tuple(sorted(roles)))


class ElasticWorkload(pulumi.ComponentResource):
    """ScaledObject (+ TriggerAuthentication for AWS triggers) for one workload."""

    def __init__(
        self, name: str, args: ElasticWorkloadArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__(*component_args("substrate:workloads:ElasticWorkload", name, opts))
        _check(args)
        target = args["target"]
        # KEDA CRs wait for the KEDA release through this component's depends_on: a child
        # registers only after its parent, which registers only after its dependencies.
        child = pulumi.ResourceOptions(parent=self)
        labels = {**MANAGED_BY, "app.kubernetes.io/name": target["name"]}
        auth_name = None
        depends: list[pulumi.Resource] = []
        if any(trigger_type(t) in AWS_TRIGGERS for t in args["triggers"]):
            auth_name = f"{target['name']}-aws"
            identity: dict[str, str] = {"provider": "aws"}
            if args.get("role_arn"):
                identity["roleArn"] = str(args.get("role_arn"))
            depends.append(
                CustomResource(
                    f"{name}-trigger-auth",
                    api_version=API_VERSION,
                    kind="TriggerAuthentication",
                    metadata=ObjectMetaArgs(
                        name=auth_name, namespace=target["namespace"], labels=labels
                    ),
                    spec={"podIdentity": identity},
                    opts=child,
                )
            )
        CustomResource(
            f"{name}-scaled-object",
            api_version=API_VERSION,
            kind="ScaledObject",
            metadata=ObjectMetaArgs(
                name=target["name"], namespace=target["namespace"], labels=labels
            ),
            spec=scaled_object_spec(args, auth_name),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
        )
        self.register_outputs(
            {
                "target": f"{target['kind']}/{target['namespace']}/{target['name']}",
                "minReplicas": 0 if args.get("scale_to_zero") else args.get("min_replicas", 1),
                "maxReplicas": args["max_replicas"],
            }
        )
