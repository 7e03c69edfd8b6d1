"""The default StorageClass: gp3, encrypted with the cluster's EBS key, zonal binding."""

from __future__ import annotations

from tests.helpers import Resources


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
