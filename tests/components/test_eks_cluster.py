"""EKS control plane: posture inputs, the creator-admin transform, access entries, keys."""

from __future__ import annotations

import pulumi
import pytest

from substrate.components.cluster.eks_cluster import EksCluster, disable_creator_admin
from tests.helpers import Resources, policy_json, run_program

EKS = "eks:index:Cluster"
LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]


def test_prod_control_plane_inputs(prod: Resources) -> None:
    cluster = prod.one(EKS).inputs
    assert cluster["name"] == "substrate-prod"
    assert cluster["version"] == "1.35"
    assert cluster["authenticationMode"] == "API"
    assert cluster["endpointPrivateAccess"] is True
    assert cluster["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in cluster
    assert cluster["enabledClusterLogTypes"] == LOG_TYPES
    assert cluster["skipDefaultNodeGroup"] is True
    assert cluster["bootstrapSelfManagedAddons"] is False
    assert cluster["createOidcProvider"] is False
    assert cluster["deletionProtection"] is True
    assert cluster["upgradePolicy"] == {"supportType": "STANDARD"}
    # Secrets and control-plane logs share the secrets key; volumes use the other key.
    secrets_key = cluster["encryptionConfigKeyArn"]
    assert secrets_key.startswith("arn:aws:kms:us-east-1:123456789012:key/")
    assert prod.named("cluster-control-plane-logs").inputs["kmsKeyId"] == secrets_key
    assert prod.named("storage-gp3").inputs["parameters"]["kmsKeyId"] != secrets_key
    # The control-plane ENIs go into the private subnets only.
    assert len(cluster["subnetIds"]) == 3
    assert all(s.startswith("subnet-") for s in cluster["subnetIds"])


def test_dev_public_endpoint_is_restricted_to_the_configured_cidrs(dev: Resources) -> None:
    cluster = dev.one(EKS).inputs
    assert cluster["endpointPublicAccess"] is True
    assert cluster["publicAccessCidrs"] == [
        "203.0.113.0/24",
        "198.51.100.10/32",
        "198.51.100.32/28",
    ]


def test_cluster_waits_for_its_log_group_and_carries_the_admin_transform(prod: Resources) -> None:
    cluster = prod.one(EKS)
    group = prod.named("cluster-control-plane-logs")
    assert group.urn in cluster.dependencies
    assert group.inputs["name"] == "/aws/eks/substrate-prod/cluster"
    assert group.inputs["retentionInDays"] == 365
    assert group.inputs["kmsKeyId"].startswith("arn:aws:kms:")
    assert cluster.options["transforms"] == 1


def _child_args(props: dict, typ: str = "aws:eks/cluster:Cluster") -> pulumi.ResourceTransformArgs:
    return pulumi.ResourceTransformArgs(
        custom=True,
        type_=typ,
        name="cluster-eks-eksCluster",
        props=props,
        opts=pulumi.ResourceOptions(),
    )


def test_transform_turns_off_pulumi_eks_hard_coded_creator_admin() -> None:
    # The child exactly as pulumi-eks 4.4.0 registers it (nodejs/eks/cluster/cluster.ts).
    props = {
        "accessConfig": {
            "authenticationMode": "API",
            "bootstrapClusterCreatorAdminPermissions": True,
        },
        "version": "1.35",
    }
    result = disable_creator_admin(_child_args(props))
    assert result is not None
    assert result.props["accessConfig"] == {
        "authenticationMode": "API",
        "bootstrapClusterCreatorAdminPermissions": False,
    }
    assert result.props["version"] == "1.35"
    assert props["accessConfig"]["bootstrapClusterCreatorAdminPermissions"] is True  # not mutated


def test_transform_leaves_other_children_alone() -> None:
    assert disable_creator_admin(_child_args({"name": "x"}, "aws:iam/role:Role")) is None


def test_each_admin_gets_an_access_entry_with_the_cluster_admin_policy(prod: Resources) -> None:
    entries = [
        e
        for e in prod.of_type("aws:eks/accessEntry:AccessEntry")
        if "substrate:index:EksCluster" in e.urn and "-admin-" in e.name
    ]
    assert sorted(e.inputs["principalArn"] for e in entries) == [
        "arn:aws:iam::210987654321:role/substrate-deploy-prod",
        "arn:aws:iam::210987654321:role/substrate-platform-admin",
    ]
    assert {e.inputs["type"] for e in entries} == {"STANDARD"}
    assert all("kubernetesGroups" not in e.inputs for e in entries)
    associations = [
        a
        for a in prod.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
        if "-admin-" in a.name
    ]
    assert len(associations) == 2
    for assoc in associations:
        assert (
            assoc.inputs["policyArn"]
            == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        )
        assert assoc.inputs["accessScope"] == {"type": "cluster"}
        assert assoc.inputs["clusterName"] == "substrate-prod"


def test_kubernetes_provider_waits_for_admin_access(prod: Resources) -> None:
    provider = prod.one("pulumi:providers:kubernetes")
    associations = {
        a.urn
        for a in prod.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
        if "-admin-" in a.name
    }
    assert associations <= set(provider.dependencies)
    # Every Kubernetes object uses this one provider.
    kube = [r for r in prod.records if r.type.startswith("kubernetes:")]
    assert kube and {r.provider_urn for r in kube} == {provider.urn}


def test_kms_keys_rotate_and_trust_no_wildcard(prod: Resources) -> None:
    keys = [k for k in prod.of_type("aws:kms/key:Key") if k.name.startswith("cluster-")]
    assert sorted(k.name for k in keys) == ["cluster-secrets-key", "cluster-volume-key"]
    for key in keys:
        assert key.inputs["enableKeyRotation"] is True
        assert key.inputs["deletionWindowInDays"] == 30
        for stmt in policy_json(key)["Statement"]:
            assert stmt["Principal"] not in ("*", {"AWS": "*"})
    secrets = policy_json(prod.named("cluster-secrets-key"))["Statement"]
    logs = next(s for s in secrets if s["Sid"] == "AllowControlPlaneLogGroup")
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert logs["Condition"] == {
        "ArnEquals": {
            "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:123456789012:"
            "log-group:/aws/eks/substrate-prod/cluster"
        }
    }


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"admin_principal_arns": []}, "EksClusterArgs.admin_principal_arns: empty"),
        (
            {"public_access_cidrs": ["0.0.0.0/0"]},
            "EksClusterArgs.public_access_cidrs[0]: '0.0.0.0/0' opens the Kubernetes API endpoint",
        ),
        (
            {
                "admin_principal_arns": [
                    "arn:aws:iam::123456789012:role/Admin",
                    "arn:aws:iam::123456789012:user/admin",
                ]
            },
            "EksClusterArgs.admin_principal_arns[1]: 'arn:aws:iam::123456789012:user/admin' gets "
            "the same access-entry name as [0] 'arn:aws:iam::123456789012:role/Admin' (one URN "
            "twice)",
        ),
        (
            {"kubernetes_version": "1.28"},
            "EksClusterArgs.kubernetes_version: '1.28' is not a "
            "Kubernetes version Amazon EKS offers",
        ),
    ],
)
def test_invalid_arguments_name_the_input(override: dict, message: str) -> None:
    def program() -> None:
        EksCluster(
            "cluster",
            {  # type: ignore[misc]
                "cluster_name": "c",
                "kubernetes_version": "1.35",
                "vpc_id": "vpc-1",
                "subnet_ids": ["subnet-1"],
                "admin_principal_arns": ["arn:aws:iam::123456789012:role/admin"],
                **override,
            },
        )

    with pytest.raises(ValueError) as err:
        run_program(program)
    assert str(err.value).startswith(message)


def test_admins_with_one_role_name_on_different_paths_get_their_own_access_entries() -> None:
    """Access entries are named after the principal's path and name, so two roles named `admin`
    under different paths are two resources (the engine refuses one URN twice)."""

    def program() -> None:
        EksCluster(
            "cluster",
            {
                "cluster_name": "c",
                "kubernetes_version": "1.35",
                "vpc_id": "vpc-1",
                "subnet_ids": ["subnet-1"],
                "admin_principal_arns": [
                    "arn:aws:iam::123456789012:role/team-a/admin",
                    "arn:aws:iam::123456789012:role/team-b/admin",
                ],
            },
        )

    entries = Resources(run_program(program)).of_type("aws:eks/accessEntry:AccessEntry")
    assert sorted(e.name for e in entries) == [
        "cluster-admin-team-a-admin",
        "cluster-admin-team-b-admin",
    ]
