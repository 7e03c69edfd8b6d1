"""Queue journeys on every stack: Kueue v0.19.2's own code (the kueue engine, with the
Configuration the stack's Helm release renders) decides every admission, flavor, borrow and
preemption. The sizes come from each stack's tenants; nothing here re-derives Kueue's verdicts.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.tenancy import quantity
from substrate.engines.kueue import Ref, Step, StepResult
from tests.journeys import queue_objects as q
from tests.journeys.cluster import (
    STACKS,
    controller,
    denied,
    docs_yaml,
    judged_by,
    rehome,
    stack,
    tenant_engineer,
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


# -- nothing bypasses the queues ----------------------------------------------------------------
def _unlabelled(s: QueueStack) -> list[Step]:
    job = documented_job(s)
    job["metadata"]["labels"] = {}
    job["spec"]["parallelism"] = job["spec"]["completions"] = 1
    resources = job["spec"]["template"]["spec"]["containers"][0]["resources"]
    resources["requests"][GPU] = resources["limits"][GPU] = "1"
    resources["requests"]["cpu"], resources["requests"]["memory"] = "4", "32Gi"
    resources["limits"]["memory"] = "32Gi"
    return [
        Step(
            "submit without kueue.x-k8s.io/queue-name",
            submit=[
                job,
                q.job("adhoc", "data-eng", {"cpu": "1"}),
                q.pod("shell", "data-eng", SMALL),
                _bare_pod(job, "notebook"),
            ],
        )
    ]


def _bare_pod(job: dict[str, Any], name: str) -> dict[str, Any]:
    """A bare Pod with the documented Job's (compliant) pod template, no owner, no toleration."""
    template = copy.deepcopy(job["spec"]["template"])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {**template.get("metadata", {}), "name": name, "namespace": RESEARCH},
        "spec": template["spec"],
    }


