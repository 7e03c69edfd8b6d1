"""The workload-pods engine runs the operators' own code: JobSet's webhook defaulting and job
construction, KubeRay's RayJob-to-RayCluster and pod building, LWS's StatefulSets and pod webhook
over the StatefulSet controller's pods."""

from __future__ import annotations

import pytest

from substrate.engines.workload_pods import derive, operator_account
from tests.helpers import require_engine

CONTAINER = {"name": "main", "image": "busybox"}


def jobset(replicas: int) -> dict:
    return {
        "apiVersion": "jobset.x-k8s.io/v1alpha2",
        "kind": "JobSet",
        "metadata": {"name": "js", "namespace": "team", "uid": "u-1"},
        "spec": {
            "replicatedJobs": [
                {
                    "name": "w",
                    "replicas": replicas,
                    "template": {"spec": {"template": {"spec": {"containers": [CONTAINER]}}}},
                }
            ]
        },
    }


def test_a_jobset_makes_one_defaulted_indexed_job_per_replica() -> None:
    require_engine("workload-pods")
    (derived,) = derive([jobset(3)])
    jobs = derived.of_kind("Job")
    assert [j["metadata"]["name"] for j in jobs] == ["js-w-0", "js-w-1", "js-w-2"]
    for index, job in enumerate(jobs):
        assert job["spec"]["completionMode"] == "Indexed"  # JobSet's webhook default
        pod = job["spec"]["template"]
        assert pod["spec"]["restartPolicy"] == "OnFailure"
        assert pod["spec"]["subdomain"] == "js"  # DNS hostnames on by default
        assert pod["metadata"]["labels"]["jobset.sigs.k8s.io/job-index"] == str(index)
        assert job["metadata"]["ownerReferences"][0]["uid"] == "u-1"


def test_a_rayjob_makes_its_cluster_and_the_cluster_its_pods() -> None:
    require_engine("workload-pods")
    group = {
        "groupName": "gpu",
        "replicas": 2,
        "minReplicas": 0,
        "maxReplicas": 5,
        "numOfHosts": 1,
        "rayStartParams": {},
        "template": {"spec": {"containers": [{**CONTAINER, "name": "ray-worker"}]}},
    }
    rayjob = {
        "apiVersion": "ray.io/v1",
        "kind": "RayJob",
        "metadata": {"name": "rj", "namespace": "team", "uid": "u-2"},
        "spec": {
            "entrypoint": "python x.py",
            "rayClusterSpec": {
                "headGroupSpec": {
                    "rayStartParams": {},
                    "template": {"spec": {"containers": [{**CONTAINER, "name": "ray-head"}]}},
                },
                "workerGroupSpecs": [group],
            },
        },
    }
    (derived,) = derive([rayjob])
    (cluster,) = derived.of_kind("RayCluster")
    assert cluster["metadata"]["labels"]["ray.io/originated-from-crd"] == "RayJob"
    pods = derived.of_kind("Pod")
    kinds = [p["metadata"]["labels"]["ray.io/node-type"] for p in pods]
    assert kinds == ["head", "worker", "worker"]
    for pod in pods:
        (main,) = pod["spec"]["containers"]
        assert "ray start" in " ".join(main["args"])
        mounts = {m["name"] for m in main.get("volumeMounts", [])}
        assert mounts <= {v["name"] for v in pod["spec"].get("volumes", [])}
    assert "submitter Job" in " ".join(derived.notes)


def leaderworkerset(replicas: int, size: int) -> dict:
    """A LeaderWorkerSet as the API server stores it (CRD defaults; LWS's webhook is the
    engine's to apply), with a leader template of its own."""
    worker = {"spec": {"containers": [{**CONTAINER, "name": "worker"}]}}
    leader = {"spec": {"containers": [{**CONTAINER, "name": "leader"}]}}
    return {
        "apiVersion": "leaderworkerset.x-k8s.io/v1",
        "kind": "LeaderWorkerSet",
        "metadata": {"name": "lws", "namespace": "team", "uid": "u-3"},
        "spec": {
            "replicas": replicas,
            "startupPolicy": "LeaderCreated",
            "leaderWorkerTemplate": {
                "size": size,
                "leaderTemplate": leader,
                "workerTemplate": worker,
            },
        },
    }


def test_a_leaderworkerset_makes_a_leader_set_and_a_worker_set_per_group() -> None:
    require_engine("workload-pods")
    (derived,) = derive([leaderworkerset(replicas=2, size=3)])
    leaders, *workers = derived.of_kind("StatefulSet")
    assert leaders["metadata"]["name"] == "lws" and leaders["spec"]["replicas"] == 2
    assert leaders["metadata"]["ownerReferences"][0]["uid"] == "u-3"
    pods = {p["metadata"]["name"]: p for p in derived.of_kind("Pod")}
    assert sorted(pods) == ["lws-0", "lws-0-1", "lws-0-2", "lws-1", "lws-1-1", "lws-1-2"]
    for group, workers_set in enumerate(workers):
        leader = pods[f"lws-{group}"]
        # LWS's pod controller: a worker set per leader pod, owned by it, ordinals from 1.
        assert workers_set["metadata"]["name"] == f"lws-{group}"
        assert workers_set["metadata"]["ownerReferences"][0]["uid"] == leader["metadata"]["uid"]
        assert workers_set["spec"]["replicas"] == 2
        assert workers_set["spec"]["ordinals"]["start"] == 1
        assert [c["name"] for c in leader["spec"]["containers"]] == ["leader"]
        for index in range(3):
            pod = pods[f"lws-{group}" + (f"-{index}" if index else "")]
            labels = pod["metadata"]["labels"]
            # LWS's pod webhook on what the StatefulSet controller created.
            assert labels["leaderworkerset.sigs.k8s.io/group-index"] == str(group)
            assert labels["leaderworkerset.sigs.k8s.io/worker-index"] == str(index)
            key = labels["leaderworkerset.sigs.k8s.io/group-key"]
            assert key == leader["metadata"]["labels"]["leaderworkerset.sigs.k8s.io/group-key"]
            env = {e["name"]: e["value"] for e in pod["spec"]["containers"][0]["env"]}
            assert env["LWS_LEADER_ADDRESS"] == f"lws-{group}.lws.team"
            assert env["LWS_GROUP_SIZE"] == "3" and env["LWS_WORKER_INDEX"] == str(index)
            assert labels["controller-revision-hash"].startswith(pod["metadata"]["generateName"])


def test_a_leaderworkerset_of_groups_of_one_makes_no_worker_sets() -> None:
    require_engine("workload-pods")
    (derived,) = derive([leaderworkerset(replicas=2, size=1)])
    assert [s["metadata"]["name"] for s in derived.of_kind("StatefulSet")] == ["lws"]
    assert [p["metadata"]["name"] for p in derived.of_kind("Pod")] == ["lws-0", "lws-1"]


def test_an_operators_account_comes_from_its_chart() -> None:
    deployment = {
        "kind": "Deployment",
        "metadata": {"name": "op", "namespace": "op-system"},
        "spec": {"template": {"spec": {"serviceAccountName": "op-sa"}}},
    }
    account = operator_account([deployment], "op-system")
    assert account["username"] == "system:serviceaccount:op-system:op-sa"
    with pytest.raises(LookupError, match="no single operator Deployment in other-system"):
        operator_account([deployment], "other-system")
