"""The platform's own admission policies on its own agents: every ValidatingPolicy the prod plan
renders is executed on each rendered agent StatefulSet (with the namespace's rendered PDBs as
the cluster state `resource.List` reads) and on the pod the StatefulSet controller creates from
its template. Nothing here restates a policy."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.admission_policies import MODULES
from substrate.plan.command import PlanResult
from tests.admission.kyverno_cel import Cluster, CompiledPolicy, namespace_object

NAMESPACE = "agents"
SCOPED_TO_PODS = {
    "substrate-pod-security-restricted",
    "substrate-require-requests-limits",
    "substrate-restrict-images",
    "substrate-karpenter-do-not-disrupt",
    "substrate-no-static-aws-credentials",
    "substrate-service-account-token",
}


def _kind(plan: PlanResult, kind: str) -> list[dict[str, Any]]:
    return [m for m in plan.manifests.values() if m["kind"] == kind]


def _namespace(plan: PlanResult) -> dict[str, Any]:
    (ns,) = [m for m in _kind(plan, "Namespace") if m["metadata"]["name"] == NAMESPACE]
    return namespace_object(NAMESPACE, ns["metadata"]["labels"])


def _statefulsets(plan: PlanResult) -> list[dict[str, Any]]:
    found = [m for m in _kind(plan, "StatefulSet") if m["metadata"]["namespace"] == NAMESPACE]
    assert {s["metadata"]["name"] for s in found} == {"support", "research"}
    return found


def _pdbs(plan: PlanResult) -> list[dict[str, Any]]:
    return [
        m for m in _kind(plan, "PodDisruptionBudget") if m["metadata"]["namespace"] == NAMESPACE
    ]


def pod_of(sts: dict[str, Any], ordinal: int = 0) -> dict[str, Any]:
    """The pod the StatefulSet controller creates: the template, named `<set>-<n>`, owned by the
    set, with the claim template's volume `memory-<set>-<n>` added."""
    template = copy.deepcopy(sts["spec"]["template"])
    name = f"{sts['metadata']['name']}-{ordinal}"
    spec = template["spec"]
    for claim in sts["spec"]["volumeClaimTemplates"]:
        claim_name = f"{claim['metadata']['name']}-{name}"
        spec["volumes"].append(
            {"name": claim["metadata"]["name"], "persistentVolumeClaim": {"claimName": claim_name}}
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
                    "uid": "1",
                }
            ],
        },
        "spec": spec,
    }


@pytest.fixture(scope="module")
def with_pdbs(prod_plan: PlanResult) -> list[CompiledPolicy]:
    """The prod policies, `resource.List` seeing the agents namespace's rendered PDBs."""
    found = _kind(prod_plan, "ValidatingPolicy")
    assert len(found) == len(MODULES)
    return [CompiledPolicy(p, Cluster(_pdbs(prod_plan))) for p in found]


@pytest.fixture(scope="module")
def empty_cluster(prod_plan: PlanResult) -> list[CompiledPolicy]:
    return [CompiledPolicy(p) for p in _kind(prod_plan, "ValidatingPolicy")]


def _verdicts(
    policies: list[CompiledPolicy], obj: dict[str, Any], ns: dict[str, Any]
) -> dict[str, Any]:
    return {p.policy["metadata"]["name"]: p.evaluate(obj, ns) for p in policies}


def test_every_prod_policy_admits_the_agent_statefulsets(
    prod_plan: PlanResult, with_pdbs: list[CompiledPolicy]
) -> None:
    ns = _namespace(prod_plan)
    for sts in _statefulsets(prod_plan):
        verdicts = _verdicts(with_pdbs, sts, ns)
        assert {v.result for v in verdicts.values()} <= {"pass", "skip"}, verdicts
        # The StatefulSet-scoped policies really judged it.
        assert verdicts["substrate-statefulset-pdb"].result == "pass"
        assert verdicts["substrate-gpu-queue-label"].result == "pass"


def test_every_prod_policy_admits_the_agent_pods(
    prod_plan: PlanResult, with_pdbs: list[CompiledPolicy]
) -> None:
    ns = _namespace(prod_plan)
    for sts in _statefulsets(prod_plan):
        verdicts = _verdicts(with_pdbs, pod_of(sts), ns)
        assert {v.result for v in verdicts.values()} <= {"pass", "skip"}, verdicts
        assert {n for n, v in verdicts.items() if v.result == "pass"} >= SCOPED_TO_PODS


def test_without_its_pdb_the_statefulset_is_refused(
    prod_plan: PlanResult, empty_cluster: list[CompiledPolicy]
) -> None:
    """Why the PDB is created first: Kyverno reads the namespace's PDBs at admission."""
    sts = _statefulsets(prod_plan)[0]
    verdicts = _verdicts(empty_cluster, sts, _namespace(prod_plan))
    failing = {n for n, v in verdicts.items() if v.result == "fail"}
    assert failing == {"substrate-statefulset-pdb"}


def test_a_loosened_agent_pod_is_refused(
    prod_plan: PlanResult, with_pdbs: list[CompiledPolicy]
) -> None:
    pod = pod_of(_statefulsets(prod_plan)[0])
    del pod["metadata"]["annotations"]["karpenter.sh/do-not-disrupt"]
    pod["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True
    pod["spec"]["containers"][0]["image"] = "docker.io/library/python:3.12"
    verdicts = _verdicts(with_pdbs, pod, _namespace(prod_plan))
    assert {n for n, v in verdicts.items() if v.result == "fail"} == {
        "substrate-karpenter-do-not-disrupt",
        "substrate-pod-security-restricted",
        "substrate-restrict-images",
    }
