"""AgentRuntime on its own: a minimal agent (no Bedrock, no KEDA, no monitoring, no SPIFFE)
renders only what it needs, every child is parented and named after the component, and bad
arguments fail with a message naming the input."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from substrate.components.agents.agent_runtime import AgentRuntime, AgentRuntimeArgs, validate_args
from substrate.components.bedrock.bedrock_models import ModelKind, ModelRef
from substrate.components.workloads.elastic_workload import ScaleTargetKind
from tests.helpers import Resources, run_program

ARGS: AgentRuntimeArgs = {
    "agent": "planner",
    "tenant": "research",
    "namespace": "research-agents",
    "image": "public.ecr.aws/acme/planner:1.4.2",
    "cpu": "500m",
    "memory": "1Gi",
    "memory_volume": {"size": "5Gi", "retain": False},
    "probes": {
        "liveness": {"path": "/livez"},
        "readiness": {"path": "/readyz"},
        "startup": {"path": "/livez", "failure_threshold": 30},
    },
    "spiffe": False,
}


@pytest.fixture(scope="module")
def minimal() -> Resources:
    return Resources(run_program(lambda: AgentRuntime("agent-planner", ARGS)))


def test_a_minimal_agent_renders_no_role_scaling_or_rules(minimal: Resources) -> None:
    kinds = sorted(r.type.rsplit(":", 1)[-1] for r in minimal.records if r.custom)
    assert kinds == [
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Service",
        "ServiceAccount",
        "StatefulSet",
    ]
    (component,) = minimal.of_type("substrate:index:AgentRuntime")
    for child in minimal.children(component):
        assert child.name.startswith("agent-planner-"), child.name


def test_defaults_one_replica_deleted_claims_and_no_spiffe_socket(minimal: Resources) -> None:
    sts = minimal.one("kubernetes:apps/v1:StatefulSet").inputs
    spec = sts["spec"]
    assert spec["replicas"] == 1
    assert spec["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Delete",
        "whenScaled": "Delete",
    }
    pod = spec["template"]["spec"]
    assert [v["name"] for v in pod["volumes"]] == ["tmp"]
    (container,) = pod["containers"]
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert container["startupProbe"]["failureThreshold"] == 30
    assert {e["name"]: e["value"] for e in container["env"]} == {
        "SUBSTRATE_AGENT": "planner",
        "SUBSTRATE_TENANT": "research",
        "SUBSTRATE_MEMORY_PATH": "/var/lib/agent/memory",
        # SDK retries (read by the SDK), read timeout and session lifetime (read by the agent)
        "AWS_MAX_ATTEMPTS": "3",
        "AWS_RETRY_MODE": "standard",
        "SUBSTRATE_BEDROCK_READ_TIMEOUT_SECONDS": "3600",
        "SUBSTRATE_SESSION_MAX_SECONDS": "28800",
    }
    assert minimal.waits_for(
        minimal.one("kubernetes:apps/v1:StatefulSet"), minimal.named("agent-planner-pdb").urn
    )


def _with(**changes: Any) -> AgentRuntimeArgs:
    args: Any = copy.deepcopy(ARGS)
    for path, value in changes.items():
        node = args
        *parents, last = path.split("__")
        for key in parents:
            node = node[key]
        node[last] = value
    return args


ROLE: Any = {
    "cluster_name": "c",
    "cluster_arn": "arn:aws:eks:us-east-1:123456789012:cluster/c",
    "namespace": "research-agents",
    "service_account": "someone-else",
    "models": [ModelRef("titan", ModelKind.FOUNDATION_MODEL, "amazon.titan-embed-text-v2:0")],
}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (_with(agent="Planner"), "AgentRuntimeArgs.agent: 'Planner' is not a DNS label"),
        (
            _with(image="public.ecr.aws/acme/planner:latest"),
            "AgentRuntimeArgs.image: 'public.ecr.aws/acme/planner:latest' uses the mutable",
        ),
        (_with(memory="lots"), "AgentRuntimeArgs.memory: 'lots' is not a Kubernetes quantity"),
        (_with(port=80), "AgentRuntimeArgs.port: 80 must be 1024-65535"),
        (_with(run_as_user=0), "AgentRuntimeArgs.run_as_user: must be a non-root UID"),
        (
            _with(env={"AWS_ACCESS_KEY_ID": "x"}),
            "AgentRuntimeArgs.env: ['AWS_ACCESS_KEY_ID'] are static AWS credentials",
        ),
        (
            _with(
                scaling={
                    "target": {
                        "kind": ScaleTargetKind.DEPLOYMENT,
                        "name": "planner",
                        "namespace": "x",
                    },
                    "max_replicas": 2,
                    "triggers": [],
                }
            ),
            "AgentRuntimeArgs.scaling.target:",
        ),
        (
            _with(bedrock=ROLE),
            "AgentRuntimeArgs.bedrock: role is for research-agents/someone-else, not this "
            "agent's research-agents/planner",
        ),
        (
            _with(monitoring={"namespace": "monitoring", "restart_window": "a while"}),
            "AgentRuntimeArgs.monitoring.restart_window: 'a while' is not a Prometheus duration",
        ),
    ],
    ids=["agent", "image", "memory", "port", "uid", "env", "scaling", "bedrock", "window"],
)
def test_bad_arguments_name_the_input(args: AgentRuntimeArgs, message: str) -> None:
    with pytest.raises(ValueError) as err:
        validate_args(args)
    assert str(err.value).startswith(message)
