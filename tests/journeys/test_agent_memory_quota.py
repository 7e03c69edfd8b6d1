"""The agents' storage bound per namespace (docs/agents.md#the-memory-bound): the ResourceQuota
`agent-memory` holds each StorageClass the agents claim at exactly their claims at their most
replicas. The apiserver engine runs kube-apiserver v1.36's ResourceQuota plugin; the claims are
derived from the rendered objects (claim templates, ScaledObject and ScaledJob replica bounds),
not from the quota's own arithmetic."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from substrate.components.workloads.tenancy import quantity
from substrate.engines import apiserver
from tests.helpers import ROOT, STACKS, stack_yaml
from tests.journeys.cluster import Object, Stack, controller, docs_yaml, stack
from tests.journeys.journey import journey
from tests.journeys.test_tenant_quota import claim

BOUND = "docs/agents.md#the-memory-bound"
STORAGE = "docs/workloads.md#storage-quota"
QUOTA = "agent-memory"


def _most_replicas(s: Stack, namespace: str, name: str, replicas: int | None) -> int:
    scaled = [
        o["spec"]["maxReplicaCount"]
        for o in s.objects("ScaledObject", namespace)
        if o["spec"]["scaleTargetRef"]["name"] == name
    ]
    return scaled[0] if scaled else replicas or 1


def agent_claims(s: Stack, namespace: str) -> list[Object]:
    """Every claim the agents of ``namespace`` hold at their most replicas: each StatefulSet
    replica's `memory-<agent>-<n>` from its claim template, and each running task Job's generic
    ephemeral volume (`<pod>-<volume>`)."""
    out: list[Object] = []
    for sts in s.objects("StatefulSet", namespace):
        name = sts["metadata"]["name"]
        most = _most_replicas(s, namespace, name, sts["spec"].get("replicas"))
        for template in sts["spec"]["volumeClaimTemplates"]:
            prefix = f"{template['metadata']['name']}-{name}"
            out += [_claim(f"{prefix}-{n}", namespace, template["spec"]) for n in range(most)]
    for job in s.objects("ScaledJob", namespace):
        name, most = job["metadata"]["name"], job["spec"]["maxReplicaCount"]
        for volume in job["spec"]["jobTargetRef"]["template"]["spec"]["volumes"]:
            if "ephemeral" in volume:
                spec = volume["ephemeral"]["volumeClaimTemplate"]["spec"]
                out += [
                    _claim(f"{name}-task{n}-{volume['name']}", namespace, spec) for n in range(most)
                ]
    return out


def _claim(name: str, namespace: str, spec: dict[str, Any]) -> Object:
    size = spec["resources"]["requests"]["storage"]
    return claim(name, namespace, size, spec["storageClassName"])


def _class(c: Object) -> str:
    return c["spec"]["storageClassName"]


def _size(c: Object) -> Decimal:
    return quantity(c["spec"]["resources"]["requests"]["storage"])


def _namespaces(s: Stack) -> list[str]:
    return sorted(
        q["metadata"]["namespace"]
        for q in s.objects("ResourceQuota")
        if q["metadata"]["name"] == QUOTA
    )


def refused_by_quota(result: apiserver.Admission, storage_class: str) -> bool:
    """Refused by the ResourceQuota plugin for ``storage_class``: the API server names the first
    exceeded quota (`tenant-quota`, whose grant of an agent class is the agents' claims too, or
    `agent-memory`)."""
    error = result.errors[0] if result.errors else ""
    return (
        not result.created
        and result.refused_by == "ResourceQuota"
        and re.search(rf"exceeded quota: ({QUOTA}|tenant-quota)\b", error) is not None
        and f"{storage_class}.storageclass.storage.k8s.io" in error
    )


@journey(
    user="KEDA scaling every agent to its most replicas; a tenant engineer of the agents",
    stack="every stack",
    steps=[
        "the StatefulSet controller creates every replica's memory claim up to maxReplicas, and "
        "the ephemeral volume controller a claim for every task Job a task agent may run at once",
        "then one replica's claim more of each class the agents use (a replica beyond "
        "maxReplicas), and a tenant's own 1Gi claim of each of those classes in the namespace",
    ],
    outcome="every claim at the agents' most replicas is created; `agent-memory` holds each "
    "class at exactly those claims, and the extra replica's claims and the tenant's own claims "
    "are refused by the ResourceQuota plugin (exceeded quota on the class)",
    docs=[BOUND, STORAGE],
)
@pytest.mark.parametrize("name", STACKS)
def test_agents_claim_their_most_replicas_and_nothing_more(name: str) -> None:
    """One engine run per namespace: the ResourceQuota plugin charges usage within a run, and
    it does not look at who asks, so the claims are created by one requester in order."""
    s = stack(name)
    namespaces = _namespaces(s)
    assert namespaces, "every stack runs agents with memory"
    for namespace in namespaces:
        claims = agent_claims(s, namespace)
        classes = sorted({_class(c) for c in claims})
        (quota,) = [
            q for q in s.objects("ResourceQuota", namespace) if q["metadata"]["name"] == QUOTA
        ]
        for storage_class in classes:
            prefix = f"{storage_class}.storageclass.storage.k8s.io"
            of_class = [c for c in claims if _class(c) == storage_class]
            assert quantity(quota["spec"]["hard"][f"{prefix}/requests.storage"]) == sum(
                map(_size, of_class)
            )
            assert int(quota["spec"]["hard"][f"{prefix}/persistentvolumeclaims"]) == len(of_class)
        extra = [claim(f"memory-beyond-{c}", namespace, "1Gi", c) for c in classes]
        extra += [claim(f"scratch-{c}", namespace, "1Gi", c) for c in classes]
        results = s.create([*claims, *extra], controller("statefulset-controller")).results
        fill, refused = results[: len(claims)], results[len(claims) :]
        assert all(r.created for r in fill), [r.errors for r in fill if not r.created]
        for storage_class, result in zip(classes * 2, refused, strict=True):
            assert refused_by_quota(result, storage_class), result.errors


TIMES = "\u00d7"
TERMS = re.compile(rf"`([\w-]+)` ((?:\d+ {TIMES} \d+Gi(?: \+ )?)+) = (\d+)Gi in (\d+)\s+claims")


def test_the_docs_state_prods_agent_claims() -> None:
    """docs/agents.md's prod figures (`<class>` n x size + ... = total in k claims, written with
    the multiplication sign) and the storage grant docs/workloads.md shows are prod's agent
    claims at their most replicas."""
    s = stack("prod")
    (namespace,) = _namespaces(s)
    claims = agent_claims(s, namespace)
    expected = {}
    for storage_class in sorted({_class(c) for c in claims}):
        sizes = Counter(int(_size(c) / 2**30) for c in claims if _class(c) == storage_class)
        expected[storage_class] = (
            sizes,
            sum(n * size for size, n in sizes.items()),
            sum(sizes.values()),
        )
    stated = {}
    for storage_class, terms, total, count in TERMS.findall((ROOT / "docs/agents.md").read_text()):
        sizes = Counter()
        for term in terms.split(" + "):
            n, size = term.split(f" {TIMES} ")
            sizes[int(size.removesuffix("Gi"))] += int(n)
        stated[storage_class] = (sizes, int(total), int(count))
    assert stated == expected
    (example,) = docs_yaml("workloads.md", "Storage quota")
    grants = example["substrate:tenants"]["agents"]["storage"]
    assert grants == stack_yaml("prod")["substrate:tenants"]["agents"]["storage"]
