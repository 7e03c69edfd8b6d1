"""Agent admission journeys: the platform's own agent StatefulSets and the pods their
controller creates, judged by the real Kyverno CLI under each stack's policies, with the
namespace's rendered PodDisruptionBudgets as the cluster state `resource.List` reads."""

from __future__ import annotations

import copy

import pytest

from components.tenancy import format_bytes, memory_bytes
from tests.journeys.cluster import (
    STACKS,
    Object,
    Stack,
    controller,
    denied,
    judged_by,
    stack,
    tenant_engineer,
)
from tests.journeys.journey import journey

NAMESPACE = "agents"
DEPLOYER = {"username": "arn:aws:sts::123456789012:assumed-role/substrate-deploy/ci"}
"""`pulumi up` applies the agents as the deploying principal (a cluster admin)."""
ISOLATION = "substrate-agent-isolation"
STATEFULSETS = controller("statefulset-controller")


def cluster_state(s: Stack) -> list[Object]:
    """What Kyverno's resource.List sees in the agents' namespace: the PDBs."""
    return s.objects("PodDisruptionBudget", NAMESPACE)


IDENTITY_DOC = "docs/agents.md#one-agent-cannot-become-another"
BOUND_DOC = "docs/agents.md#the-memory-bound"


def statefulsets(s: Stack) -> list[Object]:
    found = s.objects("StatefulSet", NAMESPACE)
    assert {o["metadata"]["name"] for o in found} == {"support", "research"}
    return found


def pod_of(sts: Object, ordinal: int = 0) -> Object:
    """The pod the StatefulSet controller creates: the template, named `<set>-<n>`, owned by
    the set, with each claim template's volume `<claim>-<set>-<n>` added."""
    template = copy.deepcopy(sts["spec"]["template"])
    name = f"{sts['metadata']['name']}-{ordinal}"
    spec = template["spec"]
    for claim in sts["spec"].get("volumeClaimTemplates", []):
        spec.setdefault("volumes", []).append(
            {
                "name": claim["metadata"]["name"],
                "persistentVolumeClaim": {"claimName": f"{claim['metadata']['name']}-{name}"},
            }
        )
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            **template["metadata"],
            "name": name,
            "namespace": sts["metadata"]["namespace"],
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "StatefulSet",
                    "name": sts["metadata"]["name"],
                    "uid": f"uid-{sts['metadata']['name']}",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": spec,
    }


@journey(
    user="platform engineer deploying the stack",
    stack="dev, staging, prod",
    steps=[
        "pulumi up creates each agent's PodDisruptionBudget, then its StatefulSet",
        "the StatefulSet controller creates the agent's pods",
    ],
    outcome="Kyverno admits both StatefulSets (statefulset-pdb finds their PDBs, "
    "agent-isolation sees the platform deploy them under the agents' names) and their pods "
    "(agent-isolation: each runs as its own agent and mounts its own memory claim)",
    docs=["docs/agents.md#deploying-an-agent"],
)
@pytest.mark.parametrize("name", STACKS)
def test_the_agents_are_admitted(name: str) -> None:
    s = stack(name)
    state = cluster_state(s)
    sets = statefulsets(s)
    verdicts = s.admit(sets, DEPLOYER, cluster=state)
    for sts in sets:
        assert denied(verdicts, sts["metadata"]["name"]) == {}
        assert {"substrate-statefulset-pdb", ISOLATION} <= judged_by(
            verdicts, sts["metadata"]["name"]
        )
    pods = [pod_of(sts, ordinal) for sts in sets for ordinal in (0, 1)]
    verdicts = s.admit(pods, STATEFULSETS, cluster=state)
    for pod in pods:
        assert denied(verdicts, pod["metadata"]["name"]) == {}
        assert {"substrate-pod-security-restricted", ISOLATION} <= judged_by(
            verdicts, pod["metadata"]["name"]
        )


@journey(
    user="platform engineer deploying the stack",
    stack="prod",
    steps=["create an agent StatefulSet before its PodDisruptionBudget exists"],
    outcome="denied by statefulset-pdb, which is why the agent runtime creates the PDB first",
    docs=["docs/agents.md#deploying-an-agent"],
)
def test_without_its_pdb_an_agent_is_refused() -> None:
    s = stack("prod")
    sts = statefulsets(s)[0]
    refused = denied(s.admit([sts], DEPLOYER), sts["metadata"]["name"])
    assert set(refused) == {"substrate-statefulset-pdb"}


