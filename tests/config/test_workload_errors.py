"""Tenants, Kueue, KEDA and ScalingConfig stack errors: one exact line naming key, value and
what is allowed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from substrate.config import ConfigError
from substrate.config.scaling import ScalingConfig
from substrate.config.schema import parse
from substrate.config.workload_checks import GpuQuotaOvercommitError
from tests.helpers import stack_yaml, typed_config

T = "substrate:tenants"
Q = "substrate:kueue"
P = "substrate:nodePools"
Mutation = Callable[[dict[str, Any]], object]
INTEGRATIONS = (
    "batch/job, deployment, jobset.x-k8s.io/jobset, leaderworkerset.x-k8s.io/leaderworkerset, "
    "pod, ray.io/raycluster, ray.io/rayjob, ray.io/rayservice, "
    "sparkoperator.k8s.io/sparkapplication, statefulset"
)

CASES: list[tuple[str, str, Mutation, str]] = [
    (
        "a tenant without GPU rights asks for GPU quota",
        "prod",
        lambda c: c[T]["data-eng"].__setitem__("gpus", {"training": {"nominal": 4}}),
        'substrate:tenants.data-eng.gpus = ["training"]: grants GPU quota to a tenant without '
        "GPU rights (allowed: no gpus unless gpu is true)",
    ),
    (
        "GPU rights without any GPU quota",
        "prod",
        lambda c: c[T]["inference"].__setitem__("gpus", {}),
        "substrate:tenants.inference.gpus = {}: is empty while gpu is true, so the tenant could "
        "never run GPU work (allowed: a GPU quota (nominal or borrowing) on at least one GPU "
        "pool, or gpu: false)",
    ),
    (
        "lending more GPUs than held",
        "prod",
        lambda c: c[T]["inference"]["gpus"]["inference"].__setitem__("lendingLimit", 30),
        "substrate:tenants.inference.gpus.inference.lendingLimit = 30: is above the nominal "
        "quota (24) (allowed: at most the nominal quota (Kueue lends only what the tenant holds))",
    ),
    (
        "lending more memory than held",
        "prod",
        lambda c: c[T]["inference"]["quota"]["lendingLimit"].__setitem__("memory", "2Ti"),
        'substrate:tenants.inference.quota.lendingLimit.memory = "2Ti": is above the nominal '
        "quota (1536Gi) (allowed: at most the nominal quota (Kueue lends only what the tenant "
        "holds))",
    ),
    (
        "GPU quota on a pool that does not exist",
        "prod",
        lambda c: c[T]["ml-research"]["gpus"].__setitem__("h100", {"nominal": 1}),
        'substrate:tenants.ml-research.gpus.h100 = "h100": is not a pool in substrate:nodePools '
        "(allowed: general, inference, nvme, training)",
    ),
    (
        "GPU quota on a CPU pool",
        "prod",
        lambda c: c[T]["ml-research"]["gpus"].__setitem__("nvme", {"nominal": 1}),
        'substrate:tenants.ml-research.gpus.nvme = "nvme": is not an NVIDIA GPU pool, so its '
        "nodes advertise no nvidia.com/gpu (allowed: pools of NVIDIA GPU families)",
    ),
    (
        "GPU quota on a MIG mixed pool could never be used",
        "prod",
        lambda c: c[P]["training"].__setitem__(
            "gpuSharing", {"mode": "mig", "migStrategy": "mixed"}
        ),
        'substrate:tenants.ml-research.gpus.training = "training": shares GPUs as MIG `mixed` '
        "(nvidia.com/mig-<profile>), so nvidia.com/gpu quota on it could never be used "
        "(allowed: GPU pools without MIG or with migStrategy single)",
    ),
    (
        "GPU quota without CPU to run the pods",
        "dev",
        lambda c: c[T]["inference"]["quota"].update({"cpu": 0, "borrowingLimit": {"cpu": 0}}),
        'substrate:tenants.inference.quota = {"cpu": 0, "memory": "64Gi"}: leaves the tenant no '
        "CPU or memory (nominal or borrowable), so its GPU quota could never be used (allowed: "
        "CPU and memory quota alongside GPU quota)",
    ),
    (
        "a tenant namespace that Kueue owns",
        "prod",
        lambda c: c[T]["data-eng"].__setitem__("namespaces", ["data-eng", "kueue-system"]),
        'substrate:tenants.data-eng.namespaces[1] = "kueue-system": is a namespace of Kueue '
        "(allowed: a namespace of the tenant's own)",
    ),
    (
        "a namespace in two tenants",
        "prod",
        lambda c: c[T]["agents"].__setitem__("namespaces", ["data-eng"]),
        'substrate:tenants.agents.namespaces[0] = "data-eng": is also a namespace of tenant '
        "'data-eng' (allowed: each namespace in one tenant)",
    ),
    (
        "a cluster admin as tenant admin (one access entry per principal)",
        "prod",
        lambda c: c[T]["agents"].__setitem__(
            "admins", ["arn:aws:iam::210987654321:role/substrate-platform-admin"]
        ),
        'substrate:tenants.agents.admins[0] = "arn:aws:iam::210987654321:role/'
        'substrate-platform-admin": is a cluster admin, which already has its EKS access entry '
        "(one per principal) (allowed: principals not listed in substrate:cluster.admins)",
    ),
    (
        "an unknown priority tier",
        "prod",
        lambda c: c[T]["agents"].__setitem__("tier", "urgent"),
        'substrate:tenants.agents.tier = "urgent": is not a priority class in '
        "substrate:kueue.priorityClasses (allowed: batch, inference-critical, preemptible, "
        "training)",
    ),
    (
        "an invalid tenant name",
        "prod",
        lambda c: c[T].__setitem__("ML", c[T].pop("data-eng")),
        'substrate:tenants.ML = "ML": is not a valid tenant name (it names the tenant\'s queues '
        "and labels) (allowed: lowercase letters, digits and '-', at most 63 characters)",
    ),
    (
        "a negative fair-share weight",
        "prod",
        lambda c: c[T]["agents"].__setitem__("fairShareWeight", -1),
        "substrate:tenants.agents.fairShareWeight = -1: is out of range (allowed: 0 (always "
        "last) to 1000)",
    ),
    (
        "tenants without Kueue",
        "dev",
        lambda c: c.pop(Q),
        'substrate:tenants = ["agents", "data-eng", "inference", "ml-research"]: declares '
        "tenants but substrate:kueue is not set (allowed: a substrate:kueue section (tenants "
        "get their queues from Kueue), or no tenants)",
    ),
    (
        "an integration whose operator Substrate does not ship",
        "prod",
        lambda c: c[Q]["integrations"].append("kubeflow.org/pytorchjob"),
        'substrate:kueue.integrations[7] = "kubeflow.org/pytorchjob": needs the Kubeflow '
        "Training Operator, which Substrate does not install (allowed: integrations Substrate "
        f"installs the operator for: {INTEGRATIONS})",
    ),
    (
        "an integration Kueue does not have",
        "prod",
        lambda c: c[Q]["integrations"].append("argoproj.io/workflow"),
        'substrate:kueue.integrations[7] = "argoproj.io/workflow": is not a Kueue v0.19.2 job '
        f"integration (allowed: {INTEGRATIONS})",
    ),
    (
        "fair-sharing strategies in an order Kueue rejects",
        "prod",
        lambda c: c[Q].__setitem__(
            "preemptionStrategies", ["LessThanInitialShare", "LessThanOrEqualToFinalShare"]
        ),
        'substrate:kueue.preemptionStrategies = ["LessThanInitialShare", '
        '"LessThanOrEqualToFinalShare"]: is not a strategy list Kueue accepts (allowed: '
        '["LessThanOrEqualToFinalShare"] or ["LessThanInitialShare"] or '
        '["LessThanOrEqualToFinalShare", "LessThanInitialShare"])',
    ),
    (
        "two tiers with one priority",
        "prod",
        lambda c: c[Q].__setitem__("priorityClasses", {"high": 10, "low": 10}),
        'substrate:kueue.priorityClasses = {"high": 10, "low": 10}: gives two tiers the same '
        "priority (allowed: a distinct value per tier)",
    ),
    (
        "backoff shorter at the end than at the start",
        "prod",
        lambda c: c[Q]["waitForPodsReady"].update(
            {"backoffBaseSeconds": 600, "backoffMaxSeconds": 60}
        ),
        "substrate:kueue.waitForPodsReady.backoffMaxSeconds = 60: is below backoffBaseSeconds "
        "(600) (allowed: at least backoffBaseSeconds)",
    ),
]


@pytest.mark.parametrize(("name", "stack", "mutate", "message"), CASES, ids=[c[0] for c in CASES])
def test_invalid_workload_config_gives_exact_one_line_error(
    name: str, stack: str, mutate: Mutation, message: str
) -> None:
    raw = stack_yaml(stack)
    mutate(raw)
    with pytest.raises(ConfigError) as err:
        typed_config(raw)
    assert str(err.value) == message
    assert "\n" not in str(err.value)


def test_overcommitted_pool_is_a_named_error() -> None:
    """The plan-time invariant: tenants' nominal GPU quota per pool <= the pool's GPU limit."""
    raw = stack_yaml("prod")
    raw[T]["inference"]["gpus"]["inference"]["nominal"] = 28  # + ml-research 0, limit 32: fine
    typed_config(raw)
    raw[T]["agents"].update({"gpu": True, "gpus": {"inference": {"nominal": 5}}})  # 33 > 32
    with pytest.raises(GpuQuotaOvercommitError) as err:
        typed_config(raw)
    assert str(err.value) == (
        "substrate:nodePools.inference.limits.gpu = 32: is below the 33 nvidia.com/gpu the "
        "tenants hold as nominal quota on the pool (inference: 28, agents: 5) (allowed: a limit "
        "of at least 33, or less nominal GPU quota on 'inference' in substrate:tenants)"
    )


def test_overcommit_counts_every_pool_separately() -> None:
    raw = stack_yaml("staging")
    raw[T]["ml-research"]["gpus"]["training"]["nominal"] = 17  # limit 16
    with pytest.raises(GpuQuotaOvercommitError, match=r"nodePools\.training\.limits\.gpu = 16"):
        typed_config(raw)


SCALING = "substrate:agents.scaling"
SQS = "https://sqs.us-east-1.amazonaws.com/210987654321/agent-sessions"
SCALING_CASES: list[tuple[str, dict[str, Any], str]] = [
    (
        "min above max",
        {"minReplicas": 5, "maxReplicas": 2, "triggers": [{"sqs": {"queueUrl": SQS}}]},
        f"{SCALING}.minReplicas = 5: is above maxReplicas (2) (allowed: minReplicas <= "
        "maxReplicas)",
    ),
    (
        "a trigger with two sources",
        {
            "maxReplicas": 2,
            "triggers": [
                {
                    "sqs": {"queueUrl": SQS},
                    "cron": {"start": "0 8 * * *", "end": "0 9 * * *", "desiredReplicas": 1},
                }
            ],
        },
        f'{SCALING}.triggers[0] = ["sqs", "cron"]: sets more than one trigger (allowed: '
        "exactly one of sqs, prometheus, cron, cloudwatch)",
    ),
    (
        "an empty trigger",
        {"maxReplicas": 2, "triggers": [{}]},
        f"{SCALING}.triggers[0] = []: sets no trigger (allowed: exactly one of sqs, prometheus, "
        "cron, cloudwatch)",
    ),
    (
        "not an SQS URL",
        {"maxReplicas": 2, "triggers": [{"sqs": {"queueUrl": "agent-sessions"}}]},
        f'{SCALING}.triggers[0].sqs.queueUrl = "agent-sessions": is not an SQS queue URL '
        '(allowed: "https://sqs.<region>.amazonaws.com/<account>/<queue>")',
    ),
    (
        "no triggers",
        {"maxReplicas": 2, "triggers": []},
        f"{SCALING}.triggers = []: is empty (allowed: at least one trigger)",
    ),
    (
        "a broken cron window",
        {
            "maxReplicas": 2,
            "triggers": [{"cron": {"start": "8am", "end": "0 9 * * *", "desiredReplicas": 1}}],
        },
        f'{SCALING}.triggers[0].cron.start = "8am": is not a five-field cron schedule '
        '(allowed: "0 13 * * 1-5" (UTC))',
    ),
]


@pytest.mark.parametrize(
    ("name", "raw", "message"), SCALING_CASES, ids=[c[0] for c in SCALING_CASES]
)
def test_scaling_config_errors(name: str, raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse(ScalingConfig, raw, SCALING)
    assert str(err.value) == message


def test_scaling_config_defaults_never_scale_to_zero() -> None:
    cfg = parse(ScalingConfig, {"maxReplicas": 4, "triggers": [{"sqs": {"queueUrl": SQS}}]}, "x")
    assert (cfg.min_replicas, cfg.scale_to_zero, cfg.cooldown_seconds) == (1, False, 300)
    assert cfg.triggers[0].kind == "sqs"
