"""Agent admission journeys: the platform's own agent StatefulSets and the pods their
controller creates (the apiserver engine runs Kubernetes' own admission and StatefulSet
controller), judged by the real Kyverno CLI under each stack's policies, with the namespace's
rendered PodDisruptionBudgets as the cluster state `resource.List` reads."""

from __future__ import annotations

import copy

import pytest

from substrate.engines import apiserver
from tests.helpers import STACKS
from tests.journeys.cluster import Object, Stack, denied, judged_by, stack
from tests.journeys.journey import journey

NAMESPACE = "agents"
DEPLOYER = {"username": "arn:aws:sts::123456789012:assumed-role/substrate-deploy/ci"}
"""`pulumi up` applies the agents as the deploying principal (a cluster admin)."""


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


@journey(
    user="platform engineer deploying the stack",
    stack="dev, staging, prod",
    steps=[
        "pulumi up creates each agent's PodDisruptionBudget, then its StatefulSet",
        "the StatefulSet controller creates the agent's pods",
    ],
    outcome="Kyverno admits both StatefulSets (statefulset-pdb finds their PDBs) and their pods",
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
        assert "substrate-statefulset-pdb" in judged_by(verdicts, sts["metadata"]["name"])
    pods = [p for r in results for p in r.descendants("Pod")]
    assert pods and all(p.pod_security and p.pod_security.enforce.allowed for p in pods)
    for pod in pods:
        verdicts = s.admit([pod.admitted or {}], requester(pod), cluster=pdbs)
        assert denied(verdicts, pod.name) == {}
        assert "substrate-pod-security-restricted" in judged_by(verdicts, pod.name)


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
