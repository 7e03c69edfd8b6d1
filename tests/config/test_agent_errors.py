"""substrate:agents and the tenant model grants: exact one-line errors, named error classes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from substrate.config import ConfigError
from substrate.config.agent_checks import MemoryVolumeTooLargeError, UnknownTenantError
from substrate.config.bedrock import ModelNotGrantedError, UnknownModelError
from tests.helpers import config_error, stack_yaml, typed_config

Mutation = Callable[[dict[str, Any]], object]
ECR = "210987654321.dkr.ecr.us-east-1.amazonaws.com"


def _agent(name: str, **values: Any) -> Mutation:
    return lambda c: c["substrate:agents"][name].update(values)


def _without(name: str, *keys: str) -> Mutation:
    def mutate(c: dict[str, Any]) -> None:
        for key in keys:
            c["substrate:agents"][name].pop(key)

    return mutate


def _scaling(name: str, **values: Any) -> Mutation:
    return lambda c: c["substrate:agents"][name]["scaling"].update(values)


SNAPSHOTS = {"schedule": "0 */6 * * *", "keep": 8}
CASES: list[tuple[str, str, Mutation, str]] = [
    (
        "a snapshot image from a registry admission refuses",
        "prod",
        _agent("research", snapshots={**SNAPSHOTS, "image": "docker.io/bitnami/kubectl:1.35"}),
        'substrate:agents.research.snapshots.image = "docker.io/bitnami/kubectl:1.35": is not '
        "from a registry admission allows (R28), so its pods would be refused (allowed: images "
        "under 210987654321.dkr.ecr.us-east-1.amazonaws.com, public.ecr.aws/docker/library, "
        "nvcr.io/nvidia, ghcr.io/spiffe)",
    ),
    (
        "a snapshot image by tag outside development",
        "prod",
        _agent("research", snapshots={**SNAPSHOTS, "image": f"{ECR}/platform/kubectl:1.35.0"}),
        f'substrate:agents.research.snapshots.image = "{ECR}/platform/kubectl:1.35.0": has no '
        "digest in a production environment, so its tag can be moved to another image under "
        "the running agent (allowed: <registry>/<repository>:<tag>@sha256:<digest> (tags alone "
        "only in development))",
    ),
    (
        "a snapshot schedule that is not cron",
        "prod",
        _agent("research", snapshots={**SNAPSHOTS, "schedule": "every 6h", "image": "x:1"}),
        'substrate:agents.research.snapshots.schedule = "every 6h": is not a five-field cron '
        'schedule (allowed: "0 13 * * 1-5" (UTC))',
    ),
    (
        "a tag without a digest outside development",
        "staging",
        _agent("support", image="123456789012.dkr.ecr.us-west-2.amazonaws.com/agents/s:1.0"),
        'substrate:agents.support.image = "123456789012.dkr.ecr.us-west-2.amazonaws.com/agents/'
        's:1.0": has no digest in a staging environment, so its tag can be moved to another '
        "image under the running agent (allowed: <registry>/<repository>:<tag>@sha256:<digest> "
        "(tags alone only in development))",
    ),
    (
        "SDK retry setting in env, which timeouts sets",
        "prod",
        _agent("support", env={"AWS_MAX_ATTEMPTS": "10"}),
        'substrate:agents.support.env = {"AWS_MAX_ATTEMPTS": "10"}: sets AWS_MAX_ATTEMPTS, which '
        "Substrate sets itself (allowed: names without the SUBSTRATE_ prefix, other than "
        "AWS_REGION, AWS_MAX_ATTEMPTS, AWS_RETRY_MODE)",
    ),
    (
        "paging threshold not above the warning",
        "prod",
        _agent("research", alerts={"memoryVolumePercent": 75, "memoryVolumeCriticalPercent": 70}),
        "substrate:agents.research.alerts.memoryVolumeCriticalPercent = 70: is not above "
        "memoryVolumePercent (75) (allowed: 76-100)",
    ),
    (
        "scale-down period beyond the HPA's limit",
        "prod",
        _agent("research", drain={"scaleDownPeriodSeconds": 3600}),
        "substrate:agents.research.drain.scaleDownPeriodSeconds = 3600: is out of range "
        "(allowed: 1 to 1800)",
    ),
    (
        "caller that is not another agent of the tenant",
        "prod",
        _agent("research", callers={"agents": ["support", "planner"]}),
        'substrate:agents.research.callers.agents[1] = "planner": is not another agent of '
        "tenant 'agents' (allowed: support)",
    ),
    (
        "an agent calling itself",
        "prod",
        _agent("research", callers={"agents": ["research"]}),
        'substrate:agents.research.callers.agents[0] = "research": is not another agent of '
        "tenant 'agents' (allowed: support)",
    ),
    (
        "unknown tenant",
        "prod",
        _agent("support", tenant="support-team"),
        'substrate:agents.support.tenant = "support-team": is not a tenant in substrate:tenants '
        "(allowed: agents, data-eng, inference, ml-research)",
    ),
    (
        "model not granted to the tenant",
        "prod",
        lambda c: c["substrate:tenants"]["agents"].update(models=["nova-pro"]),
        'substrate:agents.research.models[0] = "claude-sonnet": is not granted to tenant '
        "'agents' (allowed: models granted to agents: nova-pro)",
    ),
    (
        "agent names a model outside the catalog",
        "prod",
        _agent("support", models=["claude-sonnet", "gpt-5"]),
        'substrate:agents.support.models[1] = "gpt-5": is not a model of substrate:bedrock.models '
        "(allowed: claude-sonnet, nova-pro, titan-embed)",
    ),
    (
        "tenant granted a model outside the catalog",
        "prod",
        lambda c: c["substrate:tenants"]["agents"].update(models=["claude-opus"]),
        'substrate:tenants.agents.models[0] = "claude-opus": is not a model of '
        "substrate:bedrock.models (allowed: claude-sonnet, nova-pro, titan-embed)",
    ),
    (
        "memory volume over the cap",
        "prod",
        _agent("research", memoryVolume={"size": "500Gi"}),
        'substrate:agents.research.memoryVolume.size = "500Gi": is above the memory-volume cap '
        "of 200Gi (allowed: at most 200Gi (substrate:storage.maxAgentMemoryVolume))",
    ),
    (
        "a single fixed replica in production",
        "prod",
        lambda c: (_without("support", "scaling")(c), _agent("support", replicas=1)(c)),
        "substrate:agents.support.replicas = 1: runs a single replica in a production "
        "environment, so a drain or restart interrupts every session (R31) (allowed: at least 2 "
        "when environment.tier is production)",
    ),
    (
        "default replicas in production",
        "prod",
        _without("support", "scaling"),
        "substrate:agents.support.replicas = 1: runs a single replica in a production "
        "environment, so a drain or restart interrupts every session (R31) (allowed: at least 2 "
        "when environment.tier is production)",
    ),
    (
        "scaling floor of one in production",
        "prod",
        _scaling("research", minReplicas=1),
        "substrate:agents.research.scaling.minReplicas = 1: runs a single replica in a "
        "production environment, so a drain or restart interrupts every session (R31) (allowed: "
        "at least 2 when environment.tier is production)",
    ),
    (
        "scale to zero in production",
        "prod",
        _scaling("research", scaleToZero=True),
        "substrate:agents.research.scaling.scaleToZero = true: leaves no replica to resume "
        "sessions in a production environment (R31) (allowed: false when environment.tier is "
        "production)",
    ),
    (
        "memory deleted in production",
        "prod",
        _agent("support", memoryVolume={"size": "50Gi", "retain": False}),
        "substrate:agents.support.memoryVolume.retain = false: deletes agent memory on "
        "scale-down or deletion in a production environment (allowed: true when "
        "environment.tier is production)",
    ),
    (
        "replicas together with scaling",
        "dev",
        _agent("research", replicas=2),
        "substrate:agents.research.replicas = 2: is set together with scaling, which lets KEDA "
        "own the replica count (allowed: scaling.minReplicas/maxReplicas, or replicas without "
        "scaling)",
    ),
    (
        "image from a registry admission refuses",
        "prod",
        _agent("support", image="ghcr.io/acme/support-agent:1.0.0"),
        'substrate:agents.support.image = "ghcr.io/acme/support-agent:1.0.0": is not from a '
        "registry admission allows (R28), so its pods would be refused (allowed: images under "
        f"{ECR}, public.ecr.aws/docker/library, nvcr.io/nvidia, ghcr.io/spiffe)",
    ),
    (
        "latest tag",
        "prod",
        _agent("support", image=f"{ECR}/agents/support-agent:latest"),
        f'substrate:agents.support.image = "{ECR}/agents/support-agent:latest": uses the mutable '
        'latest tag (allowed: "<registry>/<repository>:<tag>" or '
        '"<registry>/<repository>@sha256:<digest>", with a tag other than latest)',
    ),
    (
        "untagged image",
        "prod",
        _agent("support", image=f"{ECR}/agents/support-agent"),
        f'substrate:agents.support.image = "{ECR}/agents/support-agent": has no tag or digest '
        '(allowed: "<registry>/<repository>:<tag>" or "<registry>/<repository>@sha256:<digest>")',
    ),
    (
        "namespace of another tenant",
        "prod",
        _agent("support", namespace="data-eng"),
        'substrate:agents.support.namespace = "data-eng": is not a namespace of tenant '
        "'agents' (allowed: agents)",
    ),
    (
        "scaling without KEDA",
        "prod",
        lambda c: c.pop("substrate:keda"),
        'substrate:agents.research.scaling = {"maxReplicas": 4}: needs KEDA but substrate:keda '
        "is not set (allowed: a substrate:keda section, or replicas instead of scaling)",
    ),
    (
        "models without Bedrock",
        "dev",
        lambda c: (
            c.pop("substrate:bedrock"),
            c["substrate:tenants"]["agents"].pop("models"),
        ),
        'substrate:agents.research.models = ["nova-pro"]: names Bedrock models but '
        "substrate:bedrock is not set (allowed: a substrate:bedrock catalog with these models, "
        "or no models)",
    ),
    (
        "do-not-disrupt dropped while admission requires it",
        "prod",
        _agent("support", protectLongTasks=False),
        "substrate:agents.support.protectLongTasks = false: drops karpenter.sh/do-not-disrupt, "
        'which admission requires of agent pods (R33) (allowed: true, or remove "agent" from '
        "substrate:admission.longRunningClasses)",
    ),
    (
        "static AWS keys in env",
        "dev",
        _agent("support", env={"AWS_SECRET_ACCESS_KEY": "x"}),
        'substrate:agents.support.env = {"AWS_SECRET_ACCESS_KEY": "x"}: sets '
        "AWS_SECRET_ACCESS_KEY, a static AWS credential (allowed: no credential variables: the "
        "agent's role comes from EKS Pod Identity (R20))",
    ),
    (
        "agents beyond the namespace quota",
        "dev",
        _agent("support", replicas=4, memory="64Gi"),
        'substrate:agents = ["research", "support"]: request up to 4 CPU and 264Gi memory at '
        "their most replicas in namespace 'agents', above the nominal quota of tenant 'agents' "
        "(8 CPU, 32Gi), so Kueue would admit some only by borrowing quota it reclaims (allowed: "
        "fewer or smaller agents, or more nominal quota for tenant 'agents')",
    ),
    (
        "agents beyond their tenant's nominal quota, within what it may borrow",
        "prod",
        _agent("research", cpu="16"),
        'substrate:agents = ["research", "summarizer", "support"]: request up to 86 CPU '
        "and 152Gi memory at their most replicas in namespace 'agents', above the nominal "
        "quota of tenant 'agents' (64 CPU, 256Gi), so Kueue would admit some only by borrowing "
        "quota it reclaims (allowed: fewer or smaller agents, or more nominal quota for tenant "
        "'agents')",
    ),
    (
        "the statefulset integration would freeze the agents' size",
        "prod",
        lambda c: c["substrate:kueue"]["integrations"].append("statefulset"),
        'substrate:kueue.integrations[7] = "statefulset": would make Kueue queue each agent '
        "StatefulSet (research, support) as one workload, which Kueue v0.19.2 lets change size "
        "only to and from zero, so the agents could not scale (allowed: no statefulset "
        "integration in a stack with agents (the pod integration queues each agent pod on its "
        "own))",
    ),
    (
        "without the pod integration agent pods bypass Kueue",
        "dev",
        lambda c: c["substrate:kueue"].__setitem__("integrations", ["batch/job"]),
        'substrate:kueue.integrations = ["batch/job"]: leaves the pods of the agents (research, '
        "support) outside Kueue, which would lend the quota they use to other tenants (allowed: "
        "pod, or deployment or leaderworkerset.x-k8s.io/leaderworkerset (which enable it))",
    ),
    (
        "name too long for its pods and claims",
        "dev",
        lambda c: c["substrate:agents"].update(
            {"customer-support-escalations-triage-agent-v2": c["substrate:agents"].pop("support")}
        ),
        'substrate:agents.customer-support-escalations-triage-agent-v2 = "customer-support-'
        'escalations-triage-agent-v2": is not a valid agent name (it names the StatefulSet, its '
        "pods and claims) (allowed: lowercase letters, digits and '-', at most 40 characters)",
    ),
    (
        "a task agent without triggers",
        "prod",
        lambda c: c["substrate:agents"]["summarizer"].pop("scaling"),
        "substrate:agents.summarizer.scaling = null: is needed by a task agent: KEDA starts its "
        "Jobs from the triggers (allowed: scaling with triggers (e.g. sqs), or mode: service)",
    ),
    (
        "a task agent with snapshots",
        "prod",
        _agent(
            "summarizer",
            snapshots={**SNAPSHOTS, "image": f"{ECR}/platform/kubectl:1.35.0@sha256:{'a' * 64}"},
        ),
        'substrate:agents.summarizer.snapshots = "set": is set on a task agent, whose Jobs have no '
        "fixed replicas and no retained memory (allowed: no snapshots, or mode: service)",
    ),
    (
        "a caller naming a task agent",
        "prod",
        lambda c: c["substrate:agents"]["research"]["callers"]["agents"].append("summarizer"),
        'substrate:agents.research.callers.agents = "summarizer": names summarizer, a task agent, '
        "which serves no sessions (allowed: service agents of the tenant)",
    ),
    (
        "application profiles of a global cross-Region profile",
        "prod",
        lambda c: (
            c["substrate:bedrock"]["models"].__setitem__(
                "claude-sonnet",
                {"inferenceProfile": "global.anthropic.claude-sonnet-4-5-20250929-v1:0"},
            ),
        ),
        "substrate:agents.support.applicationProfiles = true: covers claude-sonnet, a global "
        "cross-Region profile: Substrate does not know the policy an application profile "
        "copied from one needs (allowed: geographic profiles or foundation models, or "
        "applicationProfiles: false)",
    ),
]


@pytest.mark.parametrize(
    ("stack", "mutate", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_invalid_agent_gives_exact_one_line_error(
    stack: str, mutate: Mutation, message: str
) -> None:
    assert config_error(stack, mutate) == message


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (_agent("support", tenant="nobody"), UnknownTenantError),
        (_agent("support", memoryVolume={"size": "1Ti"}), MemoryVolumeTooLargeError),
        (_agent("support", models=["nova-pro"]), ModelNotGrantedError),
        (_agent("support", models=["gpt-5"]), UnknownModelError),
    ],
    ids=["unknown tenant", "over cap", "not granted", "unknown model"],
)
def test_errors_are_named(mutate: Mutation, error: type[ConfigError]) -> None:
    raw = stack_yaml("prod")
    raw["substrate:tenants"]["agents"]["models"] = ["claude-sonnet", "titan-embed"]
    raw["substrate:agents"].pop("research")
    raw["substrate:agents"].pop("summarizer")
    mutate(raw)
    with pytest.raises(error):
        typed_config(raw)


def test_the_stacks_agents_load_with_their_tenants_grants() -> None:
    for stack in ("dev", "staging", "prod"):
        cfg = typed_config(stack_yaml(stack))
        assert {n for n, a in cfg.agents.items() if a.mode == "service"} == {"support", "research"}
        granted = set(cfg.tenants["agents"].models)
        for agent in cfg.agents.values():
            assert agent.tenant == "agents" and set(agent.models) <= granted
