"""What a tenant's ResourceQuotas let it hold: its ceiling once, however many namespaces it has,
and storage only in the StorageClasses it was granted.

The apiserver engine runs kube-apiserver v1.36's ResourceQuota admission plugin against each
namespace's quota as the quota controller leaves it before the request; usage accumulates over
the objects of one request, in order (gated pods count: Kueue's pod integration gates them, the
quota charges them at creation).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from substrate.components.cluster.ebs import DEFAULT_CLASS, FAST_CLASS
from substrate.components.workloads.tenancy import format_bytes, gpu_ceiling, quantity
from substrate.engines import apiserver, kueue
from tests.helpers import ROOT, STACKS
from tests.journeys.cluster import Object, Stack, stack, tenant_engineer
from tests.journeys.journey import journey

SPLIT_DOC = "docs/workloads.md#one-ceiling-per-tenant"
STORAGE_DOC = "docs/workloads.md#storage-quota"
RESEARCH = "ml-research"
GPU = "nvidia.com/gpu"
KUEUE_GATE = "kueue.x-k8s.io/admission"
RESTRICTED = {
    "allowPrivilegeEscalation": False,
    "runAsNonRoot": True,
    "runAsUser": 1000,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
"""A container Pod Security's `restricted` level admits (tenant namespaces enforce it)."""


def gpu_pod(namespace: str, name: str, gpus: int = 1) -> Object:
    """A bare GPU pod (Kueue's pod integration queues and gates it)."""
    resources = {"cpu": "1", "memory": "1Gi", GPU: str(gpus)}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "containers": [
                {
                    "name": "main",
                    "image": "busybox",
                    "resources": {
                        "requests": resources,
                        "limits": {"memory": "1Gi", GPU: str(gpus)},
                    },
                    "securityContext": RESTRICTED,
                }
            ]
        },
    }


def documented_ceiling(s: Stack, tenant: str) -> int:
    """The tenant's GPU ceiling as docs/workloads.md defines it: nominal plus what it may
    borrow, summed over its GPU pools (tenancy.gpu_ceiling over the stack's tenants)."""
    specs = [t.spec(n) for n, t in s.config.tenants.items()]
    (spec,) = [t for t in specs if t.name == tenant]
    return gpu_ceiling(spec, specs)


def refused_by_quota(result: apiserver.Admission, key: str) -> bool:
    return (
        not result.created
        and result.refused_by == "ResourceQuota"
        and "exceeded quota: tenant-quota" in result.errors[0]
        and key in result.errors[0]
    )


@journey(
    user="ML engineers of tenant ml-research (two namespaces)",
    stack="prod",
    steps=[
        "in ml-research and in ml-research-eval, create GPU pods (an eighth of the ceiling "
        "each) adding up to more than the tenant's whole GPU ceiling (nominal plus borrowable)",
    ],
    outcome="Kueue's pod webhook holds every pod behind its kueue.x-k8s.io/admission gate, and "
    "the ResourceQuota plugin charges the gated pods: it creates pods in each namespace up to its "
    "share of the ceiling (namespaceWeights 7:1) and refuses the rest (exceeded quota: "
    "tenant-quota, requests.nvidia.com/gpu); together the namespaces hold exactly the tenant's "
    "ceiling, not twice it",
    docs=[SPLIT_DOC, "docs/workloads.md#load-balancers-and-node-ports"],
)
def test_a_tenant_holds_its_ceiling_once_over_its_namespaces() -> None:
    s = stack("prod")
    namespaces = s.config.tenants[RESEARCH].namespaces
    assert len(namespaces) == 2
    ceiling = documented_ceiling(s, RESEARCH)
    # Pods of an eighth of the ceiling each (the weights are 7:1), one namespace's worth of the
    # whole ceiling and one more in each namespace.
    size = ceiling // 8
    assert size * 8 == ceiling
    pods = [gpu_pod(ns, f"p{i}", size) for ns in namespaces for i in range(9)]
    run = s.create(pods, tenant_engineer(RESEARCH))
    held = {ns: 0 for ns in namespaces}
    for result in run.results:
        if result.created:
            assert result.admitted is not None
            assert {"name": KUEUE_GATE} in result.admitted["spec"]["schedulingGates"]
            held[result.namespace] += size
        else:
            assert refused_by_quota(result, f"requests.{GPU}"), result.errors
    assert sum(held.values()) == ceiling
    assert held == {"ml-research": ceiling * 7 // 8, "ml-research-eval": ceiling // 8}


def gang_job(s: Stack, namespace: str) -> Object:
    """The tenant's declared largest gang as one indexed Job on its queue."""
    gang = s.config.tenants[RESEARCH].largest_gang
    assert gang is not None
    requests = {"cpu": gang.cpu, "memory": gang.memory, GPU: str(gang.gpus)}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "largest-gang",
            "namespace": namespace,
            "labels": {"kueue.x-k8s.io/queue-name": RESEARCH},
        },
        "spec": {
            "parallelism": gang.pods,
            "completions": gang.pods,
            "completionMode": "Indexed",
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {
                            "name": "train",
                            "image": "busybox",
                            "securityContext": RESTRICTED,
                            "resources": {
                                "requests": requests,
                                "limits": {"memory": gang.memory, GPU: str(gang.gpus)},
                            },
                        }
                    ],
                }
            },
        },
    }


