"""Admission journeys: what tenants submit, through every engine on its way into the cluster.

The API server's own code (the apiserver engine: defaulting, built-in admission plugins,
Kueue's webhooks, the controllers that create pods) gives the object exactly as Kyverno
receives it; the Kyverno CLI judges it under the stack's own policies (Enforce in staging and
prod, Audit in dev: the verdicts are the same, dev only reports them) with the requester the
API server recorded; Kueue's own code decides admission and the flavor it injects. The objects
are the docs' own examples where docs show one.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from substrate.components.workloads.tenancy import format_bytes, quantity
from substrate.engines import apiserver, kueue
from tests.helpers import STACKS
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

GPU_TENANT, GPU_NAMESPACE, CPU_NAMESPACE = "ml-research", "ml-research", "data-eng"


def documented_job(s: Stack) -> Object:
    """The Job of docs/workloads.md, its image pulled from the stack's own registry (the docs
    show prod's account ECR)."""
    (job,) = docs_yaml("workloads.md", "Submitting a training job")
    assert job["kind"] == "Job"
    return rehome(job, s.registry)


def kyverno_requester(admission: apiserver.Admission) -> dict[str, Any]:
    """Who Kyverno sees creating an object: the requester the API server recorded."""
    return {"username": admission.username, "groups": list(admission.groups)}


def nominal(s: Stack, queue: str, flavor: str, resource: str) -> Decimal:
    """The ClusterQueue's nominal quota of ``resource`` on ``flavor``, from the plan."""
    cq = s.one("ClusterQueue", queue)
    for group in cq["spec"]["resourceGroups"]:
        for f in group["flavors"]:
            for r in f["resources"] if f["name"] == flavor else ():
                if r["name"] == resource:
                    return quantity(r["nominalQuota"])
    raise AssertionError(f"{queue} has no {resource} on {flavor}")


def sized_to_quota(s: Stack, job: Object) -> Object:
    """What the docs tell a user whose stack's quota is smaller than the example: one pod, with
    the GPUs the tenant's queue holds on the training flavor (at most the example's) and CPU and
    memory in proportion."""
    out = copy.deepcopy(job)
    container = out["spec"]["template"]["spec"]["containers"][0]
    requests, limits = container["resources"]["requests"], container["resources"]["limits"]
    gpus = Decimal(requests["nvidia.com/gpu"])
    share = min(
        Decimal(1),
        nominal(s, GPU_TENANT, "training", "nvidia.com/gpu") / gpus,
        nominal(s, GPU_TENANT, "default", "cpu") / quantity(requests["cpu"]),
        nominal(s, GPU_TENANT, "default", "memory") / quantity(requests["memory"]),
    )
    fitted_gpus = str(int(gpus * share))
    memory = format_bytes(int(quantity(requests["memory"]) * share))
    requests.update(
        {
            "cpu": str(int(quantity(requests["cpu"]) * share)),
            "memory": memory,
            "nvidia.com/gpu": fitted_gpus,
        }
    )
    limits.update({"memory": memory, "nvidia.com/gpu": fitted_gpus})
    out["spec"]["parallelism"] = out["spec"]["completions"] = 1
    return out