@journey(
    user="agent developer of tenant agents",
    stack="prod",
    steps=[
        "take an agent pod, drop its do-not-disrupt annotation, allow privilege escalation and "
        "pull python from Docker Hub",
    ],
    outcome="denied by karpenter-do-not-disrupt, pod-security-restricted and restrict-images",
)
def test_a_loosened_agent_pod_is_refused() -> None:
    s = stack("prod")
    pod = pod_of(statefulsets(s)[0])
    del pod["metadata"]["annotations"]["karpenter.sh/do-not-disrupt"]
    pod["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True
    pod["spec"]["containers"][0]["image"] = "docker.io/library/python:3.12"
    verdicts = s.admit([pod], STATEFULSETS, cluster=cluster_state(s))
    assert set(denied(verdicts, pod["metadata"]["name"])) == {
        "substrate-karpenter-do-not-disrupt",
        "substrate-pod-security-restricted",
        "substrate-restrict-images",
    }


@journey(
    user="an engineer of the agents tenant (or a workload of the tenant)",
    stack="dev, staging, prod",
    steps=[
        "runs a pod as the support agent's service account, named and owned like its replica",
        "runs a pod that mounts the research agent's memory claim memory-research-0",
        "pre-creates claim memory-support-9 before the agent scales to a tenth replica",
        "re-creates the support agent's StatefulSet with another image, and a second "
        "StatefulSet running as the agent",
    ],
    outcome="agent-isolation refuses each: the pod (service account belongs to agent "
    "support), the mount (memory claims belong to agent replicas), the claim (would become a "
    "replica's memory) and both StatefulSets (only the platform deploys the agent); so no "
    "tenant pod gets an agent's Bedrock role, SPIFFE ID or memory",
    docs=[IDENTITY_DOC],
)
@pytest.mark.parametrize("name", STACKS)
def test_a_tenant_cannot_become_an_agent(name: str) -> None:
    s = stack(name)
    support, research = (
        next(o for o in statefulsets(s) if o["metadata"]["name"] == n)
        for n in ("support", "research")
    )
    forged = pod_of(support)
    snoop = pod_of(research)
    snoop["metadata"] = {"name": "snoop", "namespace": NAMESPACE}
    snoop["spec"]["serviceAccountName"] = "default"
    squat = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "memory-support-9", "namespace": NAMESPACE},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": "nvme-fast",
            "resources": {"requests": {"storage": "10Gi"}},
        },
    }
    replaced = copy.deepcopy(support)
    replaced["spec"]["template"]["spec"]["containers"][0]["image"] = f"{s.registry}/mine:1.0.0"
    twin = copy.deepcopy(support)
    twin["metadata"]["name"] = "support-twin"
    engineer = tenant_engineer("agents")
    verdicts = s.admit([forged, snoop, squat, replaced, twin], engineer, cluster=cluster_state(s))
    expected = {
        "support-0": "service account support belongs to agent support",
        "snoop": "memory claims memory-research-0 belong to agent replicas",
        "memory-support-9": "claim memory-support-9 would become an agent replica's memory",
        "support": "StatefulSet support runs as agent support",
        "support-twin": "StatefulSet support-twin runs as agent support",
    }
    for obj, message in expected.items():
        refused = denied(verdicts, obj)
        assert ISOLATION in refused, (obj, refused)
        assert message in refused[ISOLATION], (obj, refused[ISOLATION])


@journey(
    user="a cluster administrator restoring an agent's memory",
    stack="dev, staging, prod",
    steps=[
        "scales the agent down and deletes replica 0's claim",
        "creates claim memory-support-0 from a VolumeSnapshot (dataSourceRef)",
        "the StatefulSet controller re-creates pod support-0, which mounts it",
        "the administrator also tries a shell pod as the agent's service account",
    ],
    outcome="the restored claim and the re-created replica are admitted; the shell pod is "
    "refused by agent-isolation (not even an administrator runs as an agent outside its "
    "StatefulSet)",
    docs=[IDENTITY_DOC],
)
@pytest.mark.parametrize("name", STACKS)
def test_an_administrator_restores_an_agents_memory(name: str) -> None:
    s = stack(name)
    support = next(o for o in statefulsets(s) if o["metadata"]["name"] == "support")
    template = support["spec"]["volumeClaimTemplates"][0]
    restored = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "memory-support-0", "namespace": NAMESPACE},
        "spec": {
            **copy.deepcopy(template["spec"]),
            "dataSourceRef": {
                "apiGroup": "snapshot.storage.k8s.io",
                "kind": "VolumeSnapshot",
                "name": "memory-support-0-before-upgrade",
            },
        },
    }
    shell = pod_of(support)
    shell["metadata"] = {"name": "support-shell", "namespace": NAMESPACE}
    admin = {
        "username": "arn:aws:sts::123456789012:assumed-role/substrate-platform-admin/bob",
        "groups": ["system:authenticated"],
    }
    verdicts = s.admit([restored, shell], admin, cluster=cluster_state(s))
    assert ISOLATION in judged_by(verdicts, "memory-support-0")
    assert denied(verdicts, "memory-support-0") == {}
    assert ISOLATION in denied(verdicts, "support-shell")
    replica = pod_of(support)
    verdicts = s.admit([replica], STATEFULSETS, cluster=cluster_state(s))
    assert denied(verdicts, "support-0") == {}


@journey(
    user="an engineer of the agents tenant",
    stack="dev, staging, prod",
    steps=[
        "expands replica 0's memory claim memory-support-0 to the stack's memory cap "
        "(substrate:storage.maxAgentMemoryVolume)",
        "then to 1Gi more than the cap",
    ],
    outcome="the expansion to the cap is admitted; the one beyond it is refused by "
    "agent-isolation (requests more than the agent memory cap)",
    docs=[BOUND_DOC],
)
@pytest.mark.parametrize("name", STACKS)
def test_memory_claims_cannot_grow_beyond_the_cap(name: str) -> None:
    s = stack(name)
    cap = s.config.storage.max_agent_memory_volume
    support = next(o for o in statefulsets(s) if o["metadata"]["name"] == "support")
    template = support["spec"]["volumeClaimTemplates"][0]
    beyond = format_bytes(memory_bytes(cap) + 2**30)
    claims = []
    for size, claim in ((cap, "memory-support-0"), (beyond, "memory-support-1")):
        spec = copy.deepcopy(template["spec"])
        spec["resources"]["requests"]["storage"] = size
        claims.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": claim, "namespace": NAMESPACE},
                "spec": spec,
            }
        )
    verdicts = s.admit(claims, tenant_engineer("agents"), operation="UPDATE")
    assert ISOLATION in judged_by(verdicts, "memory-support-0")
    assert denied(verdicts, "memory-support-0") == {}
    refused = denied(verdicts, "memory-support-1")
    assert set(refused) == {ISOLATION}
    assert f"requests {beyond}, above the agent memory cap of {cap}" in refused[ISOLATION]
