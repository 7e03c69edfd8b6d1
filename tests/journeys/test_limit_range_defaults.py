"""Defaults still apply (issue 13, section 1): a Deployment that leaves its containers' sizing to
the tenant's LimitRange is admitted, and so are the pods the API server sizes from it. The
apiserver engine runs the Deployment and ReplicaSet controllers and the LimitRanger plugin;
Kyverno judges what they create."""

from __future__ import annotations

import copy

import pytest

from tests.helpers import STACKS
from tests.journeys.cluster import Object, Stack, denied, docs_yaml, judged_by, rehome, stack
from tests.journeys.cluster import tenant_engineer as engineer
from tests.journeys.journey import journey
from tests.journeys.test_admission import kyverno_requester

TENANT = "data-eng"
POLICY = "substrate-require-requests-limits"


def unsized_deployment(s: Stack) -> Object:
    """The documented Job's (compliant) pod template as a Deployment, every resource removed."""
    (job,) = docs_yaml("workloads.md", "Submitting a training job")
    spec = copy.deepcopy(rehome(job, s.registry)["spec"]["template"]["spec"])
    spec["restartPolicy"] = "Always"
    del spec["containers"][0]["resources"]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "dashboard", "namespace": TENANT},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "dashboard"}},
            "template": {"metadata": {"labels": {"app": "dashboard"}}, "spec": spec},
        },
    }


def container_defaults(s: Stack) -> dict[str, dict[str, str]]:
    """The LimitRange the plan gives the tenant's namespace: default requests and limits."""
    (limit_range,) = s.objects("LimitRange", TENANT)
    (container,) = [lim for lim in limit_range["spec"]["limits"] if lim["type"] == "Container"]
    return {"requests": container["defaultRequest"], "limits": container["default"]}


@journey(
    user="engineer of tenant data-eng",
    stack="every stack",
    steps=[
        "create a Deployment whose container sets no requests or limits",
        "the Deployment and ReplicaSet controllers create its pod; the LimitRanger plugin fills "
        "its requests and limits from the namespace's LimitRange",
    ],
    outcome="Kyverno admits the Deployment (require-requests-limits judges pods only, not "
    "templates); the pod carries exactly the LimitRange's default requests and memory limit, "
    "and Kyverno, require-requests-limits included, admits it",
    docs=["docs/policies.md#admission-policies-kyverno"],
)
@pytest.mark.parametrize("name", STACKS)
def test_a_deployment_sized_by_the_limit_range_is_admitted(name: str) -> None:
    s = stack(name)
    (created,) = s.create([unsized_deployment(s)], engineer(TENANT)).results
    assert created.admitted is not None, created.errors
    verdicts = s.admit([created.admitted], engineer(TENANT))
    assert denied(verdicts, "dashboard") == {}
    assert POLICY not in judged_by(verdicts, "dashboard")  # pods only: no autogen
    (pod,) = created.descendants("Pod")
    assert pod.admitted is not None, pod.errors
    assert pod.admitted["spec"]["containers"][0]["resources"] == container_defaults(s)
    verdicts = s.admit([pod.admitted], kyverno_requester(pod))
    assert denied(verdicts, pod.name) == {}
    assert POLICY in judged_by(verdicts, pod.name)
