"""Queue journeys on every stack: Kueue v0.19.2's own code (the kueue engine, with the
Configuration the stack's Helm release renders) decides every admission, flavor, borrow and
preemption. The sizes come from each stack's tenants; nothing here re-derives Kueue's verdicts.
"""

from __future__ import annotations

from typing import Any

import pytest

from substrate.engines.kueue import Step, StepResult
from tests.helpers import STACKS
from tests.journeys import queue_objects as q
from tests.journeys.cluster import (
    docs_yaml,
    rehome,
)
from tests.journeys.journey import journey
from tests.journeys.queues import GPU, GPU_TOLERATION, QueueStack, played, queue_stack

WORKLOADS = "docs/workloads.md"
SUBMITTING = f"{WORKLOADS}#submitting-a-training-job"
CONTENTION = f"{WORKLOADS}#contention-who-waits-who-borrows-who-is-preempted"
NOTHING_BYPASSES = f"{WORKLOADS}#nothing-bypasses-the-queues"
RESEARCH, INFERENCE = "ml-research", "inference"
SMALL = {"cpu": "1", "memory": "4Gi"}
EXTENDED = {
    "ephemeral-storage": {"ephemeral-storage": "100Gi"},
    "efa": {"vpc.amazonaws.com/efa": "4"},
    "hugepages": {"hugepages-2Mi": "1Gi"},
}


def gpus(n: int) -> dict[str, str]:
    return {**SMALL, GPU: str(n)}


def documented_job(s: QueueStack) -> dict[str, Any]:
    (job,) = docs_yaml("workloads.md", "Submitting a training job")
    return rehome(job, s.config.admission.allowed_registries[0])


def _pod_spec(obj: Any) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]


# -- the documented job --------------------------------------------------------------------
def _docs(s: QueueStack) -> list[Step]:
    return [Step("submit the documented Job", submit=[documented_job(s)])]


@journey(
    user="ML engineer of tenant ml-research",
    stack="dev, staging, prod",
    steps=["submit docs' finetune-llama Job (2 pods x 8 GPUs) to LocalQueue ml-research"],
    outcome="where ml-research can hold 16 GPUs on the training pool (prod) Kueue admits it on "
    "flavor training and unsuspends it with the flavor's node labels (substrate.io/pool: "
    "training) and the GPU toleration, so Karpenter's training pool launches it; where it "
    "cannot (staging: 12, dev: 4) the Job stays suspended and Kueue names the quota it lacks",
    docs=[SUBMITTING],
)
@pytest.mark.parametrize("name", STACKS)
def test_the_documented_training_job(name: str) -> None:
    s = queue_stack(name)
    (step,) = played(name, "docs", _docs)
    wl = step.workload_of("Job", "finetune-llama")
    job = step.object("Job", "finetune-llama")
    if s.gpu_ceiling(RESEARCH, "training") >= 16:
        assert wl.admitted and wl.cluster_queue == RESEARCH
        assert wl.flavors() == {"main": {"cpu": "default", "memory": "default", GPU: "training"}}
        assert job["spec"]["suspend"] is False
        assert _pod_spec(job)["nodeSelector"] == s.flavor_labels("training")
        assert GPU_TOLERATION in _pod_spec(job)["tolerations"]
    else:
        assert not wl.admitted and job["spec"]["suspend"] is True
        assert wl.pending_message.startswith(
            "couldn't assign flavors to pod set main: insufficient quota for "
        )


