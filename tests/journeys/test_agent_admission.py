"""Agent admission journeys: the platform's own agent StatefulSets and the pods their
controller creates, judged by the real Kyverno CLI under each stack's policies, with the
namespace's rendered PodDisruptionBudgets as the cluster state `resource.List` reads."""

from __future__ import annotations

import copy

import pytest

from tests.journeys.cluster import STACKS, Object, Stack, controller, denied, judged_by, stack
from tests.journeys.journey import journey

NAMESPACE = "agents"
DEPLOYER = {"username": "arn:aws:sts::123456789012:assumed-role/substrate-deploy/ci"}
"""`pulumi up` applies the agents as the deploying principal (a cluster admin)."""


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
                {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": sts["metadata"]["name"]}
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
    outcome="Kyverno admits both StatefulSets (statefulset-pdb finds their PDBs) and their pods",
    docs=["docs/agents.md#deploying-an-agent"],
)
@pytest.mark.parametrize("name", STACKS)
def test_the_agents_are_admitted(name: str) -> None:
    s = stack(name)
    pdbs = s.objects("PodDisruptionBudget", NAMESPACE)
    sets = statefulsets(s)
    verdicts = s.admit(sets, DEPLOYER, cluster=pdbs)
    for sts in sets:
        assert denied(verdicts, sts["metadata"]["name"]) == {}
        assert "substrate-statefulset-pdb" in judged_by(verdicts, sts["metadata"]["name"])
    pods = [pod_of(sts) for sts in sets]
    verdicts = s.admit(pods, controller("statefulset-controller"), cluster=pdbs)
    for pod in pods:
        assert denied(verdicts, pod["metadata"]["name"]) == {}
        assert "substrate-pod-security-restricted" in judged_by(verdicts, pod["metadata"]["name"])


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
    verdicts = s.admit([pod], controller("statefulset-controller"))
    assert set(denied(verdicts, pod["metadata"]["name"])) == {
        "substrate-karpenter-do-not-disrupt",
        "substrate-pod-security-restricted",
        "substrate-restrict-images",
    }
