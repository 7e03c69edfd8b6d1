"""Karpenter EC2NodeClasses (karpenter.k8s.aws/v1): how Substrate's GPU and CPU nodes boot.

Every class: an EKS-optimised AMI alias (Karpenter resolves the standard, NVIDIA or Neuron
variant of that release per instance type), subnets and security groups discovered by
`karpenter.sh/discovery: <cluster>`, IMDSv2 only with hop limit 1 (R9, R10), no public IP
(R11), gp3 volumes encrypted with the cluster's EBS key (R13), the platform's tags.
`instanceStorePolicy: RAID0` puts kubelet and containerd (images, emptyDirs) on the local NVMe
of instances that have it; instances without instance store fall back to the EBS volume.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NotRequired, Required, TypedDict

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import yaml

from substrate.components.capacity.pools import AmiFamily, GpuSharing
from substrate.components.core import validators
from substrate.components.core._args import check_args
from substrate.components.core.tokens import component_args

API_VERSION = "karpenter.k8s.aws/v1"
KIND = "EC2NodeClass"
BOTTLEROCKET_OS_VOLUME_GIB = 4
"""Karpenter's default for Bottlerocket's OS volume /dev/xvda (its images live on /dev/xvdb)."""


class PlacementStrategy(StrEnum):
    """An EC2 placement group strategy."""

    CLUSTER = "cluster"
    """One Availability Zone, nodes close on the network (multi-node training)."""


@dataclass(frozen=True)
class NodeClassSpec:
    """One Karpenter EC2NodeClass: AMI, encrypted gp3 volume, node setup."""

    name: str
    """EC2NodeClass name (a DNS label); pools name it in `node_class`."""
    ami_alias: str
    """AMI alias, `family@version` ("al2023@v20261112", "bottlerocket@v1.53.0") or
    `family@latest`."""
    volume_gib: int = 100
    """Size of the node's data volume (AL2023: the root volume; Bottlerocket: /dev/xvdb), in
    GiB."""
    volume_iops: int = 3000
    """gp3 IOPS of that volume."""
    volume_throughput: int = 125
    """gp3 throughput of that volume, in MiB/s."""
    fast_image_pull: bool = True
    """SOCI parallel pull and unpack of container images."""
    raid0: bool = False
    """Instance-store NVMe disks as one RAID0 volume (`instanceStorePolicy: RAID0`)."""
    capacity_reservations: Sequence[Mapping[str, Any]] = ()
    """capacityReservationSelectorTerms entries in the CRD's shape."""
    gpu_sharing: GpuSharing = field(default_factory=GpuSharing)
    """Bottlerocket only: how its built-in NVIDIA device plugin shares GPUs."""
    placement_group: PlacementStrategy | None = None
    """Launch every node of the class into one placement group of this strategy (a cluster
    group: one Availability Zone, nodes close on the network, for multi-node training)."""

    @property
    def ami_family(self) -> AmiFamily:
        if self.ami_alias.startswith("bottlerocket@"):
            return AmiFamily.BOTTLEROCKET
        return AmiFamily.AL2023


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml(tables: Sequence[tuple[str, Mapping[str, object]]]) -> str:
    out = []
    for table, values in tables:
        out.append(f"[{table}]")
        out += [
            f"{_toml_value(k) if '.' in k else k} = {_toml_value(v)}" for k, v in values.items()
        ]
        out.append("")
    return "\n".join(out)


def bottlerocket_settings(spec: NodeClassSpec) -> str | None:
    """Bottlerocket user data (TOML), merged by Karpenter with its own settings."""
    tables: list[tuple[str, Mapping[str, object]]] = []
    if spec.fast_image_pull:
        # SOCI parallel pull/unpack (Bottlerocket 1.44.0+, settings.container-runtime-plugins).
        tables.append(("settings.container-runtime", {"snapshotter": "soci"}))
        tables.append(
            (
                "settings.container-runtime-plugins.soci-snapshotter",
                {"pull-mode": "parallel-pull-unpack"},
            )
        )
    sharing = spec.gpu_sharing
    device_plugin = "settings.kubelet-device-plugins.nvidia"
    if sharing.mode == "time-slicing":
        tables.append((device_plugin, {"device-sharing-strategy": "time-slicing"}))
        tables.append(
            (
                f"{device_plugin}.time-slicing",
                {
                    "replicas": sharing.replicas,
                    "rename-by-default": True,
                    "fail-requests-greater-than-one": True,
                },
            )
        )
    elif sharing.mode == "mig":
        tables.append((device_plugin, {"device-partitioning-strategy": "mig"}))
        profiles = {m.gpu: m.profile for m in sharing.mig_profiles}
        tables.append((f"{device_plugin}.mig.profile", profiles))
    return _toml(tables) if tables else None


def al2023_node_config(spec: NodeClassSpec) -> str | None:
    """AL2023 user data: a nodeadm NodeConfig Karpenter merges after its own."""
    if not spec.fast_image_pull:
        return None
    doc = {
        "apiVersion": "node.eks.aws/v1alpha1",
        "kind": "NodeConfig",
        # SOCI parallel pull/unpack; nodeadm ignores it on instances below its vCPU/memory floor.
        "spec": {"featureGates": {"FastImagePull": True}},
    }
    return yaml.safe_dump(doc, sort_keys=False)


