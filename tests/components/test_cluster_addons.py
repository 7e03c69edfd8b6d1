"""EKS managed add-ons: the core six and the stack's optional ones, pinned or EKS's default,
Pod Identity where they call AWS, network policy enforced."""

from __future__ import annotations

import json

import pytest

from substrate.components.cluster.cluster_addons import ClusterAddons
from substrate.components.core.versions import OPTIONAL_EKS_ADDONS
from tests.helpers import (
    STACKS,
    Resources,
    config_error,
    policy_json,
    run_program,
    stack_yaml,
    typed_config,
)

ADDON = "aws:eks/addon:Addon"


def test_prod_installs_every_addon_at_its_pinned_version(prod: Resources) -> None:
    pins = stack_yaml("prod")["substrate:cluster"]["addonVersions"]
    addons = {a.inputs["addonName"]: a.inputs for a in prod.of_type(ADDON)}
    assert {name: addon["addonVersion"] for name, addon in addons.items()} == pins
    # The snapshot controller calls no AWS API (EKS user guide, "CSI snapshot controller").
    assert "podIdentityAssociations" not in addons["snapshot-controller"]
    for addon in addons.values():
        assert addon["clusterName"] == "substrate-prod"
        assert addon["resolveConflictsOnUpdate"] == "OVERWRITE"


def test_unpinned_addons_take_eks_default_for_the_cluster_version(dev: Resources) -> None:
    version = stack_yaml("dev")["substrate:cluster"]["version"]
    versions = {a.inputs["addonVersion"] for a in dev.of_type(ADDON)}
    assert versions == {f"eks-default-for-{version}"}


def test_vpc_cni_enforces_network_policies_with_its_own_pod_identity_role(prod: Resources) -> None:
    cni = next(a for a in prod.of_type(ADDON) if a.inputs["addonName"] == "vpc-cni").inputs
    assert json.loads(cni["configurationValues"]) == {"enableNetworkPolicy": "true"}
    (assoc,) = cni["podIdentityAssociations"]
    assert assoc["serviceAccount"] == "aws-node"
    role = prod.named("addons-networking-vpc-cni-role").inputs["name"]
    assert assoc["roleArn"].endswith(f":role/{role}")
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


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_installs_its_core_and_chosen_optional_addons(stack: str) -> None:
    """The optional add-ons (metrics-server, node monitoring agent) follow
    the stack file, install with the core group (after the system nodes) and get no IAM."""
    from tests.conftest import planned

    cfg = typed_config(stack_yaml(stack))
    records = Resources(planned(stack).records)
    installed = {a.inputs["addonName"]: a for a in records.of_type(ADDON)}
    assert set(installed) == set(cfg.cluster.addons)
    core = records.named("addons-core")
    for name in OPTIONAL_EKS_ADDONS:
        if name in cfg.cluster.optional_addons:
            assert installed[name].parent == core.urn
            assert "podIdentityAssociations" not in installed[name].inputs


def test_optional_addons_are_stack_data() -> None:
    raw = stack_yaml("dev")
    raw["substrate:cluster"]["optionalAddons"] = ["metrics-server"]
    assert typed_config(raw).cluster.addons == (
        "vpc-cni",
        "coredns",
        "kube-proxy",
        "eks-pod-identity-agent",
        "aws-ebs-csi-driver",
        "metrics-server",
        "snapshot-controller",
    )
    message = config_error(
        "dev", lambda c: c["substrate:cluster"].update(optionalAddons=["cluster-autoscaler"])
    )
    assert message == (
        'substrate:cluster.optionalAddons[0] = "cluster-autoscaler": is not an optional '
        "add-on Substrate installs (allowed: metrics-server, eks-node-monitoring-agent, "
        "aws-load-balancer-controller)"
    )