def resumed_pods(s: Stack, namespace: str) -> list[apiserver.Admission]:
    """Kueue admits the gang Job; the job controller creates its pods from the resumed Job."""
    job = gang_job(s, namespace)
    (queued,) = s.queue([kueue.Step("submit the largest gang", submit=[job])])
    assert queued.workload_of("Job", "largest-gang").admitted
    resumed = dict(queued.object("Job", "largest-gang"))
    (again,) = s.create([resumed], tenant_engineer(RESEARCH)).results
    return again.descendants("Pod")


@journey(
    user="ML engineer of tenant ml-research",
    stack="prod",
    steps=[
        "submit the tenant's declared largest gang (6 pods x 8 GPUs) as a Job in ml-research",
        "submit the same Job in ml-research-eval",
    ],
    outcome="Kueue admits both (one ClusterQueue for the tenant); in ml-research the job "
    "controller's 6 pods are all created within the namespace's quota; in ml-research-eval, "
    "whose share is an eighth, the quota refuses all but the pods it has room for",
    docs=[SPLIT_DOC],
)
def test_the_largest_gang_fits_the_namespace_with_the_largest_share() -> None:
    s = stack("prod")
    gang = s.config.tenants[RESEARCH].largest_gang
    assert gang is not None
    pods = resumed_pods(s, "ml-research")
    assert len(pods) == gang.pods and all(p.created for p in pods), [p.errors for p in pods]
    evals = resumed_pods(s, "ml-research-eval")
    share = documented_ceiling(s, RESEARCH) // 8
    created = [p for p in evals if p.created]
    assert len(created) == share // gang.gpus
    assert all(refused_by_quota(p, f"requests.{GPU}") for p in evals if not p.created)


def claim(name: str, namespace: str, size: str, storage_class: str | None) -> Object:
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": size}},
    }
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def storage_grant(s: Stack, tenant: str, storage_class: str) -> Decimal:
    """What the stack file grants the tenant of ``storage_class`` (0 when not listed)."""
    grant = s.config.tenants[tenant].storage.get(storage_class)
    return Decimal(0) if grant is None else quantity(grant.requests)


def namespace_share(s: Stack, namespace: str, storage_class: str) -> Decimal:
    """The namespace's share of the grant, as its tenant-quota in the plan holds it."""
    (quota,) = [
        q for q in s.objects("ResourceQuota", namespace) if q["metadata"]["name"] == "tenant-quota"
    ]
    return quantity(
        quota["spec"]["hard"][f"{storage_class}.storageclass.storage.k8s.io/requests.storage"]
    )


@journey(
    user="ML engineer of tenant ml-research",
    stack="every stack",
    steps=[
        "create a claim with no StorageClass, half the namespace's share of the tenant's gp3 "
        "grant (its namespaces' shares add up to the grant)",
        "create a gp3 claim of the rest of the share",
        "create another 1Gi gp3 claim",
        "create a 1Gi claim of the io2 class `nvme-fast`, which the tenant was not granted",
    ],
    outcome="the first gets the default class gp3 and is created, as is the second; the third "
    "is refused by the ResourceQuota plugin (gp3.storageclass.storage.k8s.io/requests.storage), "
    "the io2 claim too (nvme-fast.storageclass.storage.k8s.io, held at 0)",
    docs=[STORAGE_DOC],
)
@pytest.mark.parametrize("name", STACKS)
def test_a_tenant_claims_storage_only_within_its_grants(name: str) -> None:
    s = stack(name)
    namespaces = s.config.tenants[RESEARCH].namespaces
    namespace = namespaces[0]
    granted = storage_grant(s, RESEARCH, DEFAULT_CLASS)
    assert granted > 0 and storage_grant(s, RESEARCH, FAST_CLASS) == 0
    assert sum(namespace_share(s, ns, DEFAULT_CLASS) for ns in namespaces) == granted
    grant = namespace_share(s, namespace, DEFAULT_CLASS)
    half = format_bytes(int(grant) // 2)
    rest = format_bytes(int(grant) - int(grant) // 2)
    defaulted, second, over, io2 = s.create(
        [
            claim("data", namespace, half, None),
            claim("more", namespace, rest, DEFAULT_CLASS),
            claim("over", namespace, "1Gi", DEFAULT_CLASS),
            claim("fast", namespace, "1Gi", FAST_CLASS),
        ],
        tenant_engineer(RESEARCH),
    ).results
    assert defaulted.created and second.created, defaulted.errors + second.errors
    assert defaulted.admitted is not None
    assert defaulted.admitted["spec"]["storageClassName"] == DEFAULT_CLASS
    assert refused_by_quota(over, f"{DEFAULT_CLASS}.storageclass.storage.k8s.io/requests.storage")
    assert refused_by_quota(io2, f"{FAST_CLASS}.storageclass.storage.k8s.io/requests.storage")


def test_the_docs_state_prods_split_ceiling() -> None:
    """The figures docs/workloads.md gives for prod's split are ml-research's ceiling."""
    ceiling = documented_ceiling(stack("prod"), RESEARCH)
    stated = (
        f"stop at {ceiling * 7 // 8} GPUs in ml-research and {ceiling // 8} in "
        f"ml-research-eval: {ceiling} together, the tenant's GPU ceiling (not {2 * ceiling})"
    )
    assert stated in " ".join((ROOT / "docs/workloads.md").read_text().split())
