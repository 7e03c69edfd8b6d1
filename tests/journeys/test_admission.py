"""Admission journeys: what tenants submit, judged by the real Kyverno CLI under each stack's
own policies (Enforce in staging and prod, Audit in dev: the verdicts are the same, dev only
reports them), with the requester EKS would present.

The objects are the docs' own examples where docs show one. Kueue's part (which flavor admits
the workload) is the plan's ResourceFlavor for the pool the docs name; the queue journeys
(test_queues.py) let Kueue's own code decide it.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.journeys.cluster import (
    STACKS,
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


def admitted_by_kueue(workload: Object, flavor: Object) -> Object:
    """The Job after Kueue admitted it on ``flavor``: Kueue writes the flavor's node labels and
    tolerations into the pod template and unsuspends it (docs/workloads.md)."""
    out = copy.deepcopy(workload)
    spec = out["spec"]["template"]["spec"]
    spec["nodeSelector"] = {**spec.get("nodeSelector", {}), **flavor["spec"]["nodeLabels"]}
    spec["tolerations"] = [*spec.get("tolerations", []), *flavor["spec"].get("tolerations", [])]
    out["spec"]["suspend"] = False
    return out


def pod_of_job(job: Object, suffix: str = "0-x7k2p") -> Object:
    """A pod as the job controller creates it from the Job's template (its labels plus the
    job-name labels, owned by the Job)."""
    template = copy.deepcopy(job["spec"]["template"])
    name = job["metadata"]["name"]
    metadata = template.get("metadata", {})
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            **metadata,
            "name": f"{name}-{suffix}",
            "namespace": job["metadata"]["namespace"],
            "labels": {
                **metadata.get("labels", {}),
                "batch.kubernetes.io/job-name": name,
                "job-name": name,
            },
            "ownerReferences": [
                {"apiVersion": "batch/v1", "kind": "Job", "name": name, "uid": "0a1b-03"}
            ],
        },
        "spec": template["spec"],
    }


@journey(
    user="ML engineer of tenant ml-research",
    stack="dev, staging, prod",
    steps=[
        "submit the training Job of docs/workloads.md (queue label, no toleration)",
        "Kueue admits it on the training flavor and unsuspends it",
        "the job controller creates its pods",
    ],
    outcome="Kyverno admits the Job at CREATE and again when Kueue updates it, and admits its "
    "pods, which carry the training pool's toleration and node labels",
    docs=["docs/workloads.md#submitting-a-training-job"],
)
@pytest.mark.parametrize("name", STACKS)
def test_the_documented_training_job_runs(name: str) -> None:
    s = stack(name)
    job = documented_job(s)
    engineer = tenant_engineer(GPU_TENANT)
    at_create = s.admit([job], engineer)
    assert denied(at_create, "finetune-llama") == {}
    assert "substrate-gpu-queue-label" in judged_by(at_create, "finetune-llama")

    admitted = admitted_by_kueue(job, s.one("ResourceFlavor", "training"))
    at_update = s.admit([admitted], controller("kueue"), operation="UPDATE")
    assert denied(at_update, "finetune-llama") == {}

    pod = pod_of_job(admitted)
    verdicts = s.admit([pod], controller("job-controller"))
    assert denied(verdicts, pod["metadata"]["name"]) == {}
    assert "substrate-gpu-placement" in judged_by(verdicts, pod["metadata"]["name"])


@journey(
    user="ML engineer of tenant ml-research",
    stack="dev, staging, prod",
    steps=["create a bare GPU pod (no Kueue-managed owner, no toleration) in ml-research"],
    outcome="denied by gpu-placement: a bare GPU pod must carry the nvidia.com/gpu toleration "
    "itself, since nothing will add it",
    docs=["docs/workloads.md#submitting-a-training-job"],
)
@pytest.mark.parametrize("name", STACKS)
def test_a_bare_gpu_pod_needs_its_own_toleration(name: str) -> None:
    s = stack(name)
    job = documented_job(s)
    pod = pod_of_job(job, "bare")
    pod["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] = GPU_TENANT
    del pod["metadata"]["ownerReferences"]
    refused = denied(s.admit([pod], tenant_engineer(GPU_TENANT)), pod["metadata"]["name"])
    assert set(refused) == {"substrate-gpu-placement"}
    assert (
        "must tolerate the nvidia.com/gpu=true:NoSchedule taint"
        in refused["substrate-gpu-placement"]
    )


@journey(
    user="engineer of the CPU-only tenant data-eng",
    stack="dev, staging, prod",
    steps=["submit the documented training Job, queued, into data-eng"],
    outcome="the Job is admitted, but each pod it would run is denied by gpu-placement: GPUs "
    "only in namespaces labelled substrate.io/gpu",
)
@pytest.mark.parametrize("name", STACKS)
def test_gpu_work_outside_gpu_tenants_is_refused(name: str) -> None:
    s = stack(name)
    job = copy.deepcopy(documented_job(s))
    job["metadata"]["namespace"] = CPU_NAMESPACE
    job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] = "data-eng"
    assert denied(s.admit([job], tenant_engineer("data-eng")), "finetune-llama") == {}
    pod = pod_of_job(admitted_by_kueue(job, s.one("ResourceFlavor", "training")))
    refused = denied(s.admit([pod], controller("job-controller")), pod["metadata"]["name"])
    assert set(refused) == {"substrate-gpu-placement"}
    assert "substrate.io/gpu" in refused["substrate-gpu-placement"]


@journey(
    user="ML engineer of tenant ml-research",
    stack="dev, staging, prod",
    steps=["submit the documented training Job without its kueue.x-k8s.io/queue-name label"],
    outcome="denied by gpu-queue-label, which names the missing label",
    docs=["docs/workloads.md#submitting-a-training-job"],
)
@pytest.mark.parametrize("name", STACKS)
def test_gpu_work_must_name_its_queue(name: str) -> None:
    s = stack(name)
    job = copy.deepcopy(documented_job(s))
    del job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"]
    refused = denied(s.admit([job], tenant_engineer(GPU_TENANT)), "finetune-llama")
    assert set(refused) == {"substrate-gpu-queue-label"}
    assert "has no kueue.x-k8s.io/queue-name label" in refused["substrate-gpu-queue-label"]


def _inference_deployment(s: Stack) -> Object:
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
                "spec": copy.deepcopy(documented_job(s)["spec"]["template"]["spec"])
                | {"restartPolicy": "Always"},
            },
        },
    }


def _gated_pod(deployment: Object) -> Object:
    """A replica as the ReplicaSet controller creates it and Kueue's pod webhook holds it: the
    queue label propagated, the `kueue.x-k8s.io/admission` scheduling gate, no toleration."""
    template: dict[str, Any] = copy.deepcopy(deployment["spec"]["template"])
    spec = template["spec"]
    spec["schedulingGates"] = [{"name": "kueue.x-k8s.io/admission"}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "llm-6f7d9-k2x4z",
            "namespace": deployment["metadata"]["namespace"],
            "labels": {
                **template["metadata"]["labels"],
                "kueue.x-k8s.io/queue-name": "inference",
                "kueue.x-k8s.io/managed": "true",
            },
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "llm-6f7d9", "uid": "5c2"}
            ],
        },
        "spec": spec,
    }


@journey(
    user="inference engineer of tenant inference",
    stack="dev, staging, prod",
    steps=[
        "create a GPU inference Deployment with its queue label and no toleration",
        "the ReplicaSet controller creates its pods; Kueue's webhook holds them behind its gate",
    ],
    outcome="Kyverno admits the Deployment and its gated pods; Kueue adds the toleration when "
    "it admits each pod",
    docs=["docs/workloads.md#elastic-services-inference-and-agents"],
)
@pytest.mark.parametrize("name", STACKS)
def test_a_gpu_inference_deployment_is_admitted_pod_by_pod(name: str) -> None:
    s = stack(name)
    deployment = _inference_deployment(s)
    assert denied(s.admit([deployment], tenant_engineer("inference")), "llm") == {}
    pod = _gated_pod(deployment)
    verdicts = s.admit([pod], controller("replicaset-controller"))
    assert denied(verdicts, pod["metadata"]["name"]) == {}
    assert "substrate-gpu-placement" in judged_by(verdicts, pod["metadata"]["name"])


@journey(
    user="platform engineer",
    stack="dev, staging, prod",
    steps=["a non-compliant pod (created before a policy, or under Audit) is deleted"],
    outcome="the UPDATEs that remove its finalizers are never refused, so it finishes "
    "terminating and its namespace can be deleted",
)
@pytest.mark.parametrize("name", STACKS)
def test_pod_updates_never_block_termination(name: str) -> None:
    s = stack(name)
    pod = pod_of_job(documented_job(s), "stuck")
    pod["spec"]["containers"][0]["image"] = "docker.io/library/python:latest"
    pod["spec"]["containers"][0]["securityContext"] = {"privileged": True}
    pod["metadata"]["finalizers"] = ["example.com/cleanup"]
    assert denied(s.admit([pod], controller("job-controller")), pod["metadata"]["name"]) != {}
    updates = s.admit([pod], controller("job-controller"), operation="UPDATE")
    assert denied(updates, pod["metadata"]["name"]) == {}
