"""StorageClasses (gp3 default, agent-gp3, nvme-fast), the VolumeSnapshotClass, and which class
each stack's agents claim."""

from __future__ import annotations

import pytest

from substrate.components.cluster.storage import StorageClasses
from substrate.plan.command import PlanResult
from tests.helpers import Resources, run_program


def test_gp3_is_the_encrypted_default_class(prod: Resources) -> None:
    gp3 = prod.one("kubernetes:storage.k8s.io/v1:StorageClass", "storage-gp3").inputs
    assert gp3["metadata"] == {
        "name": "gp3",
        "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
    }
    assert gp3["provisioner"] == "ebs.csi.aws.com"
    assert gp3["parameters"]["type"] == "gp3"
    assert gp3["parameters"]["encrypted"] == "true"
    assert gp3["parameters"]["kmsKeyId"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    assert gp3["volumeBindingMode"] == "WaitForFirstConsumer"
    assert gp3["allowVolumeExpansion"] is True


def test_reclaim_policy_comes_from_the_stack(prod: Resources, dev: Resources) -> None:
    cls = "kubernetes:storage.k8s.io/v1:StorageClass"
    assert prod.one(cls, "storage-gp3").inputs["reclaimPolicy"] == "Retain"
    assert dev.one(cls, "storage-gp3").inputs["reclaimPolicy"] == "Delete"


def test_nvme_fast_is_encrypted_io2_bound_where_the_pod_lands(
    prod: Resources, dev: Resources
) -> None:
    cls = "kubernetes:storage.k8s.io/v1:StorageClass"
    fast = prod.one(cls, "storage-nvme-fast").inputs
    assert fast["metadata"] == {"name": "nvme-fast"}
    gp3_key = prod.one(cls, "storage-gp3").inputs["parameters"]["kmsKeyId"]
    assert fast["parameters"] == {
        "type": "io2",
        "iopsPerGB": "50",
        "allowAutoIOPSPerGBIncrease": "true",
        "encrypted": "true",
        "kmsKeyId": gp3_key,
        "csi.storage.k8s.io/fstype": "xfs",
    }
    assert fast["volumeBindingMode"] == "WaitForFirstConsumer"
    assert fast["reclaimPolicy"] == "Retain"
    assert dev.one(cls, "storage-nvme-fast").inputs["reclaimPolicy"] == "Delete"


def test_agent_gp3_provisions_the_stack_iops_and_throughput(
    prod: Resources, dev: Resources
) -> None:
    """Every agent-gp3 volume gets the same IOPS and throughput whatever its size (gp3), from
    `substrate:storage.agentMemoryIops/Throughput`: prod the defaults, dev gp3's baseline."""
    cls = "kubernetes:storage.k8s.io/v1:StorageClass"
    agent = prod.one(cls, "storage-agent-gp3").inputs
    gp3_key = prod.one(cls, "storage-gp3").inputs["parameters"]["kmsKeyId"]
    assert agent["metadata"] == {"name": "agent-gp3"}
    assert agent["parameters"] == {
        "type": "gp3",
        "iops": "6000",
        "throughput": "250",
        "encrypted": "true",
        "kmsKeyId": gp3_key,
        "csi.storage.k8s.io/fstype": "xfs",
    }
    assert (agent["reclaimPolicy"], agent["volumeBindingMode"]) == (
        "Retain",
        "WaitForFirstConsumer",
    )
    dev_agent = dev.one(cls, "storage-agent-gp3").inputs["parameters"]
    assert (dev_agent["iops"], dev_agent["throughput"]) == ("3000", "125")


def test_agents_claim_the_class_their_volume_type_names(
    dev_plan: PlanResult, prod_plan: PlanResult
) -> None:
    """gp3 is the default (dev); prod's agents ask for io2 (`volumeType: io2`)."""

    def classes(plan: PlanResult) -> set[str]:
        return {
            claim["spec"]["storageClassName"]
            for body in plan.manifests.values()
            if body["kind"] == "StatefulSet" and body["metadata"]["namespace"] == "agents"
            for claim in body["spec"]["volumeClaimTemplates"]
        }

    assert classes(dev_plan) == {"agent-gp3"}
    assert classes(prod_plan) == {"nvme-fast"}


def test_ebs_volumes_can_be_snapshotted_after_the_snapshot_controller_add_on(
    prod: Resources, dev: Resources
) -> None:
    """The default VolumeSnapshotClass is the EBS CSI driver's; a snapshot is kept with its
    volume's reclaim policy. Its CRD comes with the EKS snapshot-controller add-on, which the
    class waits for."""
    classes = {
        r.inputs["metadata"]["name"]: r
        for r in prod.of_type("kubernetes:snapshot.storage.k8s.io/v1:VolumeSnapshotClass")
    }
    assert sorted(classes) == ["ebs-scheduled-snapshots", "ebs-snapshots"]
    vsc = classes["ebs-snapshots"].inputs
    assert vsc["metadata"] == {
        "name": "ebs-snapshots",
        "annotations": {"snapshot.storage.kubernetes.io/is-default-class": "true"},
    }
    assert (vsc["driver"], vsc["deletionPolicy"]) == ("ebs.csi.aws.com", "Retain")
    scheduled = classes["ebs-scheduled-snapshots"].inputs
    assert (scheduled["driver"], scheduled["deletionPolicy"]) == ("ebs.csi.aws.com", "Delete")
    assert {
        r.inputs["deletionPolicy"]
        for r in dev.of_type("kubernetes:snapshot.storage.k8s.io/v1:VolumeSnapshotClass")
    } == {"Delete"}
    addons = {a.inputs["addonName"]: a for a in prod.of_type("aws:eks/addon:Addon")}
    for snapshot_class in classes.values():
        assert prod.waits_for(snapshot_class, addons["snapshot-controller"].urn)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"agent_iops": 2000}, "StorageClassesArgs.agent_iops: 2000 must be 3000..16000"),
        (
            {"agent_iops": 3000, "agent_throughput": 1000},
            "StorageClassesArgs.agent_throughput: 1000 must be 125..750 (gp3: 0.25 MiB/s per IOPS)",
        ),
    ],
)
def test_invalid_agent_class_settings_are_refused(args: dict[str, int], message: str) -> None:
    def program() -> None:
        StorageClasses("s", {"volume_kms_key_arn": "arn:aws:kms:us-east-1:1:key/k", **args})  # type: ignore[typeddict-item]

    with pytest.raises(ValueError) as err:
        run_program(program)
    assert str(err.value) == message
