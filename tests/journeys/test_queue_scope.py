"""Kueue's scope (docs/workloads.md#kueue): `managedJobsNamespaceSelector: substrate.io/tenant
Exists` with `manageJobsWithoutQueueName: false`, so Kueue never touches a platform pod, while
in a tenant namespace the `default` LocalQueue takes what carries no label. The apiserver engine
runs Kueue v0.19.2's webhooks with the Configuration the stack's chart renders."""

from __future__ import annotations

import copy

import pytest

from tests.helpers import STACKS
from tests.journeys.cluster import Object, Stack, controller, docs_yaml, rehome, stack
from tests.journeys.journey import journey

QUEUE, GATE = "kueue.x-k8s.io/queue-name", "kueue.x-k8s.io/admission"
TENANT_LABEL = "substrate.io/tenant"


def cpu_pod(s: Stack, namespace: str) -> Object:
    """The documented Job's pod template as a bare CPU Pod: no owner, no queue label."""
    (job,) = docs_yaml("workloads.md", "Submitting a training job")
    spec = copy.deepcopy(rehome(job, s.registry)["spec"]["template"]["spec"])
    spec["containers"][0]["resources"] = {
        "requests": {"cpu": "1", "memory": "1Gi"},
        "limits": {"memory": "1Gi"},
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"probe-{namespace}", "namespace": namespace},
        "spec": spec,
    }


def namespaces(s: Stack) -> tuple[list[str], list[str]]:
    """(platform namespaces, tenant namespaces) of the plan, by the tenant label."""
    labelled = {
        n["metadata"]["name"]: TENANT_LABEL in n["metadata"].get("labels", {}) for n in s.namespaces
    }
    return (
        sorted(n for n, tenant in labelled.items() if not tenant),
        sorted(n for n, tenant in labelled.items() if tenant),
    )


@journey(
    user="platform controllers and tenant engineers creating unlabelled pods",
    stack="every stack",
    steps=[
        "a pod without a queue label is created in every platform namespace of the plan and in "
        "every tenant namespace",
    ],
    outcome="Kueue's pod webhook leaves every platform pod alone (no queue label, no "
    "scheduling gate: it runs as the platform deploys it) and labels every tenant pod "
    "`default` and holds it behind its admission gate",
    docs=["docs/workloads.md#kueue"],
)
@pytest.mark.parametrize("name", STACKS)
def test_kueue_queues_tenant_pods_and_never_platform_pods(name: str) -> None:
    s = stack(name)
    platform, tenants = namespaces(s)
    assert platform and tenants
    pods = [cpu_pod(s, ns) for ns in platform + tenants]
    run = s.create(pods, controller("replicaset-controller"))
    seen = {}
    for result in run.results:
        assert result.admitted is not None, (result.namespace, result.errors)
        labels = result.admitted["metadata"].get("labels", {})
        gates = [g["name"] for g in result.admitted["spec"].get("schedulingGates", [])]
        seen[result.namespace] = (labels.get(QUEUE), GATE in gates)
    assert seen == {
        **{ns: (None, False) for ns in platform},
        **{ns: ("default", True) for ns in tenants},
    }