@journey(
    user="ML engineer of tenant ml-research",
    stack="every stack",
    steps=[
        "submit the training Job of docs/workloads.md (queue label, no toleration): the API "
        "server defaults it and Kueue's webhook suspends it",
        "where the tenant's quota is smaller than the example (staging, dev), Kueue keeps it "
        "pending ('maximum capacity'); resubmit it as one pod sized to the queue's quota",
        "Kueue admits it on a flavor and unsuspends it",
        "the job controller creates its pods (LimitRange defaults, service-account admission)",
    ],
    outcome="Kyverno admits the Job at CREATE and when Kueue updates it; Kueue admits it on the "
    "training flavor; its pods carry the training pool's node labels and GPU toleration, pass "
    "Pod Security and are admitted by Kyverno",
    docs=["docs/workloads.md#submitting-a-training-job"],
)
@pytest.mark.parametrize("name", STACKS)
def test_the_documented_training_job_runs(name: str) -> None:
    s = stack(name)
    job = documented_job(s)
    engineer = tenant_engineer(GPU_TENANT)
    (created,) = s.create([job], engineer).results
    assert created.created and created.reaches_validating_webhooks, created.errors
    assert created.admitted is not None and created.admitted["spec"]["suspend"] is True
    at_create = s.admit([created.admitted], engineer)
    assert denied(at_create, "finetune-llama") == {}
    assert "substrate-gpu-queue-label" in judged_by(at_create, "finetune-llama")

    (queued,) = s.queue([kueue.Step("submit the documented Job", submit=[job])])
    workload = queued.workload_of("Job", "finetune-llama")
    if not workload.admitted:
        assert "maximum capacity" in workload.pending_message, workload.pending_message
        job = sized_to_quota(s, job)
        (queued,) = s.queue([kueue.Step("submit it sized to the quota", submit=[job])])
        workload = queued.workload_of("Job", "finetune-llama")
    assert workload.admitted, workload.pending_message
    assert {ps["nvidia.com/gpu"] for ps in workload.flavors().values()} == {"training"}
    resumed = dict(queued.object("Job", "finetune-llama"))
    at_update = s.admit([resumed], controller("kueue"), operation="UPDATE")
    assert denied(at_update, "finetune-llama") == {}

    flavor = s.one("ResourceFlavor", "training")
    (recreated,) = s.create([resumed], engineer).results
    pods = recreated.descendants("Pod")
    assert pods and all(p.reaches_validating_webhooks for p in pods)
    for pod in pods:
        assert pod.admitted is not None
        spec = pod.admitted["spec"]
        assert flavor["spec"]["nodeLabels"].items() <= spec.get("nodeSelector", {}).items()
        assert all(t in spec.get("tolerations", []) for t in flavor["spec"]["tolerations"])
        assert pod.pod_security is not None and pod.pod_security.enforce.allowed
        verdicts = s.admit([pod.admitted], kyverno_requester(pod))
        assert denied(verdicts, pod.name) == {}
        assert "substrate-gpu-placement" in judged_by(verdicts, pod.name)


def bare_pod(job: Object, namespace: str, name: str) -> Object:
    """The documented Job's pod written by hand as a bare Pod, queue label kept."""
    template = copy.deepcopy(job["spec"]["template"])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                **template.get("metadata", {}).get("labels", {}),
                "kueue.x-k8s.io/queue-name": job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"],
            },
            "annotations": template.get("metadata", {}).get("annotations", {}),
        },
        "spec": template["spec"],
    }


def as_created(s: Stack, obj: Object, user: dict[str, Any]) -> apiserver.Admission:
    (created,) = s.create([obj], user).results
    assert created.reaches_validating_webhooks, (created.refused_by, created.errors)
    return created


@journey(
    user="ML engineer of tenant ml-research",
    stack="every stack",
    steps=[
        "create the documented Job's pod as a bare Pod with the queue label and no toleration",
    ],
    outcome="Kueue's pod webhook holds it behind its admission gate, so Kyverno admits it; "
    "Kueue supplies the flavor's toleration when it admits the pod",
    docs=["docs/workloads.md#submitting-a-training-job"],
)
@pytest.mark.parametrize("name", STACKS)
def test_a_queued_bare_gpu_pod_gets_its_toleration_from_kueue(name: str) -> None:
    s = stack(name)
    engineer = tenant_engineer(GPU_TENANT)
    pod = as_created(s, bare_pod(documented_job(s), GPU_NAMESPACE, "notebook"), engineer)
    assert pod.admitted is not None
    gates = [g["name"] for g in pod.admitted["spec"].get("schedulingGates", [])]
    assert "kueue.x-k8s.io/admission" in gates
    assert denied(s.admit([pod.admitted], engineer), "notebook") == {}


