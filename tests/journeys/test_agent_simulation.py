"""Agent simulation journeys: a tenant's CI runs an agent in the simulation namespace on
injected memory. The API server's own code (apiserver engine), the stack's Kyverno policies and
Kueue's own scheduler judge the run; the IAM evaluator judges what the run's pod may call, with
the role, trust and endpoint policies of the stack's plan."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from substrate.check.chain import submittable
from substrate.config.agent_simulation import AgentSimulationConfig
from substrate.engines import apiserver, aws_plan, bedrock_calls
from substrate.engines.iam import Policies, Principal, Request, evaluate
from substrate.engines.kueue import Step
from tests.helpers import STACKS, stack_yaml
from tests.journeys import queue_objects as q
from tests.journeys.bedrock_access import StackAccess, access, allowed, first_denial
from tests.journeys.cluster import (
    Object,
    Stack,
    controller,
    denied,
    docs_yaml,
    judged_by,
    rehome,
    stack,
    tenant_engineer,
)
from tests.journeys.journey import journey

SIMULATING = [s for s in STACKS if "substrate:agentSimulation" in stack_yaml(s)]
RUNNING = "docs/agents.md#running-a-simulation-from-ci"
POLICY = "substrate-agent-simulation"
SNAPSHOT = {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot"}


def simulation(s: Stack) -> AgentSimulationConfig:
    sim = s.config.agent_simulation
    assert sim is not None, f"{s.name} has no substrate:agentSimulation"
    return sim


def documented_run(s: Stack) -> tuple[Object, Object]:
    """The docs' claim and Job, the image from the stack's own registry."""
    claim, job = docs_yaml("agents.md", "Running a simulation from CI")
    assert (claim["kind"], job["kind"]) == ("PersistentVolumeClaim", "Job")
    assert claim["metadata"]["namespace"] == job["metadata"]["namespace"] == simulation(s).namespace
    return claim, rehome(job, s.registry)


def requester(admission: apiserver.Admission) -> dict[str, Any]:
    return {"username": admission.username, "groups": list(admission.groups)}


@journey(
    user="the CI of the agents tenant (its admin role)",
    stack="staging, prod",
    steps=[
        "create the documented claim, whose dataSource is a VolumeSnapshot of the agent's "
        "memory, and the documented Job running the support agent as agent-sim/support",
        "Kueue admits the Job and unsuspends it",
        "the job controller creates the run's pod",
    ],
    outcome="the API server keeps the snapshot as the claim's data source and Kueue's webhook "
    "suspends the Job on the `default` LocalQueue; Kyverno admits both (agent-simulation "
    "judges the Job); Kueue admits the Job on the agent-sim ClusterQueue; the pod passes Pod "
    "Security and Kyverno and mounts the restored claim",
    docs=[RUNNING],
)
@pytest.mark.parametrize("name", SIMULATING)
def test_a_simulated_run_is_admitted_with_its_injected_memory(name: str) -> None:
    s = stack(name)
    sim = simulation(s)
    claim, job = documented_run(s)
    engineer = tenant_engineer(sim.tenant)
    made_claim, made_job = s.create([claim, job], engineer).results
    for made in (made_claim, made_job):
        assert made.created and made.reaches_validating_webhooks, (made.refused_by, made.errors)
    assert made_claim.admitted is not None and made_job.admitted is not None
    restored = made_claim.admitted["spec"]
    snapshot = {**SNAPSHOT, "name": claim["spec"]["dataSource"]["name"]}
    assert restored["dataSource"] == snapshot and restored["dataSourceRef"] == snapshot
    assert made_job.admitted["spec"]["suspend"] is True
    assert made_job.admitted["metadata"]["labels"][q.QUEUE_LABEL] == "default"
    verdicts = s.admit([made_claim.admitted, made_job.admitted], engineer)
    run = job["metadata"]["name"]
    assert denied(verdicts, claim["metadata"]["name"]) == {}
    assert denied(verdicts, run) == {}
    assert POLICY in judged_by(verdicts, run)

    # Kueue's webhooks receive the Job as the API server defaulted it.
    (queued,) = s.queue([Step("CI submits the run", submit=[submittable(made_job.admitted)])])
    assert queued.rejected == (), queued.rejected
    workload = queued.workload_of("Job", run)
    assert workload.admitted, workload.pending_message
    assert workload.cluster_queue == sim.namespace
    resumed = dict(queued.object("Job", run))
    assert denied(s.admit([resumed], controller("kueue"), operation="UPDATE"), run) == {}

    (again,) = s.create([resumed], engineer).results
    (pod,) = again.descendants("Pod")
    assert pod.admitted is not None and pod.pod_security is not None
    assert pod.pod_security.enforce.allowed
    claims = [
        v["persistentVolumeClaim"]["claimName"]
        for v in pod.admitted["spec"]["volumes"]
        if "persistentVolumeClaim" in v
    ]
    assert claims == [claim["metadata"]["name"]]
    assert pod.admitted["spec"]["serviceAccountName"] == "support"
    verdicts = s.admit([pod.admitted], requester(pod))
    assert denied(verdicts, pod.name) == {}
    assert POLICY in judged_by(verdicts, pod.name)


@journey(
    user="the CI of the agents tenant",
    stack="staging, prod",
    steps=[
        "submit the documented Job without activeDeadlineSeconds, and one kept for a day after "
        "it finishes",
        "run a shell pod as agent-sim/support",
        "run the agent as a Deployment in agent-sim",
    ],
    outcome="agent-simulation refuses both Jobs (deadline, cleanup), the shell pod and the "
    "pod the Deployment's ReplicaSet creates (not a Job's pod); the documented Job passes",
    docs=[RUNNING],
)
@pytest.mark.parametrize("name", SIMULATING)
def test_unbounded_runs_and_other_pods_are_refused(name: str) -> None:
    s = stack(name)
    sim = simulation(s)
    _, job = documented_run(s)
    endless = copy.deepcopy(job)
    endless["metadata"]["name"] = "sim-endless"
    del endless["spec"]["activeDeadlineSeconds"]
    kept = copy.deepcopy(job)
    kept["metadata"]["name"] = "sim-kept"
    kept["spec"]["ttlSecondsAfterFinished"] = sim.cleanup_after_seconds + 86400
    template = job["spec"]["template"]
    shell = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "sim-shell", "namespace": sim.namespace},
        "spec": copy.deepcopy(template["spec"]),
    }
    labels = {"app": "sim-forever"}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "sim-forever", "namespace": sim.namespace},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {**copy.deepcopy(template["spec"]), "restartPolicy": "Always"},
            },
        },
    }
    engineer = tenant_engineer(sim.tenant)
    # Kyverno judges the objects as the API server hands them over (defaulted, pods included).
    *made, made_deployment = s.create([job, endless, kept, shell, deployment], engineer).results
    assert all(m.reaches_validating_webhooks for m in made), [m.errors for m in made]
    verdicts = s.admit([m.admitted or {} for m in made], engineer)
    assert denied(verdicts, job["metadata"]["name"]) == {}
    expected = {
        "sim-endless": f"sets no spec.activeDeadlineSeconds of at most {sim.max_run_seconds}",
        "sim-kept": f"sets no spec.ttlSecondsAfterFinished of at most {sim.cleanup_after_seconds}",
        "sim-shell": "is not a Job's pod",
    }
    (pod,) = made_deployment.descendants("Pod")
    assert pod.admitted is not None
    verdicts += s.admit([pod.admitted], requester(pod))
    expected[pod.name] = "is not a Job's pod"
    for obj, message in expected.items():
        refused = denied(verdicts, obj)
        assert set(refused) == {POLICY}, (obj, refused)
        assert message in refused[POLICY], (obj, refused[POLICY])


def _contention(s: Stack) -> list[Step]:
    """Production tenants run at their nominal CPU and a simulation fills its quota; then a run
    at the highest priority asks for one CPU more."""
    sim = simulation(s)
    highest = max((o for o in s.objects("WorkloadPriorityClass")), key=lambda o: int(o["value"]))[
        "metadata"
    ]["name"]
    tenants = {n: t.spec(n) for n, t in s.config.tenants.items()}
    busy = [
        q.job(
            f"{name}-nominal", spec.namespaces[0], {"cpu": str(spec.cpu.nominal), "memory": "1Gi"}
        )
        for name, spec in sorted(tenants.items())
        if name != sim.tenant and spec.cpu.nominal
    ]
    run = q.job("sim-a", sim.namespace, {"cpu": str(sim.quota.cpu), "memory": "1Gi"})
    late = q.job("sim-b", sim.namespace, {"cpu": "1", "memory": "1Gi"}, priority=highest)
    for j in (*busy, run, late):
        j["metadata"]["labels"][q.QUEUE_LABEL] = "default"
    return [
        Step("the tenants other than the agents run at their nominal CPU", submit=busy),
        Step("a simulation run takes the whole simulation quota", submit=[run]),
        Step("a second run, at the highest priority, asks for one CPU", submit=[late]),
    ]


@journey(
    user="the CI of the agents tenant",
    stack="staging, prod",
    steps=[
        "the other tenants run at their nominal CPU; the agents tenant's CPU is idle",
        "a simulation run takes the simulation queue's whole CPU quota",
        "a second run, labelled with the highest WorkloadPriorityClass, asks for one more CPU",
    ],
    outcome="Kueue keeps the second run pending on the agent-sim ClusterQueue: it borrows none "
    "of the tenants' idle CPU and preempts nothing; the first run and every tenant's job stay "
    "admitted",
    docs=[RUNNING],
)
@pytest.mark.parametrize("name", SIMULATING)
def test_a_simulated_run_waits_rather_than_borrowing_or_preempting(name: str) -> None:
    s = stack(name)
    sim = simulation(s)
    steps = s.queue(_contention(s))
    first, last = steps[1], steps[2]
    assert first.workload_of("Job", "sim-a").admitted
    assert first.cluster_queues[sim.tenant].total("default", "cpu") in ("", "0")
    waiting = last.workload_of("Job", "sim-b")
    assert not waiting.admitted
    assert waiting.cluster_queue in {"", sim.namespace}
    assert "insufficient unused quota for cpu" in waiting.pending_message, waiting.pending_message
    assert last.cluster_queues[sim.namespace].borrowed("default", "cpu") in ("", "0")
    running = [w for w in last.workloads if w.name != waiting.name]
    assert running and all(w.admitted and not w.preempted for w in running), [
        (w.name, w.status) for w in running
    ]


def _sim_pod(s: StackAccess, namespace: str, agent: str) -> Principal:
    return s.plan.pod_principal(s.plan.association(namespace, agent), f"sim-{agent}-x", "uid-sim")


def _other_calls(s: StackAccess, agent: str) -> dict[str, tuple[str, str]]:
    """What a run might try beyond its models: action -> resource."""
    account, partition, region = s.plan.account, s.partition, s.plan.region
    prod_role = s.association(agent).role_arn
    return {
        "write the memory volume's snapshots": (
            "ec2:CreateSnapshot",
            f"arn:{partition}:ec2:{region}::snapshot/*",
        ),
        "attach a memory volume": (
            "ec2:AttachVolume",
            f"arn:{partition}:ec2:{region}:{account}:volume/vol-0123456789abcdef0",
        ),
        "write an S3 object": ("s3:PutObject", f"arn:{partition}:s3:::agent-memory/{agent}/x"),
        "write a DynamoDB item": (
            "dynamodb:PutItem",
            f"arn:{partition}:dynamodb:{region}:{account}:table/agent-memory",
        ),
        "invoke a Bedrock agent": (
            "bedrock:InvokeAgent",
            f"arn:{partition}:bedrock:{region}:{account}:agent-alias/AGENT1234/ALIAS1234",
        ),
        "query a knowledge base": (
            "bedrock:Retrieve",
            f"arn:{partition}:bedrock:{region}:{account}:knowledge-base/KB12345678",
        ),
        "assume the agent's production role": ("sts:AssumeRole", prod_role),
    }


@journey(
    user="a simulated agent (its pod in the simulation namespace, through the bedrock-runtime "
    "endpoint)",
    stack="staging, prod",
    steps=[
        "call each model the agent was granted with every operation it supports, in every "
        "destination Region, with the guardrail exactly when the model supports one",
        "call a guardrail-capable model without the guardrail, and each catalog model the agent "
        "was not granted",
        "write snapshots, volumes, S3 objects, DynamoDB items; invoke Bedrock agents and "
        "knowledge bases; assume the agent's production role",
    ],
    outcome="every authorization of the granted calls is allowed by the simulation role and "
    "the endpoint policy; everything else is denied",
    docs=[RUNNING],
)
@pytest.mark.parametrize("name", SIMULATING)
def test_a_simulated_agent_calls_its_models_and_nothing_else(name: str) -> None:
    s, sim = access(name), simulation(stack(name))
    agents = [a for a in s.agents() if s.cfg.agents[a].tenant == sim.tenant]
    assert agents
    refused, let_through, calls = [], [], 0
    for agent in agents:
        pod = _sim_pod(s, sim.namespace, agent)
        assert pod.role_arn != s.association(agent).role_arn
        granted = s.cfg.agents[agent].models
        for model_name in granted:
            model = s.catalog[model_name]
            guardrail = s.sdk_guardrail(model)
            for operation in bedrock_calls.operations(model):
                for region in bedrock_calls.routes(model, s.plan.region):
                    call = s.call(operation, model, destination=region, guardrail=guardrail)
                    calls += 1
                    refusal = first_denial(s.decide(pod, call))
                    if refusal is not None:
                        refused.append(f"{agent} {operation} {model_name} {region}")
            if guardrail is not None and allowed(s.decide(pod, s.call("Converse", model))):
                let_through.append(f"{agent}: {model_name} without the guardrail")
        for model_name, model in sorted(s.catalog.items()):
            if model_name not in granted:
                call = s.call("Converse", model, guardrail=s.sdk_guardrail(model))
                if allowed(s.decide(pod, call)):
                    let_through.append(f"{agent}: ungranted {model_name}")
        policies = Policies(identity=s.plan.identity_policies(s.plan.role(pod.role_arn or "")))
        for what, (action, resource) in _other_calls(s, agent).items():
            if evaluate(Request(pod, action, resource), policies):
                let_through.append(f"{agent}: {what}")
    assert calls > 0
    assert refused == []
    assert let_through == []


@journey(
    user="EKS Pod Identity, for pods of this cluster",
    stack="staging, prod",
    steps=[
        "assume an agent's simulation role for agent-sim/<agent>",
        "then for the agent's production pod (<tenant namespace>/<agent>)",
        "and assume the agent's production role for agent-sim/<agent>",
    ],
    outcome="only the simulation service account gets the simulation role; the production "
    "service account does not, and the simulation service account does not get the "
    "production role",
    docs=[RUNNING],
)
@pytest.mark.parametrize("name", SIMULATING)
def test_only_the_simulation_service_account_gets_the_simulation_role(name: str) -> None:
    s, sim = access(name), simulation(stack(name))
    for agent in (a for a in s.agents() if s.cfg.agents[a].tenant == sim.tenant):
        simulated = s.plan.association(sim.namespace, agent)
        production = s.association(agent)
        assert _assumes(s, simulated.role_arn, simulated) == ["allowed", "allowed"], agent
        assert not any(a == "allowed" for a in _assumes(s, simulated.role_arn, production))
        assert not any(a == "allowed" for a in _assumes(s, production.role_arn, simulated))


def _assumes(s: StackAccess, role_arn: str, pod_of: aws_plan.Association) -> list[str]:
    """EKS Pod Identity assuming ``role_arn`` for a pod of association ``pod_of``'s namespace
    and service account."""
    role = s.plan.role(role_arn)
    tags = s.plan.pod_session_tags(pod_of, f"{pod_of.service_account}-0", "uid")
    trust = Policies(resource=role.trust, resource_must_allow=True)
    return [evaluate(r, trust).reason for r in s.plan.assume_role_requests(role, tags)]
