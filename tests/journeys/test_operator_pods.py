"""GPU JobSets and RayJobs, down to the pods their operators create.

The API server (apiserver engine) creates the tenant's object and Kyverno judges it; Kueue
admits it and resumes it with the flavor's node labels and tolerations; the operator's own code
(workload-pods engine: JobSet's webhook defaulting and job construction, KubeRay's RayCluster
and pod building) makes its children from the resumed object; the API server creates them as the
operator (and, for a JobSet's Jobs, the job controller makes the pods), with Pod Security and the
tenant's ResourceQuota; Kyverno judges every pod as its creator.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest

from substrate.check import chain
from substrate.components.workloads.kueue_integrations import JOBSET, KUBERAY, Operator
from substrate.engines import apiserver, kueue
from substrate.engines.workload_pods import derive, operator_account
from tests.helpers import STACKS, stack_yaml, typed_config
from tests.journeys.cluster import Object, Stack, denied, judged_by, stack, tenant_engineer
from tests.journeys.journey import journey
from tests.journeys.test_admission import documented_job, kyverno_requester, sized_to_quota

TENANT = "ml-research"
DOC = "docs/workloads.md#jobsets-rayjobs-and-leaderworkersets-down-to-their-pods"
GPU = "nvidia.com/gpu"


def stacks_with(integration: str) -> list[str]:
    """The stacks whose stack file enables the Kueue ``integration`` (each journey then checks
    that the plan's Kueue Configuration does)."""
    configs = {n: typed_config(stack_yaml(n)).kueue for n in STACKS}
    return [n for n, c in configs.items() if c is not None and integration in c.integrations]


def queues(s: Stack, integration: str) -> None:
    """The stack's Kueue (its chart's Configuration, as planned) queues ``integration``."""
    frameworks = ((s.state.kueue or {}).get("integrations") or {}).get("frameworks") or []
    assert integration in frameworks, f"{s.name}: Kueue does not queue {integration}"


def operator(s: Stack, op: Operator) -> dict[str, Any]:
    """The operator's service account, read from its chart as the stack renders it."""
    try:
        return operator_account(s.context.network, op.namespace)
    except LookupError as e:
        pytest.fail(f"{s.name}: {e}", pytrace=False)


RAYJOB = "ray.io/rayjob"


def training_template(s: Stack) -> Object:
    """The documented training Job's pod template, sized to one pod the tenant's queue holds."""
    return copy.deepcopy(sized_to_quota(s, documented_job(s))["spec"]["template"])


def gpu_jobset(s: Stack) -> Object:
    template = training_template(s)
    return {
        "apiVersion": "jobset.x-k8s.io/v1alpha2",
        "kind": "JobSet",
        "metadata": {
            "name": "pretrain",
            "namespace": TENANT,
            "labels": {"kueue.x-k8s.io/queue-name": TENANT},
        },
        "spec": {
            "replicatedJobs": [
                {
                    "name": "trainer",
                    "replicas": 1,
                    "template": {
                        "spec": {"parallelism": 1, "completions": 1, "template": template}
                    },
                }
            ]
        },
    }


def create_owned(
    s: Stack, objects: list[Any], user: dict[str, Any], *owners: Mapping[str, Any]
) -> apiserver.ApiServerRun:
    """The operator's CREATEs, with their owners in the cluster (Kueue's webhooks walk the
    owner chain up to the queued object)."""
    state = replace(s.state, cluster=(*s.state.cluster, *owners))
    return apiserver.admit(
        chain.scoped(state, objects), objects, username=user["username"], groups=user["groups"]
    )


def assert_pods_run_on(s: Stack, pods: list[apiserver.Admission], flavor_name: str) -> None:
    """Each pod is created (Pod Security and the quota admit it), carries the flavor's node
    labels and tolerations, and Kyverno admits it as its creator created it."""
    flavor = s.one("ResourceFlavor", flavor_name)
    assert pods
    for pod in pods:
        assert pod.created and pod.admitted is not None, (pod.refused_by, pod.errors)
        spec = pod.admitted["spec"]
        assert flavor["spec"].get("nodeLabels", {}).items() <= spec.get("nodeSelector", {}).items()
        assert all(t in spec.get("tolerations", []) for t in flavor["spec"].get("tolerations", []))
        assert pod.pod_security is not None and pod.pod_security.enforce.allowed
        verdicts = s.admit([pod.admitted], kyverno_requester(pod))
        assert denied(verdicts, pod.name) == {}, pod.name
        assert "substrate-gpu-placement" in judged_by(verdicts, pod.name)


def admitted_and_resumed(s: Stack, obj: Object, kind: str) -> tuple[dict[str, Any], str]:
    """Kyverno admits the object as the API server hands it over; Kueue admits it and resumes
    it. Returns the resumed object and the flavor Kueue put its GPUs on (a GPU pool's)."""
    engineer = tenant_engineer(TENANT)
    name = obj["metadata"]["name"]
    (created,) = s.create([obj], engineer).results
    assert created.created and created.admitted is not None, created.errors
    assert denied(s.admit([created.admitted], engineer), name) == {}
    (queued,) = s.queue([kueue.Step(f"submit the {kind}", submit=[created.admitted])])
    workload = queued.workload_of(kind, name)
    assert workload.admitted, workload.pending_message
    (gpu_flavor,) = {ps[GPU] for ps in workload.flavors().values() if GPU in ps}
    assert gpu_flavor in s.config.tenants[TENANT].gpus
    return dict(queued.object(kind, name)), gpu_flavor


@journey(
    user="ML engineer of tenant ml-research",
    stack="every stack",
    steps=[
        "submit a JobSet whose trainer is the documented training pod (queue label, no "
        "toleration), sized to the tenant's queue",
        "Kueue admits it on one of the tenant's GPU flavors and resumes it",
        "JobSet's controller creates its Job from the resumed JobSet (its own code)",
        "the job controller creates the Job's pod",
    ],
    outcome="Kyverno admits the JobSet; the Job is created unsuspended and owned by the JobSet; "
    "its pod carries that GPU pool's node labels and GPU toleration, passes Pod Security "
    "and the tenant's quota, and Kyverno admits it",
    docs=[DOC],
)
@pytest.mark.parametrize("name", STACKS)
def test_a_gpu_jobset_runs_down_to_its_pods(name: str) -> None:
    s = stack(name)
    resumed, flavor = admitted_and_resumed(s, gpu_jobset(s), "JobSet")
    (derived,) = derive([resumed])
    jobs = derived.of_kind("Job")
    assert [j["metadata"]["name"] for j in jobs] == ["pretrain-trainer-0"]
    (job,) = jobs
    assert job["spec"]["suspend"] is False
    assert job["metadata"]["ownerReferences"][0]["kind"] == "JobSet"
    jobset_controller = operator(s, JOBSET)
    run = create_owned(s, jobs, jobset_controller, resumed)
    (created,) = run.results
    assert created.created, created.errors
    assert created.username == jobset_controller["username"]
    assert (
        denied(s.admit([created.admitted or {}], jobset_controller), job["metadata"]["name"]) == {}
    )
    assert_pods_run_on(s, created.descendants("Pod"), flavor)


def gpu_rayjob(s: Stack) -> Object:
    """A RayJob: a CPU head and one GPU worker, the worker the documented training pod."""
    template = training_template(s)
    pod = template["spec"]
    (trainer,) = pod["containers"]
    head = copy.deepcopy(pod)
    head["containers"] = [
        {
            **copy.deepcopy(trainer),
            "name": "ray-head",
            "resources": {
                "requests": {"cpu": "2", "memory": "8Gi"},
                "limits": {"memory": "8Gi"},
            },
        }
    ]
    worker = copy.deepcopy(pod)
    worker["containers"] = [{**copy.deepcopy(trainer), "name": "ray-worker"}]
    meta = template.get("metadata", {})
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayJob",
        "metadata": {
            "name": "tune",
            "namespace": TENANT,
            "labels": {"kueue.x-k8s.io/queue-name": TENANT},
        },
        "spec": {
            "entrypoint": "python tune.py",
            "shutdownAfterJobFinishes": True,
            "rayClusterSpec": {
                "rayVersion": "2.46.0",
                "headGroupSpec": {
                    "rayStartParams": {},
                    "template": {"metadata": copy.deepcopy(meta), "spec": head},
                },
                "workerGroupSpecs": [
                    {
                        "groupName": "gpu",
                        "replicas": 1,
                        "minReplicas": 1,
                        "maxReplicas": 1,
                        "rayStartParams": {},
                        "template": {"metadata": copy.deepcopy(meta), "spec": worker},
                    }
                ],
            },
        },
    }


