"""The drift hashes, checked against Karpenter v1.14.1's own expectations:

- EC2NodeClass: every constant of aws/karpenter-provider-aws v1.14.1
  `pkg/apis/v1/ec2nodeclass_hash_test.go` ("should match static hash on field value change",
  "should match static hash when updating blockDeviceMapping volumeSize", "... for
  instanceProfile", "... when reordering tags", "... when reordering blockDeviceMappings").
- NodePool: the static fields of kubernetes-sigs/karpenter v1.14.1
  `pkg/controllers/nodeclaim/disruption/drift_test.go` ("should detect drift on changes to the
  static fields") and the "Behavioral Fields" table of the v1.14 Disruption page ("Drift"), plus
  four hashes `NodePool.Hash()` of sigs.k8s.io/karpenter v1.14.1 printed for the manifests below.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from substrate.engines.karpenter.hashing import ec2nodeclass_hash, nodepool_hash

CA = "test-ca-bundle"
STATIC_HASH = "2608468723537941485"
Spec = dict[str, Any]


def base() -> Spec:
    """The EC2NodeClass of upstream's BeforeEach (no AMI selector: family Custom)."""
    return {
        "role": "role-1",
        "tags": {"keyTag-1": "valueTag-1", "keyTag-2": "valueTag-2"},
        "context": "fake-context",
        "detailedMonitoring": False,
        "associatePublicIPAddress": False,
        "metadataOptions": {
            "httpEndpoint": "disabled",
            "httpProtocolIPv6": "disabled",
            "httpPutResponseHopLimit": 1,
            "httpTokens": "optional",
        },
        "blockDeviceMappings": [
            {
                "deviceName": "map-device-1",
                "rootVolume": False,
                "ebs": {
                    "deleteOnTermination": False,
                    "encrypted": False,
                    "iops": 0,
                    "kmsKeyID": "fakeKMSKeyID",
                    "snapshotID": "fakeSnapshot",
                    "throughput": 0,
                    "volumeSize": "2G",
                    "volumeType": "standard",
                },
            },
            {"deviceName": "map-device-2"},
        ],
        "userData": "userdata-test-1",
    }


def changed(change: Callable[[Spec], object]) -> str:
    spec = base()
    change(spec)
    return ec2nodeclass_hash({"spec": spec}, CA)


def ebs(**fields: object) -> Callable[[Spec], object]:
    return lambda s: s["blockDeviceMappings"][0]["ebs"].update(fields)


def metadata(**fields: object) -> Callable[[Spec], object]:
    return lambda s: s["metadataOptions"].update(fields)


