"""The add-on shape: PSA-labelled namespace, Pod Identity role, pinned chart, standard outputs."""

from __future__ import annotations

import pulumi
import pytest

from substrate.components.core.addon import Addon, AddonArgs, AddonSpec
from substrate.components.core.versions import CHARTS
from tests.helpers import Resources, policy_json, run_program


class ExampleAddon(Addon):
    """What every add-on component looks like."""

    def __init__(
        self, name: str, args: AddonArgs, chart: str, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("substrate:test:ExampleAddon", name, None, opts)
        self._install(
            name,
            args,
            AddonSpec(
                chart=chart,
                namespace="example",
                values={"replicas": 2},
                service_account="example-controller",
                policy_json='{"Version": "2012-10-17", "Statement": []}',
            ),
        )
        self._finish({"extra": "value"})


def _run(chart: str) -> Resources:
    return Resources(
        run_program(
            lambda: ExampleAddon(
                "example", {"cluster_name": "substrate-test", "tags": {"team": "platform"}}, chart
            )
        )
    )


def test_namespace_is_restricted_by_pod_security_admission() -> None:
    ns = _run("keda").one("kubernetes:core/v1:Namespace").inputs
    assert ns["metadata"]["name"] == "example"
    for mode in ("enforce", "audit", "warn"):
        assert ns["metadata"]["labels"][f"pod-security.kubernetes.io/{mode}"] == "restricted"


def test_release_uses_the_pinned_chart_and_waits_for_namespace_and_role() -> None:
    resources = _run("keda")
    release = resources.one("kubernetes:helm.sh/v3:Release")
    assert release.inputs["chart"] == "keda"
    assert release.inputs["version"] == CHARTS["keda"].version
    assert release.inputs["repositoryOpts"] == {"repo": "https://kedacore.github.io/charts"}
    assert release.inputs["namespace"] == "example"
    assert release.inputs["atomic"] is True
    assert release.inputs["values"] == {"replicas": 2}
    ns = resources.one("kubernetes:core/v1:Namespace")
    assert ns.urn in release.dependencies


def test_oci_chart_is_referenced_by_url_without_a_repository() -> None:
    release = _run("karpenter").one("kubernetes:helm.sh/v3:Release").inputs
    assert release["chart"] == "oci://public.ecr.aws/karpenter/karpenter"
    assert "repositoryOpts" not in release


def test_service_account_gets_a_pod_identity_role_for_its_namespace() -> None:
    resources = _run("keda")
    assoc = resources.one("aws:eks/podIdentityAssociation:PodIdentityAssociation").inputs
    assert (assoc["namespace"], assoc["serviceAccount"]) == ("example", "example-controller")
    assert assoc["tags"] == {"team": "platform"}
    trust = policy_json(resources.one("aws:iam/role:Role"), "assumeRolePolicy")
    assert (
        trust["Statement"][0]["Condition"]["StringEquals"][
            "aws:RequestTag/kubernetes-service-account"
        ]
        == "example-controller"
    )


def test_unpinned_chart_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^AddonSpec.chart: 'cert-manager' is not pinned"):
        _run("cert-manager")
