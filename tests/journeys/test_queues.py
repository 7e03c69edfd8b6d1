"""Queue journeys on the prod plan: Kueue v0.19.2's own code (the kueue engine) decides every
admission, flavor, borrow and preemption; nothing here re-derives them."""

from __future__ import annotations

from typing import Any

import pytest

from substrate.engines.kueue import Ref, Step, StepResult, run
from tests.conftest import planned
from tests.helpers import require_engine
from tests.journeys import queue_objects as q
from tests.journeys.journey import journey

GPU = "nvidia.com/gpu"
GPU_TOLERATION = {"key": GPU, "operator": "Equal", "value": "true", "effect": "NoSchedule"}
WORKLOADS_DOC = "docs/workloads.md"


def gpus(n: int, cpu: str = "8", memory: str = "64Gi") -> dict[str, str]:
    return {"cpu": cpu, "memory": memory, GPU: str(n)}


DOCS_JOB = q.job(
    "finetune-llama",
    "ml-research",
    {"cpu": "32", "memory": "256Gi", GPU: "8"},
    limits={"memory": "256Gi", GPU: "8"},
    pods=2,
    queue="ml-research",
    priority="training",
)
TWO_POD_SETS = {"workers": (6, gpus(8)), "extra": (1, gpus(8))}
EXTENDED = {
    "ephemeral-storage": {"ephemeral-storage": "100Gi"},
    "hugepages": {"hugepages-2Mi": "1Gi"},
}
"""Node-local resources. vpc.amazonaws.com/efa is GPU quota, not node-local: test_placement.py."""


def _extended_job(name: str, extra: dict[str, str]) -> dict[str, Any]:
    requests = {"cpu": "4", "memory": "16Gi", **extra}
    return q.job(name, "ml-research", requests, limits=requests, queue="ml-research")


SCENARIOS: dict[str, list[Step]] = {
    "training": [
        Step("submit the documented Job", submit=[DOCS_JOB]),
        Step(
            "submit a second 48-GPU job",
            submit=[q.job("second", "ml-research", gpus(8), pods=6, queue="ml-research")],
        ),
    ],
    "contention": [
        Step(
            "inference serves on 10 GPUs",
            submit=[q.deployment("llm", "inference", 10, gpus(1), queue="inference")],
        ),
        Step(
            "ml-research submits 56 GPUs as one pod set",
            submit=[
                q.jobset("one-set", "ml-research", {"workers": (7, gpus(8))}, queue="ml-research")
            ],
        ),
        Step(
            "ml-research submits 56 GPUs as 48 + 8",
            submit=[q.jobset("two-sets", "ml-research", TWO_POD_SETS, queue="ml-research")],
        ),
        Step("inference scales to 20 replicas", scale=[Ref("Deployment", "inference", "llm", 20)]),
    ],
    "extended": [
        Step(name, submit=[_extended_job(name, extra)]) for name, extra in EXTENDED.items()
    ],
    "unlabelled": [
        Step("submit without a queue", submit=[q.job("adhoc", "data-eng", {"cpu": "1"})])
    ],
}


@pytest.fixture(scope="module")
def prod_queues() -> dict[str, list[StepResult]]:
    require_engine("kueue")
    plan = planned("prod")
    return run(plan.manifests, plan.releases, SCENARIOS)


def _pod_spec(obj: Any) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]


@journey(
    user="ML engineer of tenant ml-research",
    stack="prod",
    steps=["submit docs' finetune-llama Job (2 pods x 8 GPUs) to LocalQueue ml-research"],
    outcome="admitted by ClusterQueue ml-research on flavor training; Kueue unsuspends the Job "
    "with nodeSelector substrate.io/pool=training and the GPU toleration, so Karpenter's "
    "training pool launches it",
    docs=[f"{WORKLOADS_DOC}#submitting-a-training-job"],
)
def test_training_job_lands_on_the_training_pool(prod_queues: dict[str, list[StepResult]]) -> None:
    step = prod_queues["training"][0]
    wl = step.workload_of("Job", "finetune-llama")
    assert wl.admitted and wl.cluster_queue == "ml-research"
    assert wl.flavors() == {"main": {"cpu": "default", "memory": "default", GPU: "training"}}
    job = step.object("Job", "finetune-llama")
    assert job["spec"]["suspend"] is False
    assert _pod_spec(job)["nodeSelector"] == {"substrate.io/pool": "training"}
    assert GPU_TOLERATION in _pod_spec(job)["tolerations"]


@journey(
    user="ML engineer of tenant ml-research",
    stack="prod",
    steps=["16 training GPUs run", "submit a 48-GPU job (nominal 48, nobody lends training GPUs)"],
    outcome="the second job waits, suspended, with Kueue's reason naming the training flavor",
    docs=[f"{WORKLOADS_DOC}#contention-in-prod-who-waits-who-borrows-who-is-preempted"],
)
def test_a_tenant_over_its_quota_waits(prod_queues: dict[str, list[StepResult]]) -> None:
    step = prod_queues["training"][1]
    wl = step.workload_of("Job", "second")
    assert not wl.admitted
    assert "insufficient unused quota for nvidia.com/gpu in flavor training" in wl.pending_message
    assert step.object("Job", "second")["spec"]["suspend"] is True