# Upstream merges each entry into the base with mergo (WithOverride, WithSliceDeepCopy): maps
# gain keys, the first block device mapping takes the entry's fields.
STATIC = {
    "UserData": ("2153344579995979450", lambda s: s.update(userData="userdata-test-2")),
    "Tags": (
        "4608386791045313156",
        lambda s: s["tags"].update({"keyTag-test-3": "valueTag-test-3"}),
    ),
    "Context": ("11612053647989098410", lambda s: s.update(context="context-2")),
    "DetailedMonitoring": ("11845605438531206428", lambda s: s.update(detailedMonitoring=True)),
    "InstanceStorePolicy": ("6430637013089544585", lambda s: s.update(instanceStorePolicy="RAID0")),
    "AssociatePublicIPAddress": (
        "6811176403923819181",
        lambda s: s.update(associatePublicIPAddress=True),
    ),
    "MetadataOptions HTTPEndpoint": ("8158886403801636337", metadata(httpEndpoint="enabled")),
    "MetadataOptions HTTPProtocolIPv6": (
        "12355196004817691031",
        metadata(httpProtocolIPv6="enabled"),
    ),
    "MetadataOptions HTTPPutResponseHopLimit": (
        "8968306366664488826",
        metadata(httpPutResponseHopLimit=10),
    ),
    "MetadataOptions HTTPTokens": ("12408995450371615650", metadata(httpTokens="required")),
    "BlockDeviceMapping DeviceName": (
        "13986335469721503441",
        lambda s: s["blockDeviceMappings"][0].update(deviceName="map-device-test-3"),
    ),
    "BlockDeviceMapping RootVolume": (
        "14242690863945643402",
        lambda s: s["blockDeviceMappings"][0].update(rootVolume=True),
    ),
    "BlockDeviceMapping DeleteOnTermination": (
        "12316454167870753581",
        ebs(deleteOnTermination=True),
    ),
    "BlockDeviceMapping Encrypted": ("17753517657333560591", ebs(encrypted=True)),
    "BlockDeviceMapping IOPS": ("2249322442135400321", ebs(iops=10)),
    "BlockDeviceMapping KMSKeyID": ("12259594419287406661", ebs(kmsKeyID="test")),
    "BlockDeviceMapping SnapshotID": ("1149563513090550380", ebs(snapshotID="test")),
    "BlockDeviceMapping Throughput": ("12068199760789564545", ebs(throughput=10)),
    "BlockDeviceMapping VolumeType": ("16361719363399715944", ebs(volumeType="io1")),
    "ConnectionTracking TCPEstablishedTimeout": (
        "12177489405137904098",
        lambda s: s.update(connectionTracking={"tcpEstablishedTimeout": 300}),
    ),
    "ConnectionTracking UDPStreamTimeout": (
        "17567831983996427",
        lambda s: s.update(connectionTracking={"udpStreamTimeout": 120}),
    ),
    "ConnectionTracking UDPTimeout": (
        "5078825826133662844",
        lambda s: s.update(connectionTracking={"udpTimeout": 45}),
    ),
    "CPUOptions NestedVirtualization": (
        "17001101224536964682",
        lambda s: s.update(cpuOptions={"nestedVirtualization": "enabled"}),
    ),
    "volumeSize": ("3564293065344858862", ebs(volumeSize="10G")),
    "instanceProfile": (
        "3585768058063247698",
        lambda s: (s.pop("role"), s.update(instanceProfile="test-instance-profile")),
    ),
}
DYNAMIC = {
    "Modified AMISelector": lambda s: s.update(amiSelectorTerms=[{"tags": {"": "ami-value"}}]),
    "Modified SubnetSelector": lambda s: s.update(subnetSelectorTerms=[{"tags": {"k": "v"}}]),
    "Modified SecurityGroupSelector": lambda s: s.update(
        securityGroupSelectorTerms=[{"tags": {"k": "v"}}]
    ),
    "Modified CapacityReservationSelector": lambda s: s.update(
        capacityReservationSelectorTerms=[{"tags": {"k": "v"}}]
    ),
    "reordering tags": lambda s: s.update(
        tags={"keyTag-2": "valueTag-2", "keyTag-1": "valueTag-1"}
    ),
    "reordering blockDeviceMappings": lambda s: s["blockDeviceMappings"].reverse(),
}


def test_the_base_nodeclass_has_upstreams_static_hash() -> None:
    assert ec2nodeclass_hash({"spec": base()}, CA) == STATIC_HASH


@pytest.mark.parametrize("field", list(STATIC))
def test_static_fields_hash_to_upstreams_constants(field: str) -> None:
    want, change = STATIC[field]
    assert changed(change) == want


@pytest.mark.parametrize("field", list(DYNAMIC))
def test_selector_terms_and_ordering_do_not_change_the_hash(field: str) -> None:
    assert changed(DYNAMIC[field]) == STATIC_HASH


def test_the_ami_family_an_alias_implies_is_hashed_not_the_alias_version() -> None:
    """AMIFamily() is hashed dynamically (ec2nodeclass.go Hash): al2023@v1 and al2023@v2 hash
    alike, bottlerocket@... differently."""
    one = ec2nodeclass_hash({"spec": {**base(), "amiSelectorTerms": [{"alias": "al2023@v1"}]}})
    two = ec2nodeclass_hash({"spec": {**base(), "amiSelectorTerms": [{"alias": "al2023@v2"}]}})
    other = ec2nodeclass_hash(
        {"spec": {**base(), "amiSelectorTerms": [{"alias": "bottlerocket@1.0.0"}]}}
    )
    assert one == two != other


