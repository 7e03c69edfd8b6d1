"""What the stacks' plans declare for admission: Kyverno enforcing in prod, auditing in dev,
every Kyverno CR valid against the upstream CRD, and the scope Kyverno really gives the rendered
policies (what tenants submit is judged in tests/journeys/test_admission.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from substrate.components.admission.admission_policies import MODULES
from substrate.components.core.labels import SYSTEM_NAMESPACES, TENANT_LABEL
from substrate.engines import kyverno
from substrate.plan.command import PlanResult
from tests.crds import validation_errors
from tests.helpers import require_engine

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
    """Kyverno judges a pod in every tenant namespace the plan creates and in none of the
    platform's (system namespaces included); Kyverno's webhooks exclude the same namespaces as
    the policies' own selectors (which background scans use)."""
    rendered = kyverno.namespaces_of(any_plan.manifests.values())
    names = {ns["metadata"]["name"]: ns for ns in rendered}
    tenants = {n for n, ns in names.items() if TENANT_LABEL in ns["metadata"]["labels"]}
    platform = (set(names) - tenants) | set(SYSTEM_NAMESPACES)
    assert {"kyverno", "kueue-system", "keda"} <= platform
    assert {"ml-research", "data-eng"} <= tenants
    pods = [_privileged_pod(n) for n in sorted(tenants | platform)]
    namespaces = rendered + [kyverno.namespace(n) for n in SYSTEM_NAMESPACES]
    require_engine(kyverno.SERVER)
    verdicts = kyverno.apply(_policies(any_plan), pods, namespaces=namespaces)
    judged = {v.namespace for v in verdicts}
    assert judged == tenants
    webhook = _kyverno_values(any_plan)["config"]["webhooks"]["namespaceSelector"]
    for policy in _policies(any_plan):
        assert _excluded(webhook) == _excluded(
            policy["spec"]["matchConstraints"]["namespaceSelector"]
        )


def _excluded(selector: dict[str, Any]) -> set[str]:
    (expression,) = selector["matchExpressions"]
    assert (expression["key"], expression["operator"]) == ("kubernetes.io/metadata.name", "NotIn")
    return set(expression["values"])


def _privileged_pod(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"probe-{namespace}", "namespace": namespace},
        "spec": {
            "containers": [
                {"name": "probe", "image": "busybox", "securityContext": {"privileged": True}}
            ]
        },
    }
