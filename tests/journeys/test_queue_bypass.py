"""Nothing bypasses the queues, on every stack: work submitted without a queue label lands on
its tenant's `default` LocalQueue, and the agents' StatefulSets are queued pod by pod, so the
quota they use is never lent. Kueue v0.19.2's own code decides; Kyverno judges the objects as
Kueue's webhooks let them in."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from substrate.components.workloads.tenancy import quantity
from substrate.engines.kueue import Ref, Step
from tests.helpers import STACKS
from tests.journeys import queue_objects as q
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
from tests.journeys.queues import GPU, GPU_TOLERATION, QueueStack, played, queue_stack

NOTHING_BYPASSES = "docs/workloads.md#nothing-bypasses-the-queues"
QUEUE = "kueue.x-k8s.io/queue-name"
RESEARCH = "ml-research"
SMALL = {"cpu": "1", "memory": "4Gi"}
OWNER_POLICY = "substrate-kueue-owner-references"


def documented_job(s: QueueStack) -> dict[str, Any]:
    (job,) = docs_yaml("workloads.md", "Submitting a training job")
    return rehome(job, s.config.admission.allowed_registries[0])


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
    "GPU Job and the gated GPU Pod as Kueue let them in; both run on the first pool Karpenter "
    "tries (inference where it offers whole GPUs, else training), the pod ungated with that "
    "flavor's node labels and toleration",
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
    # capacity.md#which-pool-a-gpu-pod-lands-on: inference is weighted above training; dev's
    # inference pool is time-sliced and offers no nvidia.com/gpu.
    first = "inference" if queue_stack(name).unit("inference") == GPU else "training"
    assert step.workload_of("Job", "finetune-llama").flavors()["main"][GPU] == first
    job = step.created_object("Job", "finetune-llama")
    assert job["spec"]["suspend"] is True
    gated = step.created_object("Pod", "notebook")
    assert {"name": "kueue.x-k8s.io/admission"} in gated["spec"]["schedulingGates"]
    verdicts = stack(name).admit([job, gated], tenant_engineer(RESEARCH))
    assert denied(verdicts, "finetune-llama") == {} and denied(verdicts, "notebook") == {}
    assert "substrate-gpu-queue-label" in judged_by(verdicts, "finetune-llama")
    assert step.workload_of("Pod", "notebook").flavors()["main"][GPU] == first
    pod = step.object("Pod", "notebook")
    assert pod["spec"].get("schedulingGates") in (None, [])
    assert pod["spec"]["nodeSelector"] == queue_stack(name).flavor_labels(first)
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
    grow = [Ref("StatefulSet", "agents", n, a.max_replicas) for n, a in _services(s)]
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


def _services(s: QueueStack) -> list[tuple[str, Any]]:
    """The StatefulSet agents (a task agent's Jobs are queued as Jobs, not pods)."""
    return [(n, a) for n, a in sorted(s.config.agents.items()) if a.mode == "service"]


def agents_millicores(s: QueueStack) -> int:
    """What the agents request at their most replicas (their pods' CPU requests)."""
    return sum(int(quantity(a.cpu) * 1000) * a.max_replicas for _, a in _services(s))


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
    docs=[NOTHING_BYPASSES, "docs/agents.md#how-it-scales"],
)
@pytest.mark.parametrize("name", STACKS)
def test_agents_use_quota_kueue_does_not_lend(name: str) -> None:
    s = queue_stack(name)
    steps = played(name, "agents", _agents)
    grown = steps[1]
    assert grown.rejected == ()
    agent_pods = [w for w in grown.workloads if w.namespace == "agents"]
    assert len(agent_pods) == sum(a.max_replicas for _, a in _services(s))
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


# -- owners a tenant writes, CronJobs ----------------------------------------------------------
def _owned_by_own_job(s: Stack, name: str, resources: dict[str, Any]) -> tuple[Object, Object]:
    """The documented Job (queue label kept) and a bare Pod with its pod template (toleration
    added, no queue label) whose ownerReferences name that Job as controller, with the UID the
    API server gave it: what a tenant engineer reads with `kubectl get job -o jsonpath`."""
    job = documented_job_of(s)
    (created,) = s.create([job], tenant_engineer(RESEARCH)).results
    assert created.admitted is not None, created.errors
    pod = _bare_pod(job, name)
    assert QUEUE not in pod["metadata"].get("labels", {})
    pod["spec"]["containers"][0]["resources"] = resources
    pod["spec"]["tolerations"] = [GPU_TOLERATION]
    pod["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "name": job["metadata"]["name"],
            "uid": created.admitted["metadata"]["uid"],
            "controller": True,
        }
    ]
    return job, pod


def documented_job_of(s: Stack) -> Object:
    """The documented Job, its image in the stack's own registry."""
    (job,) = docs_yaml("workloads.md", "Submitting a training job")
    return rehome(job, s.registry)


