"""What the charts render is valid for the cluster that receives it: built-in kinds against
Kubernetes' OpenAPI schema of the stack's version (strict: unknown fields are errors), custom
resources against the CRDs the cluster has installed (the charts' own, as rendered)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pytest

from substrate.engines import helm
from tests.conftest import planned
from tests.crds import errors_against
from tests.helm import kube_schema
from tests.helm.rendered import STACKS, StackRender, by_chart, chart_releases, label, rendered


def _crds(render: StackRender) -> dict[tuple[str, str], Mapping[str, Any]]:
    return {
        (crd["spec"]["group"], crd["spec"]["names"]["kind"]): crd
        for crd in render.objects
        if crd.get("kind") == helm.CRD_KIND
    }


@pytest.mark.parametrize("chart", by_chart({}))
def test_built_in_objects_are_valid_for_the_clusters_kubernetes(chart: str) -> None:
    for render, release in chart_releases(chart):
        version = release.kube_version
        invalid = {
            label(obj): kube_schema.errors(version, obj)
            for obj in render.installed(release)
            if kube_schema.is_builtin(version, obj)
        }
        assert {k: v for k, v in invalid.items() if v} == {}, f"{render.stack} ({version})"


@pytest.mark.parametrize("chart", by_chart({}))
def test_custom_resources_match_the_crds_the_cluster_installs(chart: str) -> None:
    for render, release in chart_releases(chart):
        crds = _crds(render)
        invalid: dict[str, list[str]] = {}
        for obj in render.installed(release):
            if kube_schema.is_builtin(release.kube_version, obj):
                continue
            group = str(obj["apiVersion"]).rpartition("/")[0]
            crd = crds.get((group, obj["kind"]))
            if crd is None:
                invalid[label(obj)] = [f"no CRD for {obj['kind']}.{group} in the cluster"]
                continue
            errors = errors_against(crd, obj)
            if errors:
                invalid[label(obj)] = errors
        assert invalid == {}, render.stack


@pytest.mark.parametrize("stack", STACKS)
def test_the_plans_own_built_in_objects_are_valid(stack: str) -> None:
    render, plan = rendered(stack), planned(stack)
    version = render.kube_version
    invalid = {
        label(obj): kube_schema.errors(version, obj)
        for obj in plan.manifests.values()
        if kube_schema.is_builtin(version, obj)
    }
    assert {k: v for k, v in invalid.items() if v} == {}


def test_strict_schema_rejects_unknown_fields_wrong_types_and_missing_fields() -> None:
    (karpenter,) = rendered("prod").of_chart("karpenter")
    (deployment,) = [o for o in karpenter.objects if o["kind"] == "Deployment"]
    broken = copy.deepcopy(deployment)
    broken["spec"]["replica"] = 2
    broken["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "http"
    del broken["spec"]["selector"]
    assert kube_schema.errors("1.35.0", deployment) == []
    errors = kube_schema.errors("1.35.0", broken)
    assert any("'replica' was unexpected" in e for e in errors), errors
    assert any("containerPort: 'http' is not of type 'integer'" in e for e in errors), errors
    assert any("'selector' is a required property" in e for e in errors), errors


def test_a_kind_a_version_does_not_serve_is_not_built_in() -> None:
    hpa = {"apiVersion": "autoscaling/v2beta2", "kind": "HorizontalPodAutoscaler"}
    assert kube_schema.is_builtin("1.25.0", {**hpa, "apiVersion": "autoscaling/v2"})
    assert not kube_schema.is_builtin("1.35.0", hpa)
    with pytest.raises(LookupError, match=r"no schemas for Kubernetes 1\.99"):
        kube_schema.schema_version("1.99.0")
