"""EKS managed add-ons: all six, Pod Identity where they call AWS, network policy enforced."""

from __future__ import annotations

import json

import pytest

from components.cluster_addons import ClusterAddons
from tests.helpers import Resources, policy_json, run_program

ADDON = "aws:eks/addon:Addon"


def test_all_six_addons_with_default_versions_for_the_cluster(prod: Resources) -> None:
    addons = {a.inputs["addonName"]: a.inputs for a in prod.of_type(ADDON)}
    assert sorted(addons) == [
        "aws-ebs-csi-driver",
        "coredns",
        "eks-pod-identity-agent",
        "kube-proxy",
        "snapshot-controller",
        "vpc-cni",
    ]
    # The snapshot controller calls no AWS API (EKS user guide, "CSI snapshot controller").
    assert "podIdentityAssociations" not in addons["snapshot-controller"]
    for addon in addons.values():
        assert addon["clusterName"] == "substrate-prod"
        assert addon["addonVersion"] == "eks-default-for-1.35"
        assert addon["resolveConflictsOnUpdate"] == "OVERWRITE"


def test_vpc_cni_enforces_network_policies_with_its_own_pod_identity_role(prod: Resources) -> None:
    cni = next(a for a in prod.of_type(ADDON) if a.inputs["addonName"] == "vpc-cni").inputs
    assert json.loads(cni["configurationValues"]) == {"enableNetworkPolicy": "true"}
    (assoc,) = cni["podIdentityAssociations"]
    assert assoc["serviceAccount"] == "aws-node"
    assert assoc["roleArn"].endswith(":role/addons-networking-vpc-cni-role")
    trust = policy_json(prod.named("addons-networking-vpc-cni-role"), "assumeRolePolicy")
    (stmt,) = trust["Statement"]
    assert stmt["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert stmt["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert stmt["Condition"]["StringEquals"] == {
        "aws:SourceAccount": "123456789012",
        "aws:RequestTag/eks-cluster-name": "substrate-prod",
        "aws:RequestTag/kubernetes-namespace": "kube-system",
        "aws:RequestTag/kubernetes-service-account": "aws-node",
    }


def test_ebs_csi_driver_may_use_only_the_volume_key(prod: Resources) -> None:
    doc = policy_json(prod.named("addons-core-aws-ebs-csi-driver-policy"))
    volume_key = prod.named("storage-gp3").inputs["parameters"]["kmsKeyId"]
    assert {r for s in doc["Statement"] for r in s["Resource"]} == {volume_key}
    grants = next(s for s in doc["Statement"] if "kms:CreateGrant" in s["Action"])
    assert grants["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    # Associations are managed by the add-on itself, not as separate resources.
    associations = prod.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert [a.name for a in associations if "substrate:cluster:ClusterAddons" in a.urn] == []


def test_coredns_and_ebs_wait_for_system_nodes(prod: Resources) -> None:
    core = prod.one("substrate:cluster:ClusterAddons", "addons-core")
    node_group = prod.one("aws:eks/nodeGroup:NodeGroup")
    assert node_group.urn in core.dependencies


def test_pinned_version_is_used_verbatim() -> None:
    def program() -> None:
        ClusterAddons(
            "addons",
            {
                "cluster_name": "c",
                "kubernetes_version": "1.35",
                "addons": ["kube-proxy"],
                "versions": {"kube-proxy": "v1.35.0-eksbuild.2"},
            },
        )

    (addon,) = Resources(run_program(program)).of_type(ADDON)
    assert addon.inputs["addonVersion"] == "v1.35.0-eksbuild.2"


def test_unknown_addon_is_refused() -> None:
    def program() -> None:
        ClusterAddons(
            "addons",
            {"cluster_name": "c", "kubernetes_version": "1.35", "addons": ["aws-guardduty-agent"]},
        )

    with pytest.raises(ValueError, match=r"^ClusterAddonsArgs.addons: \['aws-guardduty-agent'\]"):
        run_program(program)
