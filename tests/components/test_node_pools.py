"""NodePools and EC2NodeClasses as the plans render them: taints, labels, limits, budgets,
requirements, node bootstrap, and schema validity against the upstream CRDs."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from substrate.components.capacity.node_classes import (
    NodeClassSpec,
    bottlerocket_settings,
    node_class_spec,
)
from substrate.components.capacity.pools import GpuSharing, MigProfile, SharingMode
from substrate.engines.karpenter.budgets import open_for
from substrate.plan.command import PlanResult
from tests.crds import validation_errors
from tests.helpers import Resources

NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}
MINUTE = timedelta(minutes=1)


def _pool(resources: Resources, name: str) -> dict[str, Any]:
    return resources.one(NODE_POOL, f"node-pools-{name}").inputs["spec"]


def _node_class(resources: Resources, name: str) -> dict[str, Any]:
    return resources.one(NODE_CLASS, f"node-classes-{name}").inputs["spec"]


def _requirement(spec: dict[str, Any], key: str) -> list[str]:
    found = [r for r in spec["template"]["spec"]["requirements"] if r["key"] == key]
    assert len(found) == 1 and found[0]["operator"] == "In"
    return found[0]["values"]


def test_every_rendered_nodepool_and_nodeclass_is_schema_valid(
    any_plan: PlanResult, crds: Path
) -> None:
    kinds = ("NodePool", "EC2NodeClass", "NodeOverlay")
    rendered = [m for m in any_plan.manifests.values() if m["kind"] in kinds]
    assert {m["kind"] for m in rendered} >= {"NodePool", "EC2NodeClass"}
    for manifest in rendered:
        assert validation_errors(crds, manifest) == [], manifest["metadata"]["name"]


def test_schema_validation_catches_a_bad_budget(prod_plan: PlanResult, crds: Path) -> None:
    manifest = yaml.safe_load(
        yaml.safe_dump(prod_plan.manifests["node-pools/nodepool-training.yaml"])
    )
    manifest["spec"]["disruption"]["budgets"][0]["nodes"] = "one"
    assert any("budgets/0/nodes" in e for e in validation_errors(crds, manifest))


def test_production_gpu_pools_are_tainted_labelled_and_limited(prod: Resources) -> None:
    for name, families, gpus in (
        ("inference", ["g6e", "g6"], "32"),
        ("training", ["p5", "p4d"], "64"),
    ):
        spec = _pool(prod, name)
        template = spec["template"]
        assert template["spec"]["taints"] == [GPU_TAINT]
        assert template["metadata"]["labels"] == {"substrate.io/pool": name}
        assert _requirement(spec, "karpenter.k8s.aws/instance-family") == families
        assert _requirement(spec, "karpenter.sh/capacity-type") == ["reserved", "on-demand"]
        assert spec["limits"]["nvidia.com/gpu"] == gpus
        assert spec["disruption"]["consolidationPolicy"] == "WhenEmpty"
    assert _pool(prod, "inference")["disruption"]["consolidateAfter"] == "30m"


WEEK_START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


def _open(plan: PlanResult, pool: str, reason: str) -> list[tuple[datetime, datetime]]:
    manifest = plan.manifests[f"node-pools/nodepool-{pool}.yaml"]
    return open_for(manifest, reason, WEEK_START, WEEK_START + timedelta(days=7), MINUTE)


def test_production_drift_happens_only_in_each_pools_window(prod_plan: PlanResult) -> None:
    """Karpenter's own budget rules (the disruption model) over one week: training nodes drift
    only on Saturday 04:00-24:00 UTC, inference nodes only 06:00-10:00 UTC; emptied nodes may go
    at any time."""
    saturday = WEEK_START + timedelta(days=5)
    assert _open(prod_plan, "training", "Drifted") == [
        (saturday + timedelta(hours=4), saturday + timedelta(hours=24))
    ]
    nightly = [
        (WEEK_START + timedelta(days=d, hours=6), WEEK_START + timedelta(days=d, hours=10))
        for d in range(7)
    ]
    assert _open(prod_plan, "inference", "Drifted") == nightly
    for pool in ("training", "inference"):
        assert _open(prod_plan, pool, "Empty") == [(WEEK_START, WEEK_START + timedelta(days=7))]


def test_production_pools_carry_their_disruption_contract(prod_plan: PlanResult) -> None:
    pools = {
        m["metadata"]["name"]: m for m in prod_plan.manifests.values() if m["kind"] == "NodePool"
    }
    kinds = {n: m["metadata"]["labels"]["substrate.io/pool-kind"] for n, m in pools.items()}
    assert kinds == {
        "general": "general",
        "inference": "inference",
        "nvme": "general",
        "training": "training",
    }
    training = pools["training"]["spec"]["template"]["spec"]
    assert training["expireAfter"] == "Never" and "terminationGracePeriod" not in training
    assert pools["inference"]["spec"]["template"]["spec"]["terminationGracePeriod"] == "4h"


def test_production_cpu_and_nvme_pools(prod: Resources) -> None:
    general = _pool(prod, "general")
    assert "taints" not in general["template"]["spec"]
    assert general["limits"] == {"cpu": "776", "memory": "6144Gi"}
    assert general["disruption"]["consolidationPolicy"] == "WhenEmptyOrUnderutilized"
    assert general["disruption"]["budgets"] == [{"nodes": "10%"}]
    assert _requirement(general, "karpenter.sh/capacity-type") == ["on-demand"]
    nvme = _pool(prod, "nvme")
    assert nvme["template"]["spec"]["taints"] == [
        {"key": "substrate.io/nvme", "value": "true", "effect": "NoSchedule"}
    ]
    assert nvme["template"]["spec"]["nodeClassRef"] == {
        "group": "karpenter.k8s.aws",
        "kind": "EC2NodeClass",
        "name": "nvme",
    }


def test_dev_allows_spot_and_labels_time_sliced_nodes_for_the_device_plugin(dev: Resources) -> None:
    inference = _pool(dev, "inference")
    assert _requirement(inference, "karpenter.sh/capacity-type") == ["spot", "on-demand"]
    assert inference["template"]["metadata"]["labels"] == {
        "substrate.io/pool": "inference",
        "nvidia.com/device-plugin.config": "time-sliced-4",
    }
    # Bottlerocket training nodes share nothing and run their AMI's own plugin: no label.
    assert _pool(dev, "training")["template"]["metadata"]["labels"] == {
        "substrate.io/pool": "training"
    }


def test_node_classes_require_imdsv2_and_encrypt_volumes_with_the_cluster_key(
    any_plan: PlanResult,
) -> None:
    resources = Resources(any_plan.records)
    key_arn = resources.named("storage-gp3").inputs["parameters"]["kmsKeyId"]
    classes = resources.of_type(NODE_CLASS)
    assert classes
    for record in classes:
        spec = record.inputs["spec"]
        assert spec["metadataOptions"]["httpTokens"] == "required"
        assert spec["metadataOptions"]["httpPutResponseHopLimit"] == 1
        assert spec["associatePublicIPAddress"] is False
        assert spec["role"] == resources.named("karpenter-node-role").inputs["name"]
        for mapping in spec["blockDeviceMappings"]:
            assert mapping["ebs"]["encrypted"] is True
            assert mapping["ebs"]["kmsKeyID"] == key_arn
            assert mapping["ebs"]["volumeType"] == "gp3"
        discovery = [{"tags": {"karpenter.sh/discovery": f"substrate-{any_plan.stack}"}}]
        assert spec["subnetSelectorTerms"] == spec["securityGroupSelectorTerms"] == discovery
        assert not any(k.startswith(("kubernetes.io/cluster", "karpenter.")) for k in spec["tags"])


def test_prod_node_classes_pin_the_ami_and_raid0_where_pools_have_nvme(prod: Resources) -> None:
    for name in ("default", "gpu", "nvme"):
        assert _node_class(prod, name)["amiSelectorTerms"] == [{"alias": "al2023@v20261112"}]
    assert "instanceStorePolicy" not in _node_class(prod, "default")  # m7i/m6i/c7i/r7i: EBS only
    assert _node_class(prod, "gpu")["instanceStorePolicy"] == "RAID0"
    assert _node_class(prod, "nvme")["instanceStorePolicy"] == "RAID0"
    gpu = _node_class(prod, "gpu")
    # Images live on the NVMe RAID0: the root volume holds the OS at gp3's baseline.
    ebs = gpu["blockDeviceMappings"][0]["ebs"]
    assert (ebs["volumeSize"], ebs["iops"], ebs["throughput"]) == ("100Gi", 3000, 125)
    assert gpu["capacityReservationSelectorTerms"] == [{"tags": {"substrate.io/capacity": "gpu"}}]
    assert yaml.safe_load(gpu["userData"]) == {
        "apiVersion": "node.eks.aws/v1alpha1",
        "kind": "NodeConfig",
        "spec": {"featureGates": {"FastImagePull": True}},
    }


def test_bottlerocket_class_has_os_and_data_volumes_and_soci(dev: Resources) -> None:
    spec = _node_class(dev, "gpu-bottlerocket")
    assert spec["amiSelectorTerms"] == [{"alias": "bottlerocket@latest"}]
    devices = {m["deviceName"]: m["ebs"]["volumeSize"] for m in spec["blockDeviceMappings"]}
    assert devices == {"/dev/xvda": "4Gi", "/dev/xvdb": "100Gi"}
    assert tomllib.loads(spec["userData"])["settings"]["container-runtime"] == {
        "snapshotter": "soci"
    }


def test_bottlerocket_gpu_sharing_is_rendered_as_device_plugin_settings() -> None:
    sliced = NodeClassSpec(
        "br", "bottlerocket@v1.53.0", gpu_sharing=GpuSharing(SharingMode.TIME_SLICING, 4)
    )
    settings = tomllib.loads(bottlerocket_settings(sliced) or "")["settings"]
    plugin = settings["kubelet-device-plugins"]["nvidia"]
    assert plugin["device-sharing-strategy"] == "time-slicing"
    # renamed like the AL2023 plugin's renameByDefault: slices are nvidia.com/gpu.shared
    assert plugin["time-slicing"] == {
        "replicas": 4,
        "rename-by-default": True,
        "fail-requests-greater-than-one": True,
    }
    mig = NodeClassSpec(
        "br",
        "bottlerocket@v1.53.0",
        fast_image_pull=False,
        gpu_sharing=GpuSharing(SharingMode.MIG, mig_profiles=(MigProfile("a100.40gb", "1g.5gb"),)),
    )
    parsed = tomllib.loads(bottlerocket_settings(mig) or "")
    assert parsed == {
        "settings": {
            "kubelet-device-plugins": {
                "nvidia": {
                    "device-partitioning-strategy": "mig",
                    "mig": {"profile": {"a100.40gb": "1g.5gb"}},
                }
            }
        }
    }


def test_node_class_without_fast_pull_or_sharing_has_no_user_data() -> None:
    spec = NodeClassSpec("plain", "al2023@v20261112", fast_image_pull=False)
    assert "userData" not in node_class_spec(spec, "c", "role", "arn:aws:kms:r:1:key/k", {})