# -- borrowing, waiting, reclaim -------------------------------------------------------------
def _contention(s: QueueStack) -> list[Step]:
    """ml-research fills what it can hold on training (T) and borrow on inference (B); then
    inference deploys its own nominal GPUs."""
    t, b = s.gpu_ceiling(RESEARCH, "training"), s.gpu_ceiling(RESEARCH, INFERENCE)
    own = s.tenant(INFERENCE).gpu_share(INFERENCE)
    assert own is not None and own.nominal % 3 == 0
    return [
        Step(
            "ml-research submits T+B GPUs as one pod set",
            submit=[q.jobset("one-set", RESEARCH, {"workers": (t + b, gpus(1))}, queue=RESEARCH)],
        ),
        Step(
            "ml-research submits them as two pod sets (T + B)",
            submit=[
                q.jobset(
                    "two-sets",
                    RESEARCH,
                    {"workers": (t, gpus(1)), "extra": (b, gpus(1))},
                    queue=RESEARCH,
                )
            ],
        ),
        Step(
            "ml-research submits one GPU more",
            submit=[q.job("one-more", RESEARCH, gpus(1), queue=RESEARCH)],
        ),
        Step(
            "inference deploys its nominal GPUs (3 replicas)",
            submit=[q.deployment("llm", INFERENCE, 3, gpus(own.nominal // 3), queue=INFERENCE)],
        ),
    ]


def contention(name: str) -> list[StepResult]:
    return played(name, "contention", _contention)


@journey(
    user="ML engineer of tenant ml-research",
    stack="dev, staging, prod",
    steps=[
        "submit a JobSet whose one pod set needs the training GPUs ml-research can hold (T) "
        "plus the inference GPUs it may borrow (B)",
        "submit the same GPUs as two pod sets, T and B",
    ],
    outcome="Kueue puts each pod set on one flavor: the single pod set never fits (no one "
    "flavor holds T+B); the two pod sets are admitted, T on training and B borrowed on "
    "inference (ClusterQueue ml-research shows borrowed: B there, 0 on training)",
    docs=[CONTENTION],
)
@pytest.mark.parametrize("name", STACKS)
def test_borrowing_is_per_pod_set(name: str) -> None:
    s = queue_stack(name)
    b = s.gpu_ceiling(RESEARCH, INFERENCE)
    one = contention(name)[0].workload_of("JobSet", "one-set")
    assert not one.admitted
    assert "couldn't assign flavors to pod set workers" in one.pending_message
    step = contention(name)[1]
    two = step.workload_of("JobSet", "two-sets")
    assert two.admitted
    assert {p: f[GPU] for p, f in two.flavors().items()} == {
        "workers": "training",
        "extra": INFERENCE,
    }
    research = step.cluster_queues[RESEARCH]
    assert research.borrowed(INFERENCE, GPU) == str(b)
    assert research.borrowed("training", GPU) == "0"


@journey(
    user="ML engineer of tenant ml-research",
    stack="dev, staging, prod",
    steps=["hold every GPU ml-research can hold and borrow", "submit a 1-GPU Job"],
    outcome="the Job waits, suspended, with Kueue's reason naming both flavors",
    docs=[CONTENTION],
)
@pytest.mark.parametrize("name", STACKS)
def test_a_tenant_over_its_quota_waits(name: str) -> None:
    step = contention(name)[2]
    wl = step.workload_of("Job", "one-more")
    assert not wl.admitted
    assert "insufficient unused quota for nvidia.com/gpu in flavor training" in wl.pending_message
    assert "in flavor inference" in wl.pending_message
    assert step.object("Job", "one-more")["spec"]["suspend"] is True


@journey(
    user="inference team",
    stack="dev, staging, prod",
    steps=[
        "ml-research borrows the inference GPUs it may",
        "inference deploys a GPU Deployment with the queue label, asking for its nominal GPUs",
    ],
    outcome="Kueue's deployment integration admits each replica as its own Workload; to fit "
    "them it preempts the borrowing JobSet (InCohortReclamation, the whole workload, "
    "suspended); admitted pods are ungated with the inference pool's node selector",
    docs=[CONTENTION, f"{WORKLOADS}#elastic-services-inference-and-agents"],
)
@pytest.mark.parametrize("name", STACKS)
def test_inference_reclaims_what_it_lent(name: str) -> None:
    step = contention(name)[3]
    pods = step.workloads_of("Deployment", "llm")
    assert len(pods) == 3 and all(w.admitted and w.pod_sets[0].count == 1 for w in pods)
    assert {w.flavors()["main"][GPU] for w in pods} == {INFERENCE}
    borrower = step.workload_of("JobSet", "two-sets")
    assert borrower.preempted and not borrower.admitted
    preempted = borrower.condition("Preempted")
    assert preempted is not None and preempted.reason == "InCohortReclamation"
    assert step.object("JobSet", "two-sets")["spec"]["suspend"] is True
    pod = step.object("Pod", "llm-rs-0")
    assert pod["spec"].get("schedulingGates") in (None, [])
    assert pod["spec"]["nodeSelector"] == queue_stack(name).flavor_labels(INFERENCE)


# -- what Kueue counts ------------------------------------------------------------------------
def _extended(_: QueueStack) -> list[Step]:
    return [
        Step(
            key,
            submit=[q.job(key, RESEARCH, {**gpus(1), **extra}, limits={**gpus(1), **extra})],
        )
        for key, extra in EXTENDED.items()
    ]


@journey(
    user="ML engineer of tenant ml-research",
    stack="dev, staging, prod",
    steps=["submit GPU jobs requesting ephemeral-storage, vpc.amazonaws.com/efa or hugepages-2Mi"],
    outcome="each is admitted; Kueue counts only CPU, memory and GPUs (the Configuration's "
    "resources.excludeResourcePrefixes), so node-local resources never hold a job back",
    docs=[f"{WORKLOADS}#what-kueue-counts"],
)
@pytest.mark.parametrize("name", STACKS)
def test_node_local_resources_do_not_block_admission(name: str) -> None:
    for key, step in zip(EXTENDED, played(name, "extended", _extended), strict=True):
        wl = step.workload_of("Job", key)
        assert wl.admitted, wl.pending_message
        assert set(wl.pod_sets[0].requests) == {"cpu", "memory", GPU}
