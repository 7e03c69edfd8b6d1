"""Agent admission journeys: the platform's own agent StatefulSets and the pods their
controller creates (the apiserver engine runs Kubernetes' own admission and StatefulSet
controller), judged by the real Kyverno CLI under each stack's policies, with the namespace's
rendered PodDisruptionBudgets as the cluster state `resource.List` reads."""

from __future__ import annotations

import copy

import pytest

from substrate.components.workloads.tenancy import format_bytes, memory_bytes
from substrate.engines import apiserver
from tests.helpers import STACKS
from tests.journeys.cluster import Object, Stack, denied, judged_by, stack, tenant_engineer
from tests.journeys.journey import journey

NAMESPACE = "agents"
DEPLOYER = {"username": "arn:aws:sts::123456789012:assumed-role/substrate-deploy/ci"}
"""`pulumi up` applies the agents as the deploying principal (a cluster admin)."""
ISOLATION = "substrate-agent-isolation"
IDENTITY_DOC = "docs/agents.md#one-agent-cannot-become-another"
BOUND_DOC = "docs/agents.md#the-memory-bound"


def statefulsets(s: Stack) -> list[Object]:
    found = s.objects("StatefulSet", NAMESPACE)
    assert {o["metadata"]["name"] for o in found} == {"support", "research"}
    return found


def created(s: Stack) -> list[apiserver.Admission]:
    """The agents' StatefulSets as `pulumi up` creates them, with the pods their controller
    creates."""
    results = s.create(statefulsets(s), DEPLOYER).results
    assert all(r.reaches_validating_webhooks for r in results), [r.errors for r in results]
    return list(results)


def requester(admission: apiserver.Admission) -> dict[str, object]:
    return {"username": admission.username, "groups": list(admission.groups)}


_CREATED: dict[str, list[apiserver.Admission]] = {}


def replica(s: Stack, agent: str, ordinal: int = 0) -> apiserver.Admission:
    """Pod `<agent>-<ordinal>` as the StatefulSet controller creates it (the apiserver engine)."""
    if s.name not in _CREATED:
        _CREATED[s.name] = created(s)
    pods = [p for r in _CREATED[s.name] for p in r.descendants("Pod")]
    found = [p for p in pods if p.name == f"{agent}-{ordinal}"]
    assert found, f"the controller created no pod {agent}-{ordinal}: {[p.name for p in pods]}"
    return found[0]


def pod_copy(admission: apiserver.Admission, name: str | None = None) -> Object:
    """A pod like ``admission``'s; with ``name``, a new pod of that name owned by nothing."""
    pod = copy.deepcopy(dict(admission.admitted or {}))
    if name is not None:
        pod["metadata"] = {"name": name, "namespace": pod["metadata"]["namespace"]}
    return pod


@journey(
    user="platform engineer deploying the stack",
    stack="dev, staging, prod",
    steps=[
        "pulumi up creates each agent's PodDisruptionBudget, then its StatefulSet",
        "the StatefulSet controller creates the agent's pods",
    ],
    outcome="Kyverno admits both StatefulSets (statefulset-pdb finds their PDBs, "
    "agent-isolation sees the platform deploy them under the agents' names), the memory claims "
    "and the pods the controller creates (agent-isolation: each runs as its own agent and "
    "mounts its own memory claim)",
    docs=["docs/agents.md#deploying-an-agent"],
)
@pytest.mark.parametrize("name", STACKS)
def test_the_agents_are_admitted(name: str) -> None:
    s = stack(name)
    pdbs = s.objects("PodDisruptionBudget", NAMESPACE)
    results = created(s)
    sets = [r.admitted or {} for r in results]
    verdicts = s.admit(sets, DEPLOYER, cluster=pdbs)
    for sts in sets:
        assert denied(verdicts, sts["metadata"]["name"]) == {}
        assert {"substrate-statefulset-pdb", ISOLATION} <= judged_by(
            verdicts, sts["metadata"]["name"]
        )
    children = [
        c for r in results for kind in ("PersistentVolumeClaim", "Pod") for c in r.descendants(kind)
    ]
    pods = [c for c in children if c.kind == "Pod"]
    assert pods and all(p.pod_security and p.pod_security.enforce.allowed for p in pods)
    assert len(children) == 2 * len(pods), "each replica gets its memory claim"
    for child in children:
        verdicts = s.admit([child.admitted or {}], requester(child), cluster=pdbs)
        assert denied(verdicts, child.name) == {}
        assert ISOLATION in judged_by(verdicts, child.name)
        if child.kind == "Pod":
            assert "substrate-pod-security-restricted" in judged_by(verdicts, child.name)


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
    created_pod = created(s)[0].descendants("Pod")[0]
    pod = copy.deepcopy(dict(created_pod.admitted or {}))
    del pod["metadata"]["annotations"]["karpenter.sh/do-not-disrupt"]
    pod["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True
    pod["spec"]["containers"][0]["image"] = "docker.io/library/python:3.12"
    verdicts = s.admit([pod], requester(created_pod))
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
    support = next(o for o in statefulsets(s) if o["metadata"]["name"] == "support")
    forged = pod_copy(replica(s, "support"))
    snoop = pod_copy(replica(s, "research"), "snoop")
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
    pdbs = s.objects("PodDisruptionBudget", NAMESPACE)
    verdicts = s.admit([forged, snoop, squat, replaced, twin], engineer, cluster=pdbs)
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
    docs=[IDENTITY_DOC, "docs/agents.md#how-memory-survives-restarts-and-drains"],
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
    shell = pod_copy(replica(s, "support"), "support-shell")
    admin = {
        "username": "arn:aws:sts::123456789012:assumed-role/substrate-platform-admin/bob",
        "groups": ["system:authenticated"],
    }
    verdicts = s.admit([restored, shell], admin)
    assert ISOLATION in judged_by(verdicts, "memory-support-0")
    assert denied(verdicts, "memory-support-0") == {}
    assert ISOLATION in denied(verdicts, "support-shell")
    again = replica(s, "support")
    verdicts = s.admit([pod_copy(again)], requester(again))
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