@journey(
    user="ML engineer of tenant ml-research",
    stack="prod",
    steps=[
        "inference serves on 10 GPUs",
        "submit a 56-GPU JobSet as one pod set",
        "submit it as two pod sets (48 + 8)",
    ],
    outcome="Kueue puts each pod set on one flavor: one 56-GPU pod set never fits (training "
    "holds 48, inference lends at most 8); 48 + 8 is admitted with 48 on training and 8 "
    "borrowed on inference",
    docs=[f"{WORKLOADS_DOC}#contention-in-prod-who-waits-who-borrows-who-is-preempted"],
)
def test_borrowing_is_per_pod_set(prod_queues: dict[str, list[StepResult]]) -> None:
    one = prod_queues["contention"][1].workload_of("JobSet", "one-set")
    assert not one.admitted
    assert "couldn't assign flavors to pod set workers" in one.pending_message
    step = prod_queues["contention"][2]
    two = step.workload_of("JobSet", "two-sets")
    assert two.admitted
    assert {p: f[GPU] for p, f in two.flavors().items()} == {
        "workers": "training",
        "extra": "inference",
    }
    research = step.cluster_queues["ml-research"]
    assert research.borrowed("inference", GPU) == "8"
    assert research.borrowed("training", GPU) == "0"


@journey(
    user="inference team (KEDA scales its Deployment)",
    stack="prod",
    steps=["ml-research borrows 8 inference GPUs", "inference scales from 10 to 20 replicas"],
    outcome="Kueue preempts the borrowing JobSet (InCohortReclamation, whole workload, "
    "suspended) and admits all 20 inference pods on the inference flavor",
    docs=[f"{WORKLOADS_DOC}#contention-in-prod-who-waits-who-borrows-who-is-preempted"],
)
def test_inference_reclaims_what_it_lent(prod_queues: dict[str, list[StepResult]]) -> None:
    step = prod_queues["contention"][3]
    pods = step.workloads_of("Deployment", "llm")
    assert len(pods) == 20 and all(w.admitted for w in pods)
    assert {w.flavors()["main"][GPU] for w in pods} == {"inference"}
    borrower = step.workload_of("JobSet", "two-sets")
    assert borrower.preempted and not borrower.admitted
    preempted = borrower.condition("Preempted")
    assert preempted is not None and preempted.reason == "InCohortReclamation"
    assert step.object("JobSet", "two-sets")["spec"]["suspend"] is True


@journey(
    user="inference team",
    stack="prod",
    steps=["deploy a GPU Deployment with the queue label, 10 replicas"],
    outcome="Kueue's deployment integration gates every pod and admits each as its own "
    "Workload on the inference flavor; admitted pods are ungated with the pool's node selector",
    docs=[f"{WORKLOADS_DOC}#elastic-services-inference-and-agents"],
)
def test_inference_replicas_are_admitted_per_pod(prod_queues: dict[str, list[StepResult]]) -> None:
    step = prod_queues["contention"][0]
    pods = step.workloads_of("Deployment", "llm")
    assert len(pods) == 10
    assert all(w.admitted and w.pod_sets[0].count == 1 for w in pods)
    pod = step.object("Pod", "llm-rs-0")
    assert pod["spec"].get("schedulingGates") in (None, [])
    assert pod["spec"]["nodeSelector"] == {"substrate.io/pool": "inference"}


@pytest.mark.xfail(
    strict=True,
    reason="issue 13: ClusterQueues declare only cpu, memory and nvidia.com/gpu and the Kueue "
    "Configuration sets no resources.excludeResourcePrefixes, so Kueue blocks undeclared resources",
)
@journey(
    user="ML engineer of tenant ml-research",
    stack="prod",
    steps=["submit jobs requesting ephemeral-storage or hugepages-2Mi"],
    outcome="each is admitted (node-local resources are not queue quota)",
)
def test_node_local_resources_do_not_block_admission(
    prod_queues: dict[str, list[StepResult]],
) -> None:
    blocked = {
        name: step.workload_of("Job", name).pending_message
        for name, step in zip(EXTENDED, prod_queues["extended"], strict=True)
        if not step.workload_of("Job", name).admitted
    }
    assert blocked == {}


@journey(
    user="data engineer of tenant data-eng",
    stack="prod",
    steps=["submit a CPU Job without kueue.x-k8s.io/queue-name"],
    outcome="Kueue ignores it (manageJobsWithoutQueueName: false): no Workload, never "
    "suspended; only the namespace ResourceQuota bounds it",
)
def test_a_job_without_a_queue_bypasses_kueue(prod_queues: dict[str, list[StepResult]]) -> None:
    step = prod_queues["unlabelled"][0]
    assert step.workloads_of("Job", "adhoc") == []
    assert step.object("Job", "adhoc")["spec"].get("suspend") in (None, False)


def test_node_local_resources_are_blocked_by_kueue_itself(
    prod_queues: dict[str, list[StepResult]],
) -> None:
    """Why the journey above fails today: Kueue's own BlockUndeclared verdict (not a bad job)."""
    for name, step in zip(EXTENDED, prod_queues["extended"], strict=True):
        message = step.workload_of("Job", name).pending_message
        resource = next(iter(EXTENDED[name].keys() - {GPU}))
        assert f"resource {resource} unavailable in ClusterQueue" in message, message
