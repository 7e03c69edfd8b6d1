"""System node group: tainted for controllers, IMDSv2 hop limit 1, encrypted CMK volumes."""

from __future__ import annotations

import pytest

from substrate.components.cluster.system_node_group import AmiType, SystemNodeGroup
from tests.helpers import Resources, policy_json, run_program


def test_launch_template_enforces_imdsv2_and_encrypted_gp3(prod: Resources) -> None:
    lt = prod.one("aws:ec2/launchTemplate:LaunchTemplate").inputs
    assert lt["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",
        "httpPutResponseHopLimit": 1,
        "instanceMetadataTags": "disabled",
    }
    (device,) = lt["blockDeviceMappings"]
    assert device["deviceName"] == "/dev/xvda"
    assert device["ebs"]["volumeType"] == "gp3"
    assert device["ebs"]["volumeSize"] == 80
    assert device["ebs"]["encrypted"] == "true"
    assert device["ebs"]["kmsKeyId"] == prod.named("storage-gp3").inputs["parameters"]["kmsKeyId"]
    assert "keyName" not in lt and "networkInterfaces" not in lt
    tagged = {spec["resourceType"] for spec in lt["tagSpecifications"]}
    assert tagged == {"instance", "volume", "network-interface"}


def test_node_group_is_tainted_for_critical_addons_and_sized_from_config(prod: Resources) -> None:
    group = prod.one("aws:eks/nodeGroup:NodeGroup").inputs
    assert group["taints"] == [
        {"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}
    ]
    assert group["labels"] == {"substrate.io/pool": "system"}
    assert group["scalingConfig"] == {"minSize": 3, "desiredSize": 3, "maxSize": 6}
    assert group["instanceTypes"] == ["m7i.xlarge", "m6i.xlarge"]
    assert group["capacityType"] == "ON_DEMAND"
    assert group["version"] == "1.35"
    assert len(group["subnetIds"]) == 3
    assert group["launchTemplate"]["version"] == "1"


def test_node_role_has_only_worker_and_ecr_pull_policies(prod: Resources) -> None:
    attached = sorted(
        a.inputs["policyArn"]
        for a in prod.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.name.startswith("system-nodes-node-")
    )
    assert attached == [
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    ]
    trust = policy_json(prod.named("system-nodes-node-role"), "assumeRolePolicy")
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]


def test_node_group_joins_after_networking_addons(prod: Resources) -> None:
    # depends_on a component expands to its children; the node group's children register
    # only after the component itself, so no node joins before the CNI exists.
    group = prod.one("substrate:cluster:SystemNodeGroup")
    cni = next(a for a in prod.of_type("aws:eks/addon:Addon") if a.inputs["addonName"] == "vpc-cni")
    agent = next(
        a
        for a in prod.of_type("aws:eks/addon:Addon")
        if a.inputs["addonName"] == "eks-pod-identity-agent"
    )
    assert {cni.urn, agent.urn} <= set(group.dependencies)


def _launch_template_volumes(ami_type: str, instance_type: str) -> list[dict]:
    def program() -> None:
        SystemNodeGroup(
            "sys",
            {
                "cluster_name": "c",
                "kubernetes_version": "1.35",
                "subnet_ids": ["subnet-1"],
                "volume_kms_key_arn": "arn:aws:kms:us-west-2:123456789012:key/k",
                "ami_type": AmiType(ami_type),
                "instance_types": [instance_type],
                "disk_size_gib": 100,
            },
        )

    template = Resources(run_program(program)).one("aws:ec2/launchTemplate:LaunchTemplate")
    return template.inputs["blockDeviceMappings"]


def test_bottlerocket_encrypts_its_os_volume_and_sizes_its_data_volume() -> None:
    """Bottlerocket's OS volume (/dev/xvda) comes from the AMI unless the launch template maps
    it: both its volumes are encrypted with the cluster's key, the data volume is the sized one."""
    volumes = _launch_template_volumes("BOTTLEROCKET_x86_64", "m7i.large")
    assert [(v["deviceName"], v["ebs"]["volumeSize"]) for v in volumes] == [
        ("/dev/xvda", 4),
        ("/dev/xvdb", 100),
    ]
    for volume in volumes:
        assert volume["ebs"]["encrypted"] == "true"
        assert volume["ebs"]["kmsKeyId"] == "arn:aws:kms:us-west-2:123456789012:key/k"
    al2023 = _launch_template_volumes("AL2023_ARM_64_STANDARD", "m7g.large")
    assert [(v["deviceName"], v["ebs"]["volumeSize"]) for v in al2023] == [("/dev/xvda", 100)]


def test_sizes_are_validated_at_construction() -> None:
    def program() -> None:
        SystemNodeGroup(
            "sys",
            {
                "cluster_name": "c",
                "kubernetes_version": "1.35",
                "subnet_ids": ["subnet-1"],
                "volume_kms_key_arn": "arn:k",
                "min_size": 3,
                "desired_size": 2,
                "max_size": 4,
            },
        )

    with pytest.raises(
        ValueError,
        match=r"^SystemNodeGroupArgs.min_size/desired_size/max_size: "
        r"3/2/4 must satisfy",
    ):
        run_program(program)
