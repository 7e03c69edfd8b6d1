"""Journeys: a task agent (`mode: task`) runs as Jobs KEDA starts from its ScaledJob.

KEDA is not one of the engines, so the Job it creates is built here as KEDA v2.20.2 builds it
(pkg/scaling/executor/scale_jobs.go, `generateJobs`): `generateName: <scaledjob>-`, the
ScaledJob's namespace, KEDA's labels plus the ScaledJob's own, the annotation
`scaledjob.keda.sh/generation` plus the ScaledJob's annotations, `jobTargetRef` as the spec
(restartPolicy OnFailure when unset) and the ScaledJob as controller. From there the engines
decide: Kyverno (as KEDA's operator, then as the job controller), the apiserver engine (the job
controller's pod), Kueue (the Job on the tenant's queue), Pod Security, and the IAM evaluator.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from substrate.check.chain import submittable
from substrate.engines.kueue import Step
from tests.crds import validation_errors
from tests.helpers import STACKS, stack_yaml
from tests.journeys.bedrock_access import access, allowed, first_denial
from tests.journeys.cluster import Object, controller, denied, stack
from tests.journeys.journey import journey

KEDA_OPERATOR = {
    "username": "system:serviceaccount:keda:keda-operator",
    "groups": ["system:serviceaccounts", "system:serviceaccounts:keda"],
}
"""KEDA's operator (kedacore/charts v2.20.2: service account `keda-operator` in the release's
namespace, `keda` by default): the requester of every Job KEDA creates."""
TASKS = "docs/agents.md#task-agents"
ISOLATION = "substrate-agent-isolation"
JOB_SUFFIX = "x7k2p"
"""What the API server's generateName appends (five characters)."""


def _task_agents(name: str) -> list[str]:
    agents = stack_yaml(name).get("substrate:agents", {})
    return sorted(n for n, a in agents.items() if a.get("mode") == "task")


WITH_TASKS = [s for s in STACKS if _task_agents(s)]


