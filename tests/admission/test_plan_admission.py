"""What the stacks' plans declare for admission: Kyverno enforcing in prod, auditing in dev,
every Kyverno CR valid against the upstream CRD, and the rendered policies run end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.admission_policies import MODULES
from components.labels import SYSTEM_NAMESPACES, TENANT_LABEL
from substrate.plan.command import PlanResult
from tests.admission.kyverno_cel import (
    CompiledPolicy,
    namespace_object,
    selector_matches,
)
from tests.crds import validation_errors

VPOL = "kubernetes:policies.kyverno.io/v1:ValidatingPolicy"


def _policies(plan: PlanResult) -> list[dict[str, Any]]:
    return [m for m in plan.manifests.values() if m["kind"] == "ValidatingPolicy"]


def _kyverno_values(plan: PlanResult) -> dict[str, Any]:
    (release,) = [r for r in plan.releases if r["chart"] == "kyverno"]
    return release["values"]


def test_prod_enforces_every_policy_with_ha_kyverno(prod_plan: PlanResult) -> None:
    policies = _policies(prod_plan)
    assert len(policies) == len(MODULES)
    for policy in policies:
        assert policy["spec"]["validationActions"] == ["Deny"]
        assert policy["spec"]["failurePolicy"] == "Fail"
    values = _kyverno_values(prod_plan)
    assert values["admissionController"]["replicas"] >= 3
    assert values["admissionController"]["podDisruptionBudget"]["enabled"] is True


def test_policies_wait_for_the_kyverno_release_that_installs_their_crds(
    prod_plan: PlanResult,
) -> None:
    (release,) = [
        r
        for r in prod_plan.records
        if r.type == "kubernetes:helm.sh/v3:Release" and r.inputs.get("chart") == "kyverno"
    ]
    policies = [r for r in prod_plan.records if r.type == VPOL]
    assert len(policies) == len(MODULES)
    for record in policies:
        assert release.urn in record.dependencies, record.name


def test_dev_audits_and_warns(dev_plan: PlanResult) -> None:
    for policy in _policies(dev_plan):
        assert policy["spec"]["validationActions"] == ["Audit", "Warn"]
    assert _kyverno_values(dev_plan)["admissionController"]["replicas"] == 1


@pytest.mark.crds
def test_every_kyverno_custom_resource_matches_the_crd(any_plan: PlanResult, crds: Path) -> None:
    kyverno = [m for m in any_plan.manifests.values() if "kyverno.io" in m["apiVersion"]]
    assert len(kyverno) == len(MODULES)
    for manifest in kyverno:
        assert validation_errors(crds, manifest) == [], manifest["metadata"]["name"]


def test_platform_namespaces_are_invisible_to_webhooks_and_policies(
    any_plan: PlanResult,
) -> None:
    """Every namespace the plan creates for the platform, and the system ones, is excluded both
    by Kyverno's webhook selector (chart values) and by each policy's own selector (background
    scans); every tenant namespace the plan creates is governed by both."""
    rendered = [
        namespace_object(m["metadata"]["name"], m["metadata"].get("labels"))
        for m in any_plan.manifests.values()
        if m["kind"] == "Namespace"
    ]
    tenants = [ns for ns in rendered if TENANT_LABEL in ns["metadata"]["labels"]]
    platform = [namespace_object(n) for n in SYSTEM_NAMESPACES]
    platform += [ns for ns in rendered if TENANT_LABEL not in ns["metadata"]["labels"]]
    assert "kyverno" in {ns["metadata"]["name"] for ns in platform}
    assert {"kueue-system", "keda"} <= {ns["metadata"]["name"] for ns in platform}
    assert {"ml-research", "data-eng"} <= {ns["metadata"]["name"] for ns in tenants}
    selectors = [_kyverno_values(any_plan)["config"]["webhooks"]["namespaceSelector"]]
    selectors += [p["spec"]["matchConstraints"]["namespaceSelector"] for p in _policies(any_plan)]
    for selector in selectors:
        for ns in tenants:
            assert selector_matches(selector, ns["metadata"]["labels"]), ns["metadata"]["name"]
        for ns in platform:
            assert not selector_matches(selector, ns["metadata"]["labels"]), ns["metadata"]["name"]


TRAINING_POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "finetune-0",
        "namespace": "ml-research",
        "labels": {
            "substrate.io/workload-class": "training",
            "kueue.x-k8s.io/queue-name": "ml-research",
        },
        "annotations": {"karpenter.sh/do-not-disrupt": "true"},
    },
    "spec": {
        "serviceAccountName": "trainer",
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        "containers": [
            {
                "name": "trainer",
                "image": "210987654321.dkr.ecr.us-east-1.amazonaws.com/ml/trainer:2026.11.0",
                "env": [{"name": "AWS_REGION", "value": "us-east-1"}],
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"]},
                },
                "resources": {
                    "requests": {"cpu": "16", "memory": "128Gi", "nvidia.com/gpu": "8"},
                    "limits": {"memory": "128Gi", "nvidia.com/gpu": "8"},
                },
            }
        ],
    },
}
GPU_NAMESPACE = namespace_object("ml-research", {"substrate.io/gpu": "true"})


def test_prod_policies_admit_a_well_formed_gpu_training_pod(prod_plan: PlanResult) -> None:
    for policy in _policies(prod_plan):
        verdict = CompiledPolicy(policy).evaluate(TRAINING_POD, GPU_NAMESPACE)
        assert verdict.result in ("pass", "skip"), (policy["metadata"]["name"], verdict)


def test_prod_policies_deny_the_same_pod_in_a_cpu_namespace_from_docker_hub(
    prod_plan: PlanResult,
) -> None:
    pod = {**TRAINING_POD, "spec": {**TRAINING_POD["spec"]}}
    pod["spec"]["containers"] = [{**TRAINING_POD["spec"]["containers"][0], "image": "nginx:1.27"}]
    failing = {
        p["metadata"]["name"]
        for p in _policies(prod_plan)
        if CompiledPolicy(p).evaluate(pod, namespace_object("web")).result == "fail"
    }
    assert failing == {"substrate-gpu-placement", "substrate-restrict-images"}
