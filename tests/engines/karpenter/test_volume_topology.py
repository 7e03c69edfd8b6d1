"""The zone a NodeClaim is launched in for a pod whose claim is bound to a zonal volume
(substrate/engines/karpenter/volumes.py). Cases from kubernetes-sigs/karpenter v1.14.1
`pkg/controllers/provisioning/suite_test.go`, Context "Volume Topology Requirements" (zones
test-zone-1..3, a PersistentVolume in test-zone-3), and `scheduling/topology_test.go` "should
respect NodePool zonal constraints" with such a volume."""

from __future__ import annotations

from typing import Any

from substrate.engines.karpenter.launch import Cluster, launch
from substrate.engines.karpenter.volumes import ZONE, alternatives
from tests.engines.karpenter.test_launch import pod, pool

ZONES = ["test-zone-1", "test-zone-2", "test-zone-3"]
GENERAL = pool("default", ["m7i"])


def volume(zone: str, key: str = ZONE, **spec: Any) -> dict[str, Any]:
    """A PersistentVolume whose node affinity requires ``zone`` (test.PersistentVolume with
    Zones)."""
    term = {"matchExpressions": [{"key": key, "operator": "In", "values": [zone]}]}
    return {"spec": {"nodeAffinity": {"required": {"nodeSelectorTerms": [term]}}, **spec}}


def zones_of(found) -> list[tuple[str, ...]]:
    return [n.zones for n in found.nodes]


CPU = pod({"cpu": "1"})


def test_should_schedule_to_volume_zones_if_volume_already_bound() -> None:
    found = launch(CPU, 1, Cluster([GENERAL], {}, [], ZONES), volumes=[volume("test-zone-3")])
    assert zones_of(found) == [("test-zone-3",)]


def test_without_a_volume_the_nodeclaim_may_launch_in_every_zone_of_the_subnets() -> None:
    assert zones_of(launch(CPU, 1, Cluster([GENERAL], {}, [], ZONES))) == [tuple(ZONES)]


def test_should_not_schedule_if_volume_zones_are_incompatible() -> None:
    pinned = pod(
        {"cpu": "1"},
        affinity={
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": ZONE, "operator": "In", "values": ["test-zone-1"]}
                            ]
                        }
                    ]
                }
            }
        },
    )
    found = launch(pinned, 1, Cluster([GENERAL], {}, [], ZONES), volumes=[volume("test-zone-3")])
    assert (found.nodes, found.pending) == ([], 1)
    assert found.pools[0].reason == "its volumes' node affinity (zone) matches no node of the pool"


def test_a_nodepool_pinned_to_another_zone_cannot_take_the_pod() -> None:
    zonal = pool("zonal", ["m7i"])
    zonal["spec"]["template"]["spec"]["requirements"].append(
        {"key": ZONE, "operator": "In", "values": ["test-zone-1"]}
    )
    found = launch(CPU, 1, Cluster([zonal], {}, [], ZONES), volumes=[volume("test-zone-3")])
    assert (found.nodes, found.pending) == ([], 1)
    # ...and falls to a pool that can launch there.
    both = Cluster([{**zonal, "spec": {**zonal["spec"], "weight": 10}}, GENERAL], {}, [], ZONES)
    found = launch(CPU, 1, both, volumes=[volume("test-zone-3")])
    assert [(n.pool, n.zones) for n in found.nodes] == [("default", ("test-zone-3",))]


def test_the_ebs_csi_drivers_zone_key_is_the_zone() -> None:
    """The AWS provider normalizes topology.ebs.csi.aws.com/zone to topology.kubernetes.io/zone
    (its operator's NormalizedLabels); the EBS CSI driver's volumes carry both keys."""
    pv = volume("test-zone-2", key="topology.ebs.csi.aws.com/zone")
    found = launch(CPU, 1, Cluster([GENERAL], {}, [], ZONES), volumes=[pv])
    assert zones_of(found) == [("test-zone-2",)]


def test_hostname_affinity_is_ignored_only_for_local_and_host_path_volumes() -> None:
    """ "should ignore hostname affinity when using local path volumes" and "should not ignore
    hostname affinity when using non-local path volumes"."""
    term = {
        "matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": ["gone"]}
        ]
    }
    affinity = {"nodeAffinity": {"required": {"nodeSelectorTerms": [term]}}}
    assert alternatives([{"spec": {**affinity, "local": {"path": "/mnt"}}}]) == []
    found = launch(CPU, 1, Cluster([GENERAL], {}, [], ZONES), volumes=[{"spec": affinity}])
    assert found.nodes == []