def keda_job(scaled_job: Object, generation: int = 1) -> Object:
    """The Job KEDA's operator creates for one unit of work, named as generateName would."""
    meta = scaled_job["metadata"]
    name = meta["name"]
    labels = {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/version": "2.20.2",
        "app.kubernetes.io/part-of": name,
        "app.kubernetes.io/managed-by": "keda-operator",
        "scaledjob.keda.sh/name": name,
        **meta.get("labels", {}),
    }
    spec = copy.deepcopy(scaled_job["spec"]["jobTargetRef"])
    spec["template"]["spec"].setdefault("restartPolicy", "OnFailure")
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": f"{name}-{JOB_SUFFIX}",
            "generateName": f"{name}-",
            "namespace": meta["namespace"],
            "labels": labels,
            "annotations": {
                "scaledjob.keda.sh/generation": str(generation),
                **meta.get("annotations", {}),
            },
            "ownerReferences": [
                {
                    "apiVersion": "keda.sh/v1alpha1",
                    "kind": "ScaledJob",
                    "name": name,
                    "uid": f"uid-scaledjob-{name}",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": spec,
    }


def test_some_stack_runs_a_task_agent() -> None:
    assert WITH_TASKS, "no stack has a task agent: the journeys prove nothing"


@pytest.mark.crds
@pytest.mark.parametrize("name", WITH_TASKS)
def test_the_scaled_job_is_what_kedas_crds_accept(crds: Path, name: str) -> None:
    s = stack(name)
    objects = s.objects("ScaledJob") + s.objects("TriggerAuthentication")
    assert {o["metadata"]["name"] for o in s.objects("ScaledJob")} == set(_task_agents(name))
    for obj in objects:
        assert validation_errors(crds, obj) == [], (obj["kind"], obj["metadata"]["name"])


@journey(
    user="KEDA's operator, then Kubernetes' job controller, for a task agent",
    stack="staging, prod",
    steps=[
        "a message arrives on the agent's queue; KEDA creates a Job from the agent's ScaledJob "
        "(its labels, the tenant's Kueue queue label among them, copied onto the Job)",
        "Kueue admits the Job on the tenant's ClusterQueue and unsuspends it",
        "the job controller creates the pod, as the agent's service account, with an "
        "ephemeral memory volume of the agent's class",
    ],
    outcome="Kyverno admits the Job and the pod, Kueue admits the Job on the tenant's queue, "
    "the pod passes Pod Security and runs as the agent's service account",
    docs=[TASKS],
)
@pytest.mark.parametrize("name", WITH_TASKS)
def test_a_task_agents_job_is_admitted_and_queued(name: str) -> None:
    s = stack(name)
    for agent in _task_agents(name):
        (scaled_job,) = [o for o in s.objects("ScaledJob") if o["metadata"]["name"] == agent]
        job = keda_job(scaled_job)
        job_name = job["metadata"]["name"]
        assert denied(s.admit([job], KEDA_OPERATOR), job_name) == {}
        (made,) = s.create([job], KEDA_OPERATOR).results
        assert made.created and made.admitted is not None, made.errors
        (queued,) = s.queue([Step("the task's Job", submit=[submittable(made.admitted)])])
        workload = queued.workload_of("Job", job_name)
        assert workload.admitted, workload.pending_message
        namespace = job["metadata"]["namespace"]
        (local,) = [
            q
            for q in s.objects("LocalQueue", namespace)
            if q["metadata"]["name"] == job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"]
        ]
        assert workload.cluster_queue == local["spec"]["clusterQueue"]
        resumed = dict(queued.object("Job", job_name))
        (again,) = s.create([resumed], controller("job-controller")).results
        (pod,) = again.descendants("Pod")
        assert pod.admitted is not None and pod.pod_security is not None
        assert pod.pod_security.enforce.allowed
        spec = pod.admitted["spec"]
        assert spec["serviceAccountName"] == agent
        assert any("ephemeral" in v for v in spec["volumes"])
        requester = {"username": pod.username, "groups": list(pod.groups)}
        assert denied(s.admit([pod.admitted], requester), pod.name) == {}


@journey(
    user="a tenant engineer of the task agent's tenant",
    stack="staging, prod",
    steps=[
        "the engineer creates a Job of their own that runs as the task agent's service account "
        "(to get its Bedrock role and SPIFFE ID)",
        "or a ScaledJob named after the agent",
    ],
    outcome="Kyverno refuses both: only KEDA's operator creates an agent's Jobs, for the "
    "ScaledJob the platform deployed",
    docs=[TASKS],
)
@pytest.mark.parametrize("name", WITH_TASKS)
def test_nobody_else_runs_jobs_as_a_task_agent(name: str) -> None:
    s = stack(name)
    for agent in _task_agents(name):
        (scaled_job,) = [o for o in s.objects("ScaledJob") if o["metadata"]["name"] == agent]
        tenant = scaled_job["metadata"]["labels"]["substrate.io/tenant"]
        engineer = {
            "username": f"arn:aws:sts::123456789012:assumed-role/{tenant}-engineer/alice",
            "groups": [f"substrate:tenant:{tenant}:admins", "system:authenticated"],
        }
        job = keda_job(scaled_job)
        own: dict[str, Any] = copy.deepcopy(job)
        own["metadata"].pop("ownerReferences")
        own["metadata"]["name"] = f"{agent}-mine"
        assert ISOLATION in denied(s.admit([own], engineer), f"{agent}-mine")
        # KEDA's operator, for a Job no ScaledJob of the agent controls, is refused too.
        stray: dict[str, Any] = copy.deepcopy(job)
        stray["metadata"]["ownerReferences"][0]["name"] = "someone-else"
        assert ISOLATION in denied(s.admit([stray], KEDA_OPERATOR), job["metadata"]["name"])
        forged = copy.deepcopy(scaled_job)
        forged["metadata"]["name"] = f"{agent}-copy"
        assert ISOLATION in denied(s.admit([forged], engineer), f"{agent}-copy")


@journey(
    user="a task agent's Job pod (through the bedrock-runtime endpoint)",
    stack="staging, prod",
    steps=[
        "the Job's pod runs as the agent's service account, so EKS Pod Identity gives it the "
        "agent's Bedrock role",
        "it calls each granted model with every operation the model supports, and a model its "
        "tenant did not grant it",
    ],
    outcome="the granted calls are allowed and the others denied, exactly as for a service agent",
    docs=[TASKS],
)
@pytest.mark.parametrize("name", WITH_TASKS)
def test_a_task_agent_has_the_bedrock_access_of_a_service_agent(name: str) -> None:
    s = access(name)
    for agent in _task_agents(name):
        granted = s.cfg.agents[agent].models
        assert granted, f"task agent {agent} calls no model"
        pod = s.pod(agent)
        for model_name, model in sorted(s.catalog.items()):
            call = s.call("Converse", model, guardrail=s.sdk_guardrail(model), agent=agent)
            decisions = s.decide(pod, call)
            if model_name in granted:
                assert allowed(decisions), (agent, model_name, first_denial(decisions))
            else:
                assert not allowed(decisions), (agent, model_name)