@journey(
    user="ML engineer of tenant ml-research",
    stack="every stack",
    steps=["create a GPU pod with no queue label and no toleration in ml-research"],
    outcome="Kueue's pod webhook labels it kueue.x-k8s.io/queue-name: default (the namespace's "
    "default LocalQueue) and holds it behind its admission gate, so Kyverno admits it; Kueue "
    "supplies the toleration when it admits the pod",
    docs=["docs/workloads.md#submitting-a-training-job"],
)
@pytest.mark.parametrize("name", STACKS)
def test_an_unlabelled_bare_gpu_pod_is_queued_on_default(name: str) -> None:
    s = stack(name)
    engineer = tenant_engineer(GPU_TENANT)
    written = bare_pod(documented_job(s), GPU_NAMESPACE, "adhoc")
    del written["metadata"]["labels"]["kueue.x-k8s.io/queue-name"]
    pod = as_created(s, written, engineer)
    assert pod.admitted is not None
    assert pod.admitted["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "default"
    gates = [g["name"] for g in pod.admitted["spec"].get("schedulingGates", [])]
    assert "kueue.x-k8s.io/admission" in gates
    verdicts = s.admit([pod.admitted], engineer)
    assert denied(verdicts, "adhoc") == {}
    assert "substrate-gpu-queue-label" in judged_by(verdicts, "adhoc")


@journey(
    user="engineer of the CPU-only tenant data-eng",
    stack="every stack",
    steps=[
        "submit the documented training Job, queued, into data-eng",
        "create a queued GPU pod in data-eng",
    ],
    outcome="Kueue never admits the Job (its ClusterQueue has no GPUs), and Kyverno refuses the "
    "pod: GPUs only in namespaces labelled substrate.io/gpu",
)
@pytest.mark.parametrize("name", STACKS)
def test_gpu_work_outside_gpu_tenants_is_refused(name: str) -> None:
    s = stack(name)
    engineer = tenant_engineer("data-eng")
    job = copy.deepcopy(documented_job(s))
    job["metadata"]["namespace"] = CPU_NAMESPACE
    job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] = "data-eng"
    job["spec"]["parallelism"] = job["spec"]["completions"] = 1
    job["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "requests": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "1"},
        "limits": {"memory": "1Gi", "nvidia.com/gpu": "1"},
    }
    (queued,) = s.queue([kueue.Step("submit GPU work to data-eng", submit=[job])])
    workload = queued.workload_of("Job", "finetune-llama")
    assert not workload.admitted
    assert "nvidia.com/gpu" in workload.pending_message, workload.pending_message
    pod = as_created(s, bare_pod(job, CPU_NAMESPACE, "notebook"), engineer)
    refused = denied(s.admit([pod.admitted or {}], engineer), "notebook")
    assert set(refused) == {"substrate-gpu-placement"}
    assert "substrate.io/gpu" in refused["substrate-gpu-placement"]


@journey(
    user="ML engineer of tenant ml-research",
    stack="every stack",
    steps=["submit the documented training Job without its kueue.x-k8s.io/queue-name label"],
    outcome="Kueue's Job webhook labels it kueue.x-k8s.io/queue-name: default (the namespace's "
    "default LocalQueue) and suspends it, so gpu-queue-label finds the label and Kyverno admits "
    "it",
    docs=["docs/workloads.md#submitting-a-training-job"],
)
@pytest.mark.parametrize("name", STACKS)
def test_an_unlabelled_gpu_job_is_queued_on_default(name: str) -> None:
    s = stack(name)
    job = copy.deepcopy(documented_job(s))
    del job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"]
    engineer = tenant_engineer(GPU_TENANT)
    created = as_created(s, job, engineer)
    assert created.admitted is not None
    assert created.admitted["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "default"
    assert created.admitted["spec"]["suspend"] is True
    verdicts = s.admit([created.admitted], engineer)
    assert denied(verdicts, "finetune-llama") == {}
    assert "substrate-gpu-queue-label" in judged_by(verdicts, "finetune-llama")


def _inference_unit(s: Stack) -> str:
    """The GPU unit of the stack's inference pool (`nvidia.com/gpu.shared` where it is
    time-sliced), as its planned NodePool limits it."""
    (pool,) = [
        m
        for m in s.plan.manifests.values()
        if m["kind"] == "NodePool" and m["metadata"]["name"] == "inference"
    ]
    (unit,) = [r for r in pool["spec"]["limits"] if r.startswith("nvidia.com/gpu")]
    return unit


def _inference_deployment(s: Stack) -> Object:
    """Two model-server replicas of one GPU unit each: gated pods count against the tenant's
    ResourceQuota while they wait, so each must fit it (dev's inference quota is in slices)."""
    spec = copy.deepcopy(documented_job(s)["spec"]["template"]["spec"]) | {
        "restartPolicy": "Always"
    }
    unit = _inference_unit(s)
    spec["containers"][0]["resources"] = {
        "requests": {"cpu": "4", "memory": "16Gi", unit: "1"},
        "limits": {"memory": "16Gi", unit: "1"},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "llm",
            "namespace": "inference",
            "labels": {"kueue.x-k8s.io/queue-name": "inference"},
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "llm"}},
            "template": {
                "metadata": {"labels": {"app": "llm", "substrate.io/workload-class": "inference"}},
                "spec": spec,
            },
        },
    }


