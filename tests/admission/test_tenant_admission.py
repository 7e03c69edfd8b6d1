"""The prod plan's tenant namespaces under the prod plan's Kyverno policies: a representative
training Job in the GPU tenant's namespace, and the pod it runs once Kueue admits it onto the
training flavor, pass every policy; the same pod in a CPU-only tenant's namespace is denied."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.admission_policies import MODULES
from substrate.plan.command import PlanResult
from tests.admission.kyverno_cel import CompiledPolicy, namespace_object

IMAGE = "210987654321.dkr.ecr.us-east-1.amazonaws.com/ml/trainer:2026.11.0"


def _manifests(plan: PlanResult, kind: str) -> list[dict[str, Any]]:
    return [m for m in plan.manifests.values() if m["kind"] == kind]


def _namespace(plan: PlanResult, name: str) -> dict[str, Any]:
    (ns,) = [m for m in _manifests(plan, "Namespace") if m["metadata"]["name"] == name]
    return namespace_object(name, ns["metadata"]["labels"])


def _policies(plan: PlanResult) -> list[CompiledPolicy]:
    return [CompiledPolicy(p) for p in _manifests(plan, "ValidatingPolicy")]


def _pod_spec() -> dict[str, Any]:
    return {
        # A trainer does not call the Kubernetes API: no token (R29).
        "automountServiceAccountToken": False,
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "restartPolicy": "Never",
        "containers": [
            {
                "name": "trainer",
                "image": IMAGE,
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"]},
                },
                "resources": {
                    "requests": {"cpu": "32", "memory": "256Gi", "nvidia.com/gpu": "8"},
                    "limits": {"memory": "256Gi", "nvidia.com/gpu": "8"},
                },
            }
        ],
    }


@pytest.fixture(scope="module")
def job(prod_plan: PlanResult) -> dict[str, Any]:
    """What an ml-research engineer submits: its LocalQueue from the plan, the training tier."""
    (queue,) = [
        q
        for q in _manifests(prod_plan, "LocalQueue")
        if q["metadata"]["namespace"] == "ml-research"
    ]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "finetune-llama",
            "namespace": "ml-research",
            "labels": {
                "kueue.x-k8s.io/queue-name": queue["metadata"]["name"],
                "kueue.x-k8s.io/priority-class": "training",
            },
        },
        "spec": {
            "parallelism": 2,
            "completions": 2,
            "ttlSecondsAfterFinished": 86400,
            "template": {
                "metadata": {
                    "labels": {"substrate.io/workload-class": "training"},
                    "annotations": {"karpenter.sh/do-not-disrupt": "true"},
                },
                "spec": _pod_spec(),
            },
        },
    }


@pytest.fixture(scope="module")
def admitted_pod(prod_plan: PlanResult, job: dict[str, Any]) -> dict[str, Any]:
    """The Job's pod after Kueue admitted it on the `training` flavor: Kueue injected the
    flavor's node labels and tolerations (taken from the plan's ResourceFlavor)."""
    (flavor,) = [
        f for f in _manifests(prod_plan, "ResourceFlavor") if f["metadata"]["name"] == "training"
    ]
    template = copy.deepcopy(job["spec"]["template"])
    spec = template["spec"]
    spec["nodeSelector"] = dict(flavor["spec"]["nodeLabels"])
    spec["tolerations"] = copy.deepcopy(flavor["spec"]["tolerations"])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "finetune-llama-0-abcde",
            "namespace": "ml-research",
            "labels": {
                **template["metadata"]["labels"],
                "batch.kubernetes.io/job-name": "finetune-llama",
            },
            "annotations": template["metadata"]["annotations"],
            "ownerReferences": [
                {"apiVersion": "batch/v1", "kind": "Job", "name": "finetune-llama", "uid": "1"}
            ],
        },
        "spec": spec,
    }


def test_the_training_job_passes_every_prod_policy(
    prod_plan: PlanResult, job: dict[str, Any]
) -> None:
    namespace = _namespace(prod_plan, "ml-research")
    results = {
        p.policy["metadata"]["name"]: p.evaluate(job, namespace).result
        for p in _policies(prod_plan)
    }
    assert len(results) == len(MODULES) and set(results.values()) <= {"pass", "skip"}, results
    # The queue-label policy really looked at it (Jobs are in its scope).
    assert results["substrate-gpu-queue-label"] == "pass"


def test_its_admitted_pod_passes_every_prod_policy(
    prod_plan: PlanResult, admitted_pod: dict[str, Any]
) -> None:
    namespace = _namespace(prod_plan, "ml-research")
    results = {
        p.policy["metadata"]["name"]: p.evaluate(admitted_pod, namespace).result
        for p in _policies(prod_plan)
    }
    assert set(results.values()) <= {"pass", "skip"}, results
    assert results["substrate-gpu-placement"] == "pass"


def test_the_same_pod_in_a_cpu_only_tenant_is_denied(
    prod_plan: PlanResult, admitted_pod: dict[str, Any]
) -> None:
    pod = copy.deepcopy(admitted_pod)
    pod["metadata"]["namespace"] = "data-eng"
    namespace = _namespace(prod_plan, "data-eng")
    failing = {
        p.policy["metadata"]["name"]
        for p in _policies(prod_plan)
        if p.evaluate(pod, namespace).result == "fail"
    }
    assert failing == {"substrate-gpu-placement"}


def test_a_gpu_job_without_its_queue_is_denied(prod_plan: PlanResult, job: dict[str, Any]) -> None:
    unqueued = copy.deepcopy(job)
    del unqueued["metadata"]["labels"]["kueue.x-k8s.io/queue-name"]
    namespace = _namespace(prod_plan, "ml-research")
    failing = {
        p.policy["metadata"]["name"]
        for p in _policies(prod_plan)
        if p.evaluate(unqueued, namespace).result == "fail"
    }
    assert failing == {"substrate-gpu-queue-label"}