def _ebs(size: int, key_arn: str, iops: int | None = None, mibps: int | None = None) -> dict:
    ebs: dict[str, Any] = {
        "volumeSize": f"{size}Gi",
        "volumeType": "gp3",
        "encrypted": True,
        "kmsKeyID": key_arn,
        "deleteOnTermination": True,
    }
    if iops is not None:
        ebs["iops"] = iops
    if mibps is not None:
        ebs["throughput"] = mibps
    return ebs


def block_devices(spec: NodeClassSpec, key_arn: str) -> list[dict[str, Any]]:
    data = _ebs(spec.volume_gib, key_arn, spec.volume_iops, spec.volume_throughput)
    if spec.ami_family == "bottlerocket":
        return [
            {"deviceName": "/dev/xvda", "ebs": _ebs(BOTTLEROCKET_OS_VOLUME_GIB, key_arn)},
            {"deviceName": "/dev/xvdb", "ebs": data},
        ]
    return [{"deviceName": "/dev/xvda", "rootVolume": True, "ebs": data}]


def placement_group_name(cluster_name: str, node_class: str) -> str:
    """The EC2 placement group Substrate creates for a class (Karpenter selects it by name)."""
    return f"{cluster_name}-{node_class}"


def node_class_spec(
    spec: NodeClassSpec,
    cluster_name: str,
    role_name: str,
    key_arn: str,
    tags: Mapping[str, str],
) -> dict[str, Any]:
    """The EC2NodeClass `spec` (plain data; every input resolved)."""
    discovery = [{"tags": {validators.KARPENTER_DISCOVERY_TAG: cluster_name}}]
    body: dict[str, Any] = {
        "amiSelectorTerms": [{"alias": spec.ami_alias}],
        "role": role_name,
        "subnetSelectorTerms": discovery,
        "securityGroupSelectorTerms": discovery,
        "associatePublicIPAddress": False,
        "metadataOptions": {
            "httpEndpoint": "enabled",
            "httpProtocolIPv6": "disabled",
            "httpPutResponseHopLimit": 1,
            "httpTokens": "required",
        },
        "blockDeviceMappings": block_devices(spec, key_arn),
        "tags": dict(sorted(tags.items())),
    }
    if spec.raid0:
        body["instanceStorePolicy"] = "RAID0"
    if spec.placement_group is not None:
        body["placementGroupSelector"] = {"name": placement_group_name(cluster_name, spec.name)}
    if spec.capacity_reservations:
        body["capacityReservationSelectorTerms"] = [dict(t) for t in spec.capacity_reservations]
    user_data = (
        bottlerocket_settings(spec)
        if spec.ami_family == "bottlerocket"
        else al2023_node_config(spec)
    )
    if user_data:
        body["userData"] = user_data
    return body


class NodeClassesArgs(TypedDict, total=False):
    cluster_name: Required[str]
    """Cluster whose `karpenter.sh/discovery` tag selects subnets and security groups."""
    node_role_name: Required[pulumi.Input[str]]
    """IAM role of the nodes (Karpenter creates the instance profiles)."""
    volume_kms_key_arn: Required[pulumi.Input[str]]
    """Customer managed key for every EBS volume of the nodes (R13)."""
    classes: Required[Sequence[NodeClassSpec]]
    """The EC2NodeClasses to render."""
    tags: NotRequired[Mapping[str, str]]
    """Tags Karpenter puts on instances, volumes, ENIs and launch templates (hashed by Karpenter:
    changing one replaces every node of the classes)."""
    resource_tags: NotRequired[Mapping[str, str]]
    """Tags on the AWS resources the component creates itself (placement groups); default
    `tags`. Not hashed by Karpenter."""


RESERVED_TAG_PREFIXES = ("kubernetes.io/cluster", "karpenter.sh/", "karpenter.k8s.aws/")


class NodeClasses(pulumi.ComponentResource):
    """One EC2NodeClass custom resource per spec."""

    names: list[str]

    def __init__(
        self, name: str, args: NodeClassesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__(*component_args("substrate:capacity:NodeClasses", name, opts))
        tags = dict(args.get("tags", {}))
        for key in tags:
            if key.startswith(RESERVED_TAG_PREFIXES) or key == "eks:eks-cluster-name":
                raise ValueError(f"NodeClassesArgs.tags: {key!r} is a tag Karpenter owns")
        for i, spec in enumerate(args["classes"]):
            problem = validators.ami_alias(spec.ami_alias) or validators.dns_label(spec.name)
            if problem:
                raise ValueError(f"NodeClassesArgs.classes[{i}]: {spec.name!r} {problem}")
        self.names = []
        for spec in args["classes"]:
            if spec.placement_group is not None:
                aws.ec2.PlacementGroup(
                    f"{name}-{spec.name}-placement",
                    name=placement_group_name(args["cluster_name"], spec.name),
                    strategy=str(spec.placement_group),
                    tags=dict(args.get("resource_tags", tags)),
                    opts=pulumi.ResourceOptions(parent=self),
                )
            body = pulumi.Output.all(args["node_role_name"], args["volume_kms_key_arn"]).apply(
                lambda v, s=spec: node_class_spec(s, args["cluster_name"], v[0], v[1], tags)
            )
            k8s.apiextensions.CustomResource(
                f"{name}-{spec.name}",
                api_version=API_VERSION,
                kind=KIND,
                metadata=k8s.meta.v1.ObjectMetaArgs(name=spec.name),
                spec=body,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.names.append(spec.name)
        self.register_outputs({"names": self.names})