@journey(
    user="inference engineer of tenant inference",
    stack="every stack",
    steps=[
        "create a GPU inference Deployment with its queue label and no toleration",
        "the Deployment and ReplicaSet controllers create its pods; Kueue's webhook holds them "
        "behind its gate",
    ],
    outcome="Kyverno admits the Deployment, its ReplicaSet and its gated pods; Kueue adds the "
    "toleration when it admits each pod",
    docs=["docs/workloads.md#elastic-services-inference-and-agents"],
)
@pytest.mark.parametrize("name", STACKS)
def test_a_gpu_inference_deployment_is_admitted_pod_by_pod(name: str) -> None:
    s = stack(name)
    engineer = tenant_engineer("inference")
    created = as_created(s, _inference_deployment(s), engineer)
    assert denied(s.admit([created.admitted or {}], engineer), "llm") == {}
    pods = created.descendants("Pod")
    assert len(pods) == 2
    for pod in pods:
        assert pod.admitted is not None
        gates = [g["name"] for g in pod.admitted["spec"].get("schedulingGates", [])]
        assert "kueue.x-k8s.io/admission" in gates
        verdicts = s.admit([pod.admitted], kyverno_requester(pod))
        assert denied(verdicts, pod.name) == {}
        assert "substrate-gpu-placement" in judged_by(verdicts, pod.name)


@journey(
    user="platform engineer",
    stack="every stack",
    steps=[
        "a non-compliant pod (created before a policy, or under Audit; `latest` image from an "
        "unlisted registry) with a finalizer is deleted",
        "its controller removes the finalizer; Kueue removes its scheduling gate",
    ],
    outcome="Kyverno refuses the pod at CREATE, and never refuses its UPDATEs (terminating "
    "with the finalizer, without it, ungated), so it finishes terminating and its namespace "
    "can be deleted",
    docs=["docs/policies.md#admission-policies-kyverno"],
)
@pytest.mark.parametrize("name", STACKS)
def test_pod_updates_never_block_termination(name: str) -> None:
    s = stack(name)
    written = bare_pod(documented_job(s), GPU_NAMESPACE, "stuck")
    written["spec"]["containers"][0]["image"] = "docker.io/library/python:latest"
    written["metadata"]["finalizers"] = ["example.com/cleanup"]
    pod = as_created(s, written, tenant_engineer(GPU_TENANT)).admitted or {}
    user = tenant_engineer(GPU_TENANT)
    assert denied(s.admit([pod], user), "stuck") != {}
    pod = copy.deepcopy(dict(pod))
    terminating = copy.deepcopy(pod)
    terminating["metadata"]["deletionTimestamp"] = "2026-01-01T00:10:00Z"
    released = copy.deepcopy(terminating)
    released["metadata"]["finalizers"] = []
    ungated = copy.deepcopy(pod)
    ungated["spec"]["schedulingGates"] = []
    updates = {"stuck": pod, "terminating": terminating, "released": released, "ungated": ungated}
    for name_, update in updates.items():
        update["metadata"]["name"] = name_
    for requester in (controller("kueue"), user):
        verdicts = s.admit(list(updates.values()), requester, operation="UPDATE")
        assert {n: denied(verdicts, n) for n in updates} == {n: {} for n in updates}
