"""The workload-pods engine runs the operators' own code: JobSet's webhook defaulting and job
construction, KubeRay's RayJob-to-RayCluster and pod building."""

from __future__ import annotations

from substrate.engines.workload_pods import derive
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