@journey(
    user="ML engineer of tenant ml-research",
    stack="every stack with the ray.io/rayjob integration",
    steps=[
        "submit a RayJob with a CPU head and one GPU worker (queue label, no toleration)",
        "Kueue admits it (the worker on one of the tenant's GPU flavors) and resumes it",
        "the KubeRay operator creates its RayCluster and the cluster's head and worker pods "
        "(KubeRay's own code)",
    ],
    outcome="Kyverno admits the RayJob, the RayCluster and both pods; the GPU worker pod carries "
    "that GPU pool's node labels and GPU toleration; both pods pass Pod Security and the "
    "tenant's quota",
    docs=[DOC],
)
@pytest.mark.parametrize("name", stacks_with(RAYJOB))
def test_a_gpu_rayjob_runs_down_to_its_pods(name: str) -> None:
    s = stack(name)
    queues(s, RAYJOB)
    kuberay = operator(s, KUBERAY)
    resumed, flavor = admitted_and_resumed(s, gpu_rayjob(s), "RayJob")
    (cluster,) = derive([resumed])[0].of_kind("RayCluster")
    (created_cluster,) = create_owned(s, [cluster], kuberay, resumed).results
    assert created_cluster.created and created_cluster.admitted is not None
    cluster_name = cluster["metadata"]["name"]
    assert denied(s.admit([created_cluster.admitted], kuberay), cluster_name) == {}
    # The operator builds the pods from the RayCluster as stored (its UID owns them).
    pods = derive([created_cluster.admitted])[0].of_kind("Pod")
    assert len(pods) == 2
    stored = dict(created_cluster.admitted)
    head, worker = create_owned(s, pods, kuberay, resumed, stored).results
    assert head.admitted is not None
    assert head.admitted["metadata"]["labels"]["ray.io/node-type"] == "head"
    assert head.created and head.pod_security is not None and head.pod_security.enforce.allowed
    assert denied(s.admit([head.admitted], kuberay), head.name) == {}
    assert_pods_run_on(s, [worker], flavor)