# -- NodePool ----------------------------------------------------------------------------------
def nodepool(**template_spec: Any) -> dict[str, Any]:
    spec = {
        "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "gpu"},
        "requirements": [],
        **template_spec,
    }
    return {
        "metadata": {"name": "a"},
        "spec": {
            "template": {"metadata": {"labels": {"substrate.io/pool": "training"}}, "spec": spec},
            "disruption": {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "1h"},
            "limits": {"cpu": "100"},
        },
    }


GPU_TAINT = [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]
GO_HASHES = {
    # NodePool.Hash() of sigs.k8s.io/karpenter v1.14.1 for these manifests (decoded from JSON).
    "17369979337536258260": {
        "metadata": {"name": "a"},
        "spec": {
            "template": {
                "spec": {
                    "nodeClassRef": {
                        "group": "karpenter.k8s.aws",
                        "kind": "EC2NodeClass",
                        "name": "default",
                    },
                    "requirements": [
                        {
                            "key": "karpenter.sh/capacity-type",
                            "operator": "In",
                            "values": ["on-demand"],
                        }
                    ],
                }
            }
        },
    },
    "4992605654369610287": nodepool(expireAfter="Never", taints=GPU_TAINT),
    "7874071151424340543": nodepool(
        expireAfter="720h", terminationGracePeriod="24h", taints=GPU_TAINT
    ),
}


@pytest.mark.parametrize("want", list(GO_HASHES))
def test_nodepool_hashes_equal_karpenters(want: str) -> None:
    assert nodepool_hash(GO_HASHES[want]) == want


def test_a_nodepool_with_template_annotations_and_startup_taints_hashes_as_karpenter() -> None:
    np = nodepool(
        expireAfter="168h", startupTaints=[{"key": "example.com/init", "effect": "NoExecute"}]
    )
    np["spec"]["template"]["metadata"] = {
        "labels": {"substrate.io/pool": "inference"},
        "annotations": {"example.com/owner": "team-a"},
    }
    assert nodepool_hash(np) == "17856290694726299795"


NODEPOOL_STATIC = {
    "Annotations": lambda np: np["spec"]["template"]["metadata"].update(annotations={"k": "v"}),
    "Labels": lambda np: np["spec"]["template"]["metadata"]["labels"].update(k="v"),
    "Taints": lambda np: np["spec"]["template"]["spec"].update(
        taints=[{"key": "keytest2taint", "effect": "NoExecute"}]
    ),
    "StartupTaints": lambda np: np["spec"]["template"]["spec"].update(
        startupTaints=[{"key": "keytest2taint", "effect": "NoExecute"}]
    ),
    "NodeClassRef Name": lambda np: np["spec"]["template"]["spec"]["nodeClassRef"].update(
        name="testName"
    ),
    "ExpireAfter": lambda np: np["spec"]["template"]["spec"].update(expireAfter="100m"),
    "TerminationGracePeriod": lambda np: np["spec"]["template"]["spec"].update(
        terminationGracePeriod="100m"
    ),
}
NODEPOOL_BEHAVIOURAL = {
    "spec.weight": lambda np: np["spec"].update(weight=10),
    "spec.limits": lambda np: np["spec"].update(limits={"cpu": "5"}),
    "spec.disruption.*": lambda np: np["spec"].update(
        disruption={"consolidateAfter": "Never", "budgets": [{"nodes": "0"}]}
    ),
    "requirements (checked separately)": lambda np: np["spec"]["template"]["spec"].update(
        requirements=[{"key": "k", "operator": "Exists"}]
    ),
}


@pytest.mark.parametrize("field", list(NODEPOOL_STATIC))
def test_static_nodepool_fields_change_the_hash(field: str) -> None:
    np = nodepool(expireAfter="720h")
    before = nodepool_hash(np)
    NODEPOOL_STATIC[field](np)
    assert nodepool_hash(np) != before


@pytest.mark.parametrize("field", list(NODEPOOL_BEHAVIOURAL))
def test_behavioural_nodepool_fields_do_not_change_the_hash(field: str) -> None:
    np = nodepool(expireAfter="720h")
    before = nodepool_hash(copy.deepcopy(np))
    NODEPOOL_BEHAVIOURAL[field](np)
    assert nodepool_hash(np) == before
