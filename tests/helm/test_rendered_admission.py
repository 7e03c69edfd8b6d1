"""The stack's own admission policies, applied by the Kyverno CLI to what the charts create: the
objects Helm applies (as the deployer) and the pods their controllers create (as each
controller's service account). Every namespace the add-ons run in is a platform namespace, which
the policies' namespaceSelector leaves out, so Kyverno reports nothing for them: that silence is
asserted as Kyverno states it, and a chart's pod moved into a tenant namespace shows the same
policies do judge it there."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from substrate.engines import kyverno
from tests.conftest import planned
from tests.helm.rendered import STACKS, StackRender, pod_spec, rendered
from tests.helpers import require_engine, stack_yaml, typed_config
from tests.journeys.cluster import controller

# The kube-controller-manager controller that creates a workload's pods, and the kind that owns
# them (a Deployment's pods belong to its ReplicaSet).
CREATORS = {
    "Deployment": ("replicaset-controller", "apps/v1", "ReplicaSet"),
    "ReplicaSet": ("replicaset-controller", "apps/v1", "ReplicaSet"),
    "DaemonSet": ("daemon-set-controller", "apps/v1", "DaemonSet"),
    "StatefulSet": ("statefulset-controller", "apps/v1", "StatefulSet"),
    "Job": ("job-controller", "batch/v1", "Job"),
    "CronJob": ("job-controller", "batch/v1", "Job"),
    "ReplicationController": ("replication-controller", "v1", "ReplicationController"),
}


def pod_of(workload: Mapping[str, Any]) -> dict[str, Any]:
    """The pod ``workload``'s controller creates: its template's metadata and spec, in its
    namespace, owned by the controller's object."""
    spec = workload["spec"]
    template = copy.deepcopy((spec.get("jobTemplate") or {}).get("spec", spec)["template"])
    name = workload["metadata"]["name"]
    _, api_version, kind = CREATORS[workload["kind"]]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            **template.get("metadata", {}),
            "name": f"{name}-0",
            "namespace": workload["metadata"]["namespace"],
            "ownerReferences": [{"apiVersion": api_version, "kind": kind, "name": name}],
        },
        "spec": template["spec"],
    }


def _matched_resources(policies: Sequence[Mapping[str, Any]]) -> set[str]:
    return {
        resource
        for policy in policies
        for rule in policy["spec"]["matchConstraints"]["resourceRules"]
        for resource in rule["resources"]
    }


def requests(render: StackRender, policies: Sequence[Mapping[str, Any]]) -> dict[str, list]:
    """Requester -> the objects it submits that a policy can match: Helm (the deployer) applies
    the kinds the policies' resourceRules name; each controller creates its workloads' pods.
    Nothing else is sent: the CLI spends ~20 ms per object and policy, matched or not."""
    matched = _matched_resources(policies)
    out: dict[str, list] = {}
    for release in render.releases:
        for obj in render.installed(release):
            if f"{obj['kind'].lower()}s" in matched:
                out.setdefault("deployer", []).append(obj)
            if "pods" in matched and obj["kind"] in CREATORS and pod_spec(obj) is not None:
                creator = CREATORS[obj["kind"]][0]
                out.setdefault(creator, []).append(pod_of(obj))
    return out


def _user(stack: str, requester: str) -> dict[str, Any]:
    if requester == "deployer":  # the principal `pulumi up` runs as: an EKS cluster admin
        admin = typed_config(stack_yaml(stack)).cluster.admins[-1]
        return {"username": admin, "groups": ["system:authenticated"]}
    return controller(requester)


_VERDICTS: dict[str, list[kyverno.Verdict]] = {}


def _verdicts(stack: str) -> list[kyverno.Verdict]:
    """Kyverno's results for everything the charts submit, per requester; every stack at once
    (the CLI runs in parallel)."""
    if stack not in _VERDICTS:
        require_engine(kyverno.SERVER)
        jobs = []
        for name in STACKS:
            render = rendered(name)
            policies = kyverno.policies_of(planned(name).manifests.values())
            namespaces = kyverno.namespaces_of(render.objects)
            for requester, objects in requests(render, policies).items():
                jobs.append((name, policies, objects, namespaces, _user(name, requester)))

        def judge(job: tuple) -> tuple[str, list[kyverno.Verdict]]:
            name, policies, objects, namespaces, user = job
            return name, kyverno.apply(policies, objects, namespaces=namespaces, user=user)

        with ThreadPoolExecutor(max_workers=4) as pool:
            for name, verdicts in pool.map(judge, jobs):
                _VERDICTS.setdefault(name, []).extend(verdicts)
    return _VERDICTS.get(stack, [])


@pytest.mark.parametrize("stack", STACKS)
def test_kyverno_admits_everything_the_charts_create(stack: str) -> None:
    policies = kyverno.policies_of(planned(stack).manifests.values())
    assert _matched_resources(policies) >= {"pods", "jobs", "statefulsets"}
    # every matched resource is a plain plural of its kind (how `requests` finds them)
    assert {r for r in _matched_resources(policies) if not r.endswith("s")} == set()
    sent = requests(rendered(stack), policies)
    assert {"deployer", "replicaset-controller", "daemon-set-controller", "job-controller"} <= (
        set(sent)
    )
    verdicts = _verdicts(stack)
    assert kyverno.denials(verdicts) == []
    # The policies leave every platform namespace out: Kyverno has nothing to say about them.
    assert verdicts == []


def test_the_same_policies_judge_a_chart_pod_in_a_tenant_namespace() -> None:
    """Kyverno's admission controller pod in a namespace the policies govern: its images come
    through the account's ECR pull-through cache, which the stack allows, but its memory limit
    is three times its request (R28 wants non-CPU limits equal to requests)."""
    require_engine(kyverno.SERVER)
    render = rendered("prod")
    (release,) = render.of_chart("kyverno")
    (deployment,) = [
        o
        for o in render.installed(release)
        if o["kind"] == "Deployment" and o["metadata"]["name"] == "kyverno-admission-controller"
    ]
    pod = pod_of(deployment)
    pod["metadata"]["namespace"] = "ml-research"
    verdicts = kyverno.apply(
        kyverno.policies_of(planned("prod").manifests.values()),
        [pod],
        namespaces=kyverno.namespaces_of(render.objects),
        user=controller("replicaset-controller"),
    )
    denied = {v.policy: v.message for v in kyverno.denials(verdicts)}
    assert set(denied) == {"substrate-require-requests-limits"}
    assert (
        "non-CPU limits differ from their requests: kyverno, kyverno-pre"
        in (denied["substrate-require-requests-limits"])
    )


def test_a_cronjobs_pods_come_from_its_job_template() -> None:
    template = {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c"}]}}
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly", "namespace": "x"},
        "spec": {"jobTemplate": {"spec": {"template": template}}},
    }
    pod = pod_of(cron)
    assert pod["spec"] == template["spec"] and pod["metadata"]["labels"] == {"a": "b"}
    assert pod["metadata"]["ownerReferences"][0]["kind"] == "Job"