@journey(
    user="engineers of tenants ml-research and data-eng",
    stack="dev, staging, prod",
    steps=[
        "submit the documented GPU Job, a CPU Job, a bare CPU Pod and a bare GPU Pod without "
        "toleration, none with a queue label",
    ],
    outcome="Kueue's webhooks label each kueue.x-k8s.io/queue-name: default (the LocalQueue "
    "every tenant namespace has) and queue it on the tenant's ClusterQueue; Kyverno admits the "
    "GPU Job and the gated GPU Pod as Kueue let them in; both run on the training pool, the "
    "pod ungated with the training flavor's node labels and toleration",
    docs=[NOTHING_BYPASSES],
)
@pytest.mark.parametrize("name", STACKS)
def test_unlabelled_work_goes_to_the_default_queue(name: str) -> None:
    (step,) = played(name, "unlabelled", _unlabelled)
    for kind, obj, tenant in (
        ("Job", "finetune-llama", RESEARCH),
        ("Job", "adhoc", "data-eng"),
        ("Pod", "shell", "data-eng"),
        ("Pod", "notebook", RESEARCH),
    ):
        created = step.created_object(kind, obj)
        assert created["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "default"
        wl = step.workload_of(kind, obj)
        assert wl.queue == "default" and wl.cluster_queue == tenant and wl.admitted
    assert step.workload_of("Job", "finetune-llama").flavors()["main"][GPU] == "training"
    job = step.created_object("Job", "finetune-llama")
    assert job["spec"]["suspend"] is True
    gated = step.created_object("Pod", "notebook")
    assert {"name": "kueue.x-k8s.io/admission"} in gated["spec"]["schedulingGates"]
    verdicts = stack(name).admit([job, gated], tenant_engineer(RESEARCH))
    assert denied(verdicts, "finetune-llama") == {} and denied(verdicts, "notebook") == {}
    assert "substrate-gpu-queue-label" in judged_by(verdicts, "finetune-llama")
    assert step.workload_of("Pod", "notebook").flavors()["main"][GPU] == "training"
    pod = step.object("Pod", "notebook")
    assert pod["spec"].get("schedulingGates") in (None, [])
    assert pod["spec"]["nodeSelector"] == queue_stack(name).flavor_labels("training")
    assert GPU_TOLERATION in pod["spec"]["tolerations"]


# -- agents ------------------------------------------------------------------------------------
def _agents(s: QueueStack) -> list[Step]:
    """The agents start at their fewest replicas and KEDA scales them to their most; the
    tenants other than data-eng and agents use their nominal CPU; data-eng asks for its own
    nominal plus every CPU the agents leave unused, then one more."""
    sets = []
    for sts in s.manifests("StatefulSet", "agents"):
        agent = s.config.agents[sts["metadata"]["name"]]
        sts["spec"]["replicas"] = agent.min_replicas
        sets.append(sts)
    grow = [
        Ref("StatefulSet", "agents", n, a.max_replicas) for n, a in sorted(s.config.agents.items())
    ]
    fill = [
        q.job(f"busy-{t.name}", t.namespaces[0], {"cpu": str(t.cpu.nominal), "memory": "1Gi"})
        for t in s.tenants.values()
        if t.name not in ("data-eng", "agents")
    ]
    de = s.tenant("data-eng")
    unused = s.tenant("agents").cpu.nominal * 1000 - agents_millicores(s)
    return [
        Step("the agents start", submit=sets),
        Step("KEDA scales every agent to its most replicas", scale=grow),
        Step("the other tenants use their nominal CPU", submit=fill),
        Step(
            "data-eng asks for its nominal plus what the agents leave unused",
            submit=[
                q.job(
                    "borrow",
                    "data-eng",
                    {"cpu": f"{de.cpu.nominal * 1000 + unused}m", "memory": "1Gi"},
                )
            ],
        ),
        Step(
            "data-eng asks for one CPU more",
            submit=[q.job("one-more", "data-eng", {"cpu": "1", "memory": "1Gi"})],
        ),
    ]


def agents_millicores(s: QueueStack) -> int:
    """What the agents request at their most replicas (their pods' CPU requests)."""
    return sum(int(quantity(a.cpu) * 1000) * a.max_replicas for a in s.config.agents.values())


@journey(
    user="platform engineer running the agents; data-eng borrowing CPU",
    stack="dev, staging, prod",
    steps=[
        "pulumi up starts the agent StatefulSets (no queue label)",
        "KEDA scales each agent to its maxReplicas",
        "the other tenants use their nominal CPU",
        "data-eng asks for its nominal CPU plus what the agents leave unused, then one more",
    ],
    outcome="Kueue queues every agent pod on the agents ClusterQueue through the default "
    "LocalQueue (each pod its own Workload, so KEDA's resizes are admitted pod by pod); the "
    "CPUs the agents use are not lent: data-eng gets exactly its nominal plus the agents' "
    "unused CPUs, and one CPU more waits",
    docs=[NOTHING_BYPASSES],
)
@pytest.mark.parametrize("name", STACKS)
def test_agents_use_quota_kueue_does_not_lend(name: str) -> None:
    s = queue_stack(name)
    steps = played(name, "agents", _agents)
    grown = steps[1]
    assert grown.rejected == ()
    agent_pods = [w for w in grown.workloads if w.namespace == "agents"]
    assert len(agent_pods) == sum(a.max_replicas for a in s.config.agents.values())
    assert all(w.admitted and w.queue == "default" and w.pod_sets[0].count == 1 for w in agent_pods)
    used = grown.cluster_queues["agents"].total("default", "cpu")
    assert used == _cpu(agents_millicores(s))
    assert steps[3].workload_of("Job", "borrow").admitted
    waits = steps[4].workload_of("Job", "one-more")
    assert not waits.admitted
    assert "insufficient unused quota for cpu in flavor default" in waits.pending_message


def _cpu(millicores: int) -> str:
    return str(millicores // 1000) if millicores % 1000 == 0 else f"{millicores}m"


@journey(
    user="platform engineer deploying the stack",
    stack="dev, staging, prod",
    steps=["the StatefulSet controller creates the agents' pods; Kueue's pod webhook holds them"],
    outcome="Kyverno admits the agent pods as Kueue let them in (queue default, scheduling "
    "gate, finalizer)",
    docs=[NOTHING_BYPASSES],
)
@pytest.mark.parametrize("name", STACKS)
def test_gated_agent_pods_are_admitted(name: str) -> None:
    start = played(name, "agents", _agents)[0]
    pods = [o for o in start.created if o["kind"] == "Pod"]
    assert pods and all(p["spec"]["schedulingGates"] for p in pods)
    s = stack(name)
    pdbs = s.objects("PodDisruptionBudget", "agents")
    verdicts = s.admit(pods, controller("statefulset-controller"), cluster=pdbs)
    for pod in pods:
        assert denied(verdicts, pod["metadata"]["name"]) == {}
