"""``substrate:karpenter``: the Karpenter controller, maintenance windows, node tags and its
EC2NodeClasses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from substrate.components.capacity.pools import DAY, MaintenanceWindow
from substrate.components.core import validators
from substrate.config.checks import Memory, Quantity, between, non_empty, object_name, rule
from substrate.config.schema import ConfigError, Invalid, doc

ObjectName = Annotated[
    str, object_name("is not a valid name (it becomes a Kubernetes object name)")
]
"""Node class and pool names (`substrate:karpenter.nodeClasses`, `substrate:nodePools` keys)."""


def _reservation_id(value: str) -> None:
    if not (value.startswith("cr-") and value[3:].isalnum() and value[3:].islower()):
        raise Invalid("is not a capacity reservation id", 'an id such as "cr-0123456789abcdef0"')


def _account_id(value: str) -> None:
    if not (len(value) == 12 and value.isdigit()):
        raise Invalid("is not an AWS account id", "12 digits")


@dataclass(frozen=True)
class CapacityReservationConfig:
    """One EC2NodeClass `capacityReservationSelectorTerms` entry: an On-Demand Capacity
    Reservation or a Capacity Block for ML, selected by id, or by tags and/or match criteria.
    Pools reach it with the `reserved` capacity type."""

    id: Annotated[str, _reservation_id] | None = doc(
        "Reservation id; cannot be combined with the other keys.", default=None
    )
    tags: dict[str, str] = doc("Select every reservation carrying all these tags.", factory=dict)
    owner_id: Annotated[str, _account_id] | None = doc(
        "Only reservations owned by this account (shared reservations).", default=None
    )
    instance_match_criteria: Literal["open", "targeted"] | None = doc(
        "Only `open` or only `targeted` reservations.", default=None
    )

    def check(self, path: str) -> None:
        others = bool(self.tags) or self.owner_id is not None
        if self.id is not None and (others or self.instance_match_criteria is not None):
            raise ConfigError(
                f"{path}.id",
                self.id,
                "is combined with other selector keys",
                "either id alone, or tags/ownerId/instanceMatchCriteria",
            )
        if self.id is None and not self.tags and self.instance_match_criteria is None:
            raise ConfigError(
                path,
                {},
                "selects nothing",
                "id, tags or instanceMatchCriteria",
            )


@dataclass(frozen=True)
class NodeClassConfig:
    """An EC2NodeClass: AMI, root/data volume and node bootstrap. Nodes always get IMDSv2 with
    hop limit 1, no public IP, discovery of the cluster's private subnets and security group by
    the `karpenter.sh/discovery` tag, and volumes encrypted with the cluster's EBS key; classes
    whose pools launch families with local NVMe get `instanceStorePolicy: RAID0`."""

    ami_alias: Annotated[str, rule(validators.ami_alias)] = doc(
        "EKS-optimised AMI alias, `al2023@<vYYYYMMDD>` or `bottlerocket@<x.y.z>` (`@latest` "
        "floats; refused in production). Karpenter picks the NVIDIA/Neuron variant of the same "
        "release for GPU/Neuron instance types."
    )
    volume_gib: Annotated[int, between(20, 16384)] = doc(
        "Size of the volume that holds images and ephemeral storage when the instance has no "
        "NVMe (AL2023 root `/dev/xvda`; Bottlerocket data volume `/dev/xvdb`). Size for the "
        "largest model images.",
        default=100,
    )
    volume_iops: Annotated[int, between(3000, 16000)] = doc(
        "gp3 IOPS of that volume.", default=3000
    )
    volume_throughput: Annotated[int, between(125, 1000)] = doc(
        "gp3 throughput of that volume in MiB/s (image pulls are throughput-bound).", default=125
    )
    fast_image_pull: bool = doc(
        "Pull images with the SOCI snapshotter's parallel pull/unpack mode: nodeadm's "
        "`FastImagePull` feature gate on AL2023 (experimental; ignored below ~8 vCPU), "
        "`settings.container-runtime.snapshotter = soci` on Bottlerocket (1.44.0+).",
        default=True,
    )
    capacity_reservations: list[CapacityReservationConfig] = doc(
        "ODCRs / Capacity Blocks this class may launch into (`reserved` capacity type).",
        factory=list,
    )
    placement_group: Literal["cluster"] | None = doc(
        "Launch every node of the class into one EC2 placement group Substrate creates "
        "(`cluster`: one Availability Zone, low-latency network for multi-node training). "
        "Pools using the class must pin exactly one zone (`zones`).",
        default=None,
    )

    @property
    def ami_family(self) -> Literal["al2023", "bottlerocket"]:
        return "bottlerocket" if self.ami_alias.startswith("bottlerocket@") else "al2023"


@dataclass(frozen=True)
class MaintenanceWindowConfig:
    """When Karpenter may replace drifted nodes of the pools that name this window. Outside it
    a `nodes: "0"` budget for `Drifted` holds (Karpenter schedules are UTC: it has no time
    zones). Emptied nodes are still removed outside the window (`Empty` is not held)."""

    schedule: Annotated[str, rule(validators.maintenance_schedule)] = doc(
        'Start, UTC: daily `"M H * * *"` or weekly `"M H * * D"`, e.g. `"0 2 * * sat"`.'
    )
    duration: Annotated[str, rule(validators.budget_duration)] = doc(
        'How long the window stays open, e.g. "6h"; shorter than its day or week.'
    )

    def check(self, path: str) -> None:
        window = MaintenanceWindow("", self.schedule, self.duration)
        if window.minutes == 0 or window.minutes >= window.period:
            period = "day" if window.period == DAY else "week"
            raise ConfigError(
                f"{path}.duration",
                self.duration,
                f"does not fit in the {period} the schedule repeats over",
                f"more than 0 and less than {window.period // 60}h",
            )


@dataclass(frozen=True)
class KarpenterConfig:
    """The Karpenter controller (on the system node group) and its EC2NodeClasses. Leaving the
    section out installs no Karpenter and allows no node pools."""

    node_classes: Annotated[dict[ObjectName, NodeClassConfig], non_empty("node class")] = doc(
        "EC2NodeClasses by name; node pools refer to them."
    )
    replicas: Annotated[int, between(2, 5)] = doc(
        "Controller replicas (one leader; a PodDisruptionBudget keeps one up).", default=2
    )
    log_level: Literal["debug", "info", "error"] = doc("Controller log level.", default="info")
    controller_cpu: Quantity = doc("Controller CPU request and limit.", default="1")
    controller_memory: Memory = doc("Controller memory request and limit.", default="1Gi")
    zonal_shift: bool = doc(
        "Respect ARC zonal shifts of the cluster when launching nodes.", default=False
    )
    node_repair: bool = doc(
        "Karpenter node auto repair (alpha feature gate `NodeRepair`): force-terminate a node "
        "whose kubelet `Ready` or node monitoring agent condition (e.g. "
        "`AcceleratedHardwareReady`) stays unhealthy past Karpenter's toleration, unless more "
        "than 20% of its pool is unhealthy. Its pods are deleted at once, do-not-disrupt or not.",
        default=False,
    )
    maintenance_windows: dict[ObjectName, MaintenanceWindowConfig] = doc(
        "Maintenance windows by name; pools name one in `disruption.maintenanceWindow` "
        "(required for production accelerator, training, inference and agents pools).",
        factory=dict,
    )
    node_tags: list[str] = doc(
        "Keys of `substrate:tags` also put on nodes (EC2NodeClass tags). Karpenter hashes "
        "node-class tags: editing one of these replaces every node (inside its pool's window). "
        "Substrate's own tags (project, stack, environment, cluster, managed-by) are always on.",
        factory=list,
    )
