"""Owner references a tenant writes cannot take a pod out of Kueue, whatever queued workload they
name: Kueue v0.19.2's pod webhook (run by the apiserver engine) leaves such a pod unlabelled and
ungated, and Kyverno's kueue-owner-references refuses it; a Spark driver's executors, which name
the driver pod, stay admitted (tests/journeys/test_spark_admission.py)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.helpers import STACKS
from tests.journeys.cluster import Object, Stack, denied, stack, tenant_engineer
from tests.journeys.journey import journey
from tests.journeys.test_queue_bypass import (
    NOTHING_BYPASSES,
    OWNER_POLICY,
    QUEUE,
    documented_job_of,
)

RESEARCH = "ml-research"
CPU = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}


def _pod_spec(s: Stack) -> dict[str, Any]:
    """The documented Job's pod spec, sized to one CPU."""
    spec = copy.deepcopy(documented_job_of(s)["spec"]["template"]["spec"])
    spec["containers"][0]["resources"] = copy.deepcopy(CPU)
    return spec


def _queued_owners(s: Stack) -> list[Object]:
    """Queued workloads of ml-research's on the stack's integrations: a JobSet, a bare Pod and,
    where KubeRay runs, a RayCluster."""
    meta = {"namespace": RESEARCH, "labels": {QUEUE: RESEARCH}}
    owners: list[Object] = [
        {
            "apiVersion": "jobset.x-k8s.io/v1alpha2",
            "kind": "JobSet",
            "metadata": {"name": "sweep", **meta},
            "spec": {
                "replicatedJobs": [
                    {"name": "w", "template": {"spec": {"template": {"spec": _pod_spec(s)}}}}
                ]
            },
        },
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "notebook", **meta}},
    ]
    owners[1]["spec"] = _pod_spec(s)
    kueue = s.config.kueue
    if kueue is not None and "ray.io/raycluster" in kueue.integrations:
        owners.append(
            {
                "apiVersion": "ray.io/v1",
                "kind": "RayCluster",
                "metadata": {"name": "sandbox", **meta},
                "spec": {
                    "headGroupSpec": {"rayStartParams": {}, "template": {"spec": _pod_spec(s)}}
                },
            }
        )
    return owners


def _claiming(s: Stack, owner: Object, uid: str) -> Object:
    """A CPU pod, no queue label, naming ``owner`` (with the UID it was given) as controller."""
    name = owner["metadata"]["name"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"under-{name}",
            "namespace": RESEARCH,
            "ownerReferences": [
                {
                    "apiVersion": owner["apiVersion"],
                    "kind": owner["kind"],
                    "name": name,
                    "uid": uid,
                    "controller": True,
                }
            ],
        },
        "spec": _pod_spec(s),
    }


@journey(
    user="ML engineer of tenant ml-research trying to skip the queue",
    stack="dev, staging, prod",
    steps=[
        "submit a queued JobSet, a queued bare Pod and (staging, prod) a queued RayCluster, and "
        "read their UIDs",
        "create a CPU pod, no queue label, naming each as its controller",
    ],
    outcome="Kueue's pod webhook takes each pod for its owner's child and neither labels nor "
    "gates it; Kyverno's kueue-owner-references refuses every one (in dev, reported)",
    docs=[NOTHING_BYPASSES],
)
@pytest.mark.parametrize("name", STACKS)
def test_a_pod_naming_any_queued_workload_as_owner_is_refused(name: str) -> None:
    s = stack(name)
    engineer = tenant_engineer(RESEARCH)
    owners = _queued_owners(s)
    uids = [
        dict(r.admitted or {}).get("metadata", {}).get("uid")
        for r in s.create(owners, engineer).results
    ]
    assert all(uids), uids
    pods = [_claiming(s, o, str(uid)) for o, uid in zip(owners, uids, strict=True)]
    created = s.create([*owners, *pods], engineer).results[len(owners) :]
    admitted = [dict(r.admitted) for r in created if r.admitted is not None]
    assert len(admitted) == len(pods), [r.errors for r in created]
    for pod in admitted:
        assert QUEUE not in pod["metadata"].get("labels", {}), pod["metadata"]
        assert not pod["spec"].get("schedulingGates"), pod["metadata"]["name"]
    verdicts = s.admit(admitted, engineer)
    refused = {p["metadata"]["name"]: set(denied(verdicts, p["metadata"]["name"])) for p in pods}
    assert refused == {p["metadata"]["name"]: {OWNER_POLICY} for p in pods}
