"""The examples import Substrate's components the way a user's program would, and plan
offline with `substrate plan` like the platform itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from substrate.plan.command import PlanResult, plan_stack
from substrate.project import find_project
from tests.crds import validation_errors
from tests.helpers import ROOT, Resources

EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def gpu_pools_kueue() -> PlanResult:
    return plan_stack(find_project(EXAMPLES / "gpu-pools-kueue"), "example")


def test_gpu_pools_kueue_plans_clean_on_an_existing_cluster(gpu_pools_kueue: PlanResult) -> None:
    assert gpu_pools_kueue.violations == []
    resources = Resources(gpu_pools_kueue.records)
    # No AWS infrastructure of Substrate's: only Kubernetes objects through the user's provider.
    assert not [r for r in resources.records if r.type.startswith(("aws:", "eks:"))]
    provider = resources.one("pulumi:providers:kubernetes", "cluster")
    kube = [r for r in resources.records if r.type.startswith("kubernetes:")]
    assert {r.provider_urn for r in kube} == {provider.urn}


def test_gpu_pool_flavor_and_team_queue_line_up(gpu_pools_kueue: PlanResult) -> None:
    by_kind = {(m["kind"], m["metadata"]["name"]): m for m in gpu_pools_kueue.manifests.values()}
    pool = by_kind[("NodePool", "inference")]
    assert pool["spec"]["template"]["spec"]["taints"] == [
        {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}
    ]
    assert pool["spec"]["limits"]["nvidia.com/gpu"] == "16"
    gpu_flavor = by_kind[("ResourceFlavor", "inference")]
    assert gpu_flavor["spec"]["nodeLabels"] == pool["spec"]["template"]["metadata"]["labels"]
    assert gpu_flavor["spec"]["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}
    ]
    queue = by_kind[("ClusterQueue", "vision")]
    quotas = {
        r["name"]: r
        for g in queue["spec"]["resourceGroups"]
        for f in g["flavors"]
        for r in f["resources"]
        if f["name"] == gpu_flavor["metadata"]["name"]
    }
    assert quotas["nvidia.com/gpu"]["nominalQuota"] == "8"
    assert quotas["nvidia.com/gpu"]["borrowingLimit"] == "4"


@pytest.mark.crds
def test_example_custom_resources_match_the_crds(gpu_pools_kueue: PlanResult, crds: Path) -> None:
    groups = {"kueue.x-k8s.io", "karpenter.sh", "karpenter.k8s.aws", "monitoring.coreos.com"}
    custom = [
        m for m in gpu_pools_kueue.manifests.values() if m["apiVersion"].split("/")[0] in groups
    ]
    assert len(custom) >= 8
    for manifest in custom:
        assert validation_errors(crds, manifest) == [], manifest["metadata"]["name"]
