"""The elastic-workload building block: KEDA ScaledObject + Pod Identity TriggerAuthentication,
valid against the KEDA v2.20.2 CRDs, never scaling to zero unless asked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from substrate.components.workloads.elastic_workload import (
    ElasticWorkload,
    ElasticWorkloadArgs,
    ScaleTarget,
    ScaleTargetKind,
    keda_permissions,
    sqs_queue_arn,
)
from substrate.config.scaling import ScalingConfig
from substrate.config.schema import parse
from substrate.layers.workloads import MANAGED_PROMETHEUS_URL, elastic_args
from substrate.plan.manifests import manifest
from tests.crds import validation_errors
from tests.helpers import Resources, run_program

SO = "kubernetes:keda.sh/v1alpha1:ScaledObject"
TA = "kubernetes:keda.sh/v1alpha1:TriggerAuthentication"
QUEUE = "https://sqs.us-east-1.amazonaws.com/210987654321/agent-sessions"
AGENT: ElasticWorkloadArgs = {
    "target": {
        "kind": ScaleTargetKind.STATEFUL_SET,
        "name": "support-agent",
        "namespace": "agents",
    },
    "max_replicas": 20,
    "triggers": [
        {"sqs": {"queue_url": QUEUE, "messages_per_replica": 10}},
        {
            "prometheus": {
                "server_address": MANAGED_PROMETHEUS_URL,
                "query": 'sum(agent_active_sessions{namespace="agents"})',
                "threshold": 25,
            }
        },
        {
            "cron": {
                "start": "0 8 * * 1-5",
                "end": "0 20 * * 1-5",
                "desired_replicas": 2,
                "timezone": "America/New_York",
            }
        },
        {
            "cloudwatch": {
                "namespace": "AWS/SQS",
                "metric_name": "ApproximateAgeOfOldestMessage",
                "dimensions": {"QueueName": "agent-sessions"},
                "target_value": 30,
            }
        },
    ],
    "region": "us-east-1",
}


def _run(args: ElasticWorkloadArgs) -> Resources:
    return Resources(run_program(lambda: ElasticWorkload("support-agent", args)))


def test_scaled_object_targets_the_workload_and_keeps_one_replica_by_default() -> None:
    spec = _run(AGENT).one(SO).inputs["spec"]
    assert spec["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "name": "support-agent",
    }
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (1, 20)
    assert "idleReplicaCount" not in spec  # KEDA's own default min is 0: never relied on
    assert (spec["cooldownPeriod"], spec["pollingInterval"]) == (300, 30)


def test_scale_to_zero_only_when_asked() -> None:
    spec = _run({**AGENT, "scale_to_zero": True, "min_replicas": 2}).one(SO).inputs["spec"]
    assert (spec["idleReplicaCount"], spec["minReplicaCount"]) == (0, 2)


def test_triggers_carry_keda_metadata_and_aws_ones_use_pod_identity() -> None:
    resources = _run(AGENT)
    sqs, prom, cron, cloudwatch = resources.one(SO).inputs["spec"]["triggers"]
    assert sqs == {
        "type": "aws-sqs-queue",
        "metadata": {
            "queueURL": QUEUE,
            "queueLength": "10",
            "activationQueueLength": "0",
            "awsRegion": "us-east-1",
        },
        "authenticationRef": {"name": "support-agent-aws"},
    }
    assert prom["type"] == "prometheus" and "authenticationRef" not in prom
    assert prom["metadata"]["threshold"] == "25"
    assert cron["metadata"] == {
        "timezone": "America/New_York",
        "start": "0 8 * * 1-5",
        "end": "0 20 * * 1-5",
        "desiredReplicas": "2",
    }
    assert cloudwatch["metadata"]["dimensionName"] == "QueueName"
    assert cloudwatch["authenticationRef"] == {"name": "support-agent-aws"}
    auth = resources.one(TA).inputs
    assert auth["metadata"]["namespace"] == "agents"
    assert auth["spec"] == {"podIdentity": {"provider": "aws"}}  # never keys or Secrets


def test_a_workload_role_is_assumed_by_keda() -> None:
    role = "arn:aws:iam::210987654321:role/support-agent-scaler"
    auth = _run({**AGENT, "role_arn": role}).one(TA).inputs
    assert auth["spec"] == {"podIdentity": {"provider": "aws", "roleArn": role}}


def test_no_trigger_authentication_without_aws_triggers() -> None:
    args: ElasticWorkloadArgs = {**AGENT, "triggers": [AGENT["triggers"][1]]}
    assert _run(args).of_type(TA) == []


@pytest.mark.crds
@pytest.mark.parametrize("scale_to_zero", [False, True])
def test_rendered_keda_objects_match_the_crds(crds: Path, scale_to_zero: bool) -> None:
    resources = _run({**AGENT, "scale_to_zero": scale_to_zero})
    objects = [manifest(r) for r in resources.of_type(SO) + resources.of_type(TA)]
    assert len(objects) == 2
    for obj in objects:
        assert validation_errors(crds, obj) == [], obj["kind"]


def test_keda_permissions_cover_exactly_the_aws_triggers() -> None:
    prom_only: ElasticWorkloadArgs = {**AGENT, "triggers": [AGENT["triggers"][1]]}
    own_role: ElasticWorkloadArgs = {
        **AGENT,
        "role_arn": "arn:aws:iam::210987654321:role/support-agent-scaler",
    }
    found = keda_permissions([AGENT, prom_only])
    assert found.sqs_queue_arns == ("arn:aws:sqs:us-east-1:210987654321:agent-sessions",)
    assert found.cloudwatch_metrics is True
    assert found.assume_role_arns == ()
    # A workload that brings its own role: KEDA only needs to assume it.
    mine = keda_permissions([own_role])
    assert (mine.sqs_queue_arns, mine.cloudwatch_metrics) == ((), False)
    assert mine.assume_role_arns == ("arn:aws:iam::210987654321:role/support-agent-scaler",)
    assert keda_permissions([prom_only]) == keda_permissions([])


def test_queue_arns_follow_the_partition() -> None:
    assert sqs_queue_arn("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q") == (
        "arn:aws-cn:sqs:cn-north-1:123456789012:q"
    )
    assert sqs_queue_arn("https://sqs.us-gov-west-1.amazonaws.com/123456789012/q.fifo") == (
        "arn:aws-us-gov:sqs:us-gov-west-1:123456789012:q.fifo"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"min_replicas": 0}, "ElasticWorkloadArgs.min_replicas: 0 must be 1..max_replicas"),
        ({"min_replicas": 30}, "ElasticWorkloadArgs.min_replicas: 30 must be 1..max_replicas"),
        ({"triggers": []}, "ElasticWorkloadArgs.triggers: empty"),
        ({"region": ""}, "ElasticWorkloadArgs.region: required for sqs and cloudwatch"),
        (
            {"target": {"kind": "DaemonSet", "name": "x", "namespace": "agents"}},
            "ElasticWorkload args: target.kind is 'DaemonSet'; allowed: "
            "ScaleTargetKind.DEPLOYMENT or ScaleTargetKind.STATEFUL_SET",
        ),
        (
            {"target": {"kind": "StatefulSet", "name": "x", "namespace": "agents"}},
            "ElasticWorkload args: target.kind is 'StatefulSet'; allowed: "
            "ScaleTargetKind.DEPLOYMENT or ScaleTargetKind.STATEFUL_SET "
            "(did you mean ScaleTargetKind.STATEFUL_SET?)",
        ),
        (
            {"triggers": [{**AGENT["triggers"][0], **AGENT["triggers"][2]}]},
            "ElasticWorkloadArgs.triggers: ['cron', 'sqs'] must set exactly one of sqs, "
            "prometheus, cron, cloudwatch",
        ),
        (
            {"triggers": [{}]},
            "ElasticWorkloadArgs.triggers: [] must set exactly one of",
        ),
        (
            {"triggers": [{"sqs": {"queue_url": QUEUE, "message_per_replica": 3}}]},
            "triggers[0].sqs.message_per_replica is not a key; did you mean messages_per_replica?",
        ),
        (
            {"triggers": [{"type": "sqs", "queue_url": QUEUE}]},
            "triggers[0].type is not a key; allowed: sqs, prometheus, cron, cloudwatch",
        ),
        (
            {"triggers": [{"sqs": {"queue_url": "http://example.com/q"}}]},
            "is not an SQS queue URL",
        ),
        ({"role_arn": "arn:aws:iam::210987654321:user/me"}, "is not an IAM role ARN"),
    ],
)
def test_invalid_args_are_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        _run({**AGENT, **change})  # type: ignore[typeddict-item]


def test_scaling_config_maps_onto_the_component() -> None:
    """What a later section (agents) does: embed ScalingConfig and map it with elastic_args."""
    scaling = parse(
        ScalingConfig,
        {
            "maxReplicas": 8,
            "scaleToZero": True,
            "cooldownSeconds": 900,
            "triggers": [
                {"sqs": {"queueUrl": QUEUE, "messagesPerReplica": 3}},
                {"prometheus": {"query": "sum(agent_active_sessions)", "threshold": 10}},
            ],
        },
        "substrate:agents.support.scaling",
    )
    target: ScaleTarget = {
        "kind": ScaleTargetKind.STATEFUL_SET,
        "name": "support",
        "namespace": "agents",
    }
    args = elastic_args(scaling, target, "us-east-1", MANAGED_PROMETHEUS_URL)
    spec = _run(args).one(SO).inputs["spec"]
    assert (spec["idleReplicaCount"], spec["minReplicaCount"], spec["cooldownPeriod"]) == (
        0,
        1,
        900,
    )
    assert spec["triggers"][1]["metadata"]["serverAddress"] == (
        "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
    )
    with pytest.raises(ValueError, match="no serverAddress and no platform Prometheus"):
        elastic_args(scaling, target, "us-east-1", None)  # type: ignore[arg-type]


def test_keda_objects_wait_for_what_the_component_waits_for() -> None:
    def program() -> None:
        release = k8s.core.v1.ConfigMap("keda-release", metadata={"name": "stand-in"})
        ElasticWorkload("support-agent", AGENT, opts=pulumi.ResourceOptions(depends_on=[release]))

    resources = Resources(run_program(program))
    release = resources.named("keda-release").urn
    for typ in (SO, TA):
        assert resources.waits_for(resources.one(typ), release)
