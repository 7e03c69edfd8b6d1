"""Drift, from the Karpenter v1.14 Disruption page ("Drift", "Special Cases on Drift",
"Behavioral Fields") and kubernetes-sigs/karpenter v1.14.1
`pkg/controllers/nodeclaim/disruption/drift_test.go` ("NodeRequirement Drift", "NodePool
Static Drift"), aws provider v1.14.1 `pkg/cloudprovider/drift.go`."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from substrate.engines.karpenter.drift import drift_reason, requirements_drifted
from substrate.engines.karpenter.model import NODEPOOL_HASH_VERSION_KEY, launch
from tests.engines.karpenter.objects import P5, T0, nodeclass, nodepool

OD = {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]}
SPOT = {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]}


def req(key: str, op: str, *values: str) -> dict[str, Any]:
    return {"key": key, "operator": op, "values": list(values)}


OS = "kubernetes.io/os"
ARCH = "kubernetes.io/arch"
CT = "karpenter.sh/capacity-type"
# (new requirements, node labels, drifted) - upstream's entries, the labels the NodeClaim has.
REQUIREMENT_CASES = {
    "the nodePool node requirement is updated": (
        [SPOT],
        {CT: "on-demand", ARCH: "amd64", OS: "linux"},
        True,
    ),
    "a new node requirement is added": (
        [OD, req(OS, "In", "linux"), req(ARCH, "In", "amd64")],
        {CT: "on-demand", OS: "linux"},
        True,
    ),
    "a node requirement is reduced": (
        [OD, req(OS, "In", "windows")],
        {CT: "on-demand", OS: "linux"},
        True,
    ),
    "a node requirement is expanded": (
        [OD, req(OS, "In", "linux", "windows")],
        {CT: "on-demand", OS: "linux"},
        False,
    ),
    "a node requirement set to Exists": (
        [OD, req(OS, "Exists")],
        {CT: "on-demand", OS: "linux"},
        False,
    ),
    "a node requirement set to DoesNotExists": (
        [OD, req(OS, "DoesNotExist")],
        {CT: "on-demand", OS: "linux"},
        True,
    ),
    "a nodeClaim is greater then node requirement": (
        [OD, req("test-label", "Gt", "10")],
        {CT: "on-demand", "test-label": "5"},
        True,
    ),
    "a nodeClaim is less then node requirement": (
        [OD, req("test-label", "Lt", "1")],
        {CT: "on-demand", "test-label": "2"},
        True,
    ),
}


@pytest.mark.parametrize("case", list(REQUIREMENT_CASES))
def test_requirement_drift(case: str) -> None:
    requirements, labels, drifted = REQUIREMENT_CASES[case]
    assert requirements_drifted(labels, requirements) is drifted


def test_widening_the_instance_types_of_a_node_does_not_drift_it() -> None:
    """ "Special Cases on Drift": instance-type In [m5.large] -> In [m5.large, m5.2xlarge]."""
    labels = {"node.kubernetes.io/instance-type": "m5.large"}
    key = "node.kubernetes.io/instance-type"
    assert not requirements_drifted(labels, [req(key, "In", "m5.large", "m5.2xlarge")])
    assert requirements_drifted(labels, [req(key, "In", "m5.2xlarge")])


def claim_of(np: dict[str, Any], nc: dict[str, Any]) -> Any:
    return launch("n1", np, nc, P5, T0, zone="us-east-1a")


def reason(
    np: dict, nc: dict, new_np: dict | None = None, new_nc: dict | None = None, **kw: Any
) -> str | None:
    claim = claim_of(np, nc)
    return drift_reason(claim, new_np or np, new_nc or nc, **kw)


def test_nothing_changed_nothing_drifts() -> None:
    assert reason(nodepool(), nodeclass()) is None


def template(np: dict, **spec: Any) -> dict:
    out = copy.deepcopy(np)
    out["spec"]["template"]["spec"].update(spec)
    return out


@pytest.mark.parametrize(
    "change",
    [
        {"expireAfter": "100m"},
        {"terminationGracePeriod": "100m"},
        {"taints": [{"key": "keytest2taint", "effect": "NoExecute"}]},
        {"nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "x"}},
    ],
)
def test_static_nodepool_fields_drift_as_nodepool_drifted(change: dict) -> None:
    np = nodepool()
    assert reason(np, nodeclass(), template(np, **change)) == "NodePoolDrifted"


def test_behavioural_nodepool_fields_never_drift() -> None:
    """ "behavioral fields are not considered for Drift": weight, limits, disruption.*."""
    np = nodepool()
    new = copy.deepcopy(np)
    new["spec"].update(weight=50, limits={"cpu": "1"})
    new["spec"]["disruption"] = {"consolidateAfter": "Never", "budgets": [{"nodes": "0"}]}
    assert reason(np, nodeclass(), new) is None


def test_hash_version_mismatch_skips_static_drift() -> None:
    """ "should not return drifted if the NodeClaim's karpenter.sh/nodepool-hash-version
    annotation does not match the NodePool's"."""
    np = nodepool()
    claim = claim_of(np, nodeclass())
    claim.annotations[NODEPOOL_HASH_VERSION_KEY] = "v2"
    assert drift_reason(claim, template(np, expireAfter="100m"), nodeclass()) is None


def test_a_tag_edit_drifts_every_node_of_the_class() -> None:
    """EC2NodeClass tags are hashed (no hash:"ignore" on Tags)."""
    nc = nodeclass()
    edited = copy.deepcopy(nc)
    edited["spec"]["tags"]["owner"] = "someone-else"
    assert reason(nodepool(), nc, new_nc=edited) == "NodeClassDrift"


def test_a_new_ami_release_drifts_without_a_hash_change() -> None:
    """amiSelectorTerms are not hashed; "if a new image is published, Karpenter's
    EC2NodeClass.spec.amiSelectorTerms will discover that the new correct value is ami-xyz, and
    detect the NodeClaim as drifted"."""
    nc = nodeclass(alias="al2023@v20260101")
    bumped = nodeclass(alias="al2023@v20260301")
    assert reason(nodepool(), nc, new_nc=bumped) == "AMIDrift"
    latest = nodeclass(alias="al2023@latest")
    claim = launch("n1", nodepool(), latest, P5, T0, zone="us-east-1a", latest_ami="v20260101")
    assert drift_reason(claim, nodepool(), latest, latest_ami="v20260101") is None
    assert drift_reason(claim, nodepool(), latest, latest_ami="v20260301") == "AMIDrift"


def test_selector_edits_that_resolve_the_same_do_not_drift() -> None:
    nc = nodeclass()
    new = copy.deepcopy(nc)
    new["spec"]["subnetSelectorTerms"] = [{"tags": {"karpenter.sh/discovery": "c", "x": "y"}}]
    assert reason(nodepool(), nc, new_nc=new) is None


def test_adding_a_placement_group_drifts_the_class_and_its_nodes() -> None:
    """placementGroupSelector is hashed (NodeClassDrift comes first); a node launched before the
    group existed also lacks the group's id label (PlacementGroupDrift)."""
    nc = nodeclass()
    with_group = nodeclass(placementGroupSelector={"name": "training"})
    assert reason(nodepool(), nc, new_nc=with_group) == "NodeClassDrift"
    claim = claim_of(nodepool(), with_group)
    assert (
        drift_reason(claim, nodepool(), with_group, placement_group_id=lambda _nc: "pg-0123")
        == "PlacementGroupDrift"
    )