def _unqueued(s: Stack, job: Object, pod: Object) -> Object:
    """``pod`` as the API server admits it after ``job``: Kueue's pod webhook takes the Job for
    its owner, so it neither labels nor gates it."""
    _, created = s.create([job, pod], tenant_engineer(RESEARCH)).results
    assert created.admitted is not None, created.errors
    assert QUEUE not in created.admitted["metadata"].get("labels", {})
    assert not created.admitted["spec"].get("schedulingGates")
    return dict(created.admitted)


ONE_GPU = {
    "requests": {"cpu": "4", "memory": "32Gi", GPU: "1"},
    "limits": {"memory": "32Gi", GPU: "1"},
}


@journey(
    user="ML engineer of tenant ml-research trying to skip the queue",
    stack="dev, staging, prod",
    steps=[
        "submit the documented GPU Job (queued, suspended) and read its UID",
        "create a GPU pod with the Job's pod template and the GPU toleration, no queue label, "
        "whose ownerReferences name that Job as its controller",
    ],
    outcome="Kueue's pod webhook takes the Job for the pod's owner and neither labels nor gates "
    "it; Kyverno's gpu-queue-label and kueue-owner-references refuse it all the same (the "
    "requester is a tenant engineer, not the job controller; in dev, where admission audits, it "
    "is reported)",
    docs=[NOTHING_BYPASSES],
)
@pytest.mark.parametrize("name", STACKS)
def test_a_gpu_pod_naming_a_queued_job_as_owner_is_refused(name: str) -> None:
    s = stack(name)
    pod = _unqueued(s, *_owned_by_own_job(s, "borrowed-owner", ONE_GPU))
    refused = denied(s.admit([pod], tenant_engineer(RESEARCH)), "borrowed-owner")
    assert set(refused) == {"substrate-gpu-queue-label", OWNER_POLICY}, refused


@journey(
    user="ML engineer of tenant ml-research trying to skip the queue",
    stack="dev, staging, prod",
    steps=[
        "submit the documented GPU Job (queued, suspended) and read its UID",
        "create a CPU pod with the Job's pod template, no queue label, whose ownerReferences "
        "name that Job as its controller",
    ],
    outcome="Kueue's pod webhook takes the Job for the pod's owner and neither labels nor gates "
    "it; Kyverno's kueue-owner-references refuses it (the requester is a tenant engineer, not "
    "the job controller; in dev, where admission audits, it is reported), and admits the same "
    "pod when the job controller creates it",
    docs=[NOTHING_BYPASSES, "docs/policies.md#admission-policies-kyverno"],
)
@pytest.mark.parametrize("name", STACKS)
def test_a_cpu_pod_naming_a_queued_job_as_owner_is_refused(name: str) -> None:
    s = stack(name)
    cpu = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}
    pod = _unqueued(s, *_owned_by_own_job(s, "borrowed-owner", cpu))
    refused = denied(s.admit([pod], tenant_engineer(RESEARCH)), "borrowed-owner")
    assert set(refused) == {OWNER_POLICY}, refused
    assert "names Job finetune-llama as its controller" in refused[OWNER_POLICY]
    by_job_controller = s.admit([pod], controller("job-controller"))
    assert denied(by_job_controller, "borrowed-owner") == {}


def _cron_job(s: Stack, labels: dict[str, str]) -> Object:
    job = documented_job_of(s)
    spec = copy.deepcopy(job["spec"])
    spec["parallelism"] = spec["completions"] = 1
    spec["template"]["spec"]["containers"][0]["resources"] = copy.deepcopy(ONE_GPU)
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly-eval", "namespace": RESEARCH},
        "spec": {
            "schedule": "0 2 * * *",
            "jobTemplate": {"metadata": {"labels": labels}, "spec": spec},
        },
    }


@journey(
    user="ML engineer of tenant ml-research scheduling a nightly GPU evaluation",
    stack="dev, staging, prod",
    steps=[
        "create a GPU CronJob whose jobTemplate carries no queue label",
        "create it with kueue.x-k8s.io/queue-name: ml-research on its jobTemplate",
    ],
    outcome="the API server stores both (Kueue has no CronJob webhook, so nothing labels the "
    "first); Kyverno's gpu-queue-label refuses the unlabelled one (in dev, reported) and admits "
    "the labelled one",
    docs=[NOTHING_BYPASSES],
)
@pytest.mark.parametrize("name", STACKS)
def test_a_gpu_cronjob_names_its_queue_on_its_job_template(name: str) -> None:
    s = stack(name)
    engineer = tenant_engineer(RESEARCH)
    for labels, refused in (({}, {"substrate-gpu-queue-label"}), ({QUEUE: RESEARCH}, set())):
        (created,) = s.create([_cron_job(s, labels)], engineer).results
        assert created.created and created.admitted is not None, created.errors
        stored = created.admitted["spec"]["jobTemplate"]["metadata"].get("labels", {})
        assert stored == labels
        verdicts = s.admit([created.admitted], engineer)
        assert set(denied(verdicts, "nightly-eval")) == refused
        assert "substrate-gpu-queue-label" in judged_by(verdicts, "nightly-eval")
