"""``substrate:nodePools``: Karpenter NodePools as data, one entry per pool."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from substrate.components.capacity.instance_families import FAMILIES
from substrate.components.capacity.pools import GPU, NEURON, Taint, TaintEffect
from substrate.components.core import validators
from substrate.config.checks import Memory, between, non_empty, rule, unique
from substrate.config.karpenter import ObjectName
from substrate.config.schema import ConfigError, Invalid, doc

Duration = Annotated[str, rule(validators.duration)]
DurationOrNever = Annotated[str, rule(validators.duration, True)]
RESTRICTED_LABEL_DOMAINS = ("karpenter.sh", "karpenter.k8s.aws", "kubernetes.io", "k8s.io")
KIND_NAMES = {"nvidia": "NVIDIA GPU", "neuron": "Neuron", "none": "CPU"}
DEVICES = {"gpu": "nvidia.com/gpu", "neuron": "aws.amazon.com/neuron"}
CapacityType = Literal["spot", "on-demand", "reserved"]
PoolKind = Literal["general", "training", "inference", "agents"]


def _known_families(value: list[str]) -> None:
    for name in value:
        if name not in FAMILIES:
            raise Invalid(
                f"names {name!r}, which is not an instance family Substrate knows",
                "families listed in substrate/components/capacity/instance_families.py, "
                "e.g. m7i, g6e, p5, i4i",
            )


def _labels(value: dict[str, str]) -> None:
    for key in value:
        domain = key.rpartition("/")[0]
        if key == "substrate.io/pool" or any(
            domain == d or domain.endswith(f".{d}") for d in RESTRICTED_LABEL_DOMAINS
        ):
            raise Invalid(
                f"sets {key!r}, which Substrate or Karpenter owns",
                "your own label keys (substrate.io/pool is set to the pool name)",
            )


@dataclass(frozen=True)
class TaintConfig:
    """A node taint; pods must tolerate it to land on the pool."""

    key: str = doc("Taint key, e.g. `nvidia.com/gpu`.")
    value: str = doc('Taint value, e.g. "true".')
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = doc(
        "Taint effect.", default="NoSchedule"
    )

    def spec(self) -> Taint:
        return Taint(self.key, self.value, TaintEffect(self.effect))


@dataclass(frozen=True)
class LimitsConfig:
    """Most the pool may launch in total; Karpenter stops scaling the pool at any of them."""

    cpu: Annotated[int, between(1, 100000)] = doc("vCPUs across the pool's nodes.")
    memory: Memory = doc('Memory across the pool\'s nodes, e.g. "2048Gi".')
    gpu: Annotated[int, between(1, 100000)] | None = doc(
        "Physical GPUs across the pool; required for NVIDIA pools. Rendered in the pool's unit: "
        "`nvidia.com/gpu`, or `nvidia.com/gpu.shared` = gpu x replicas when time-sliced.",
        default=None,
    )
    neuron: Annotated[int, between(1, 100000)] | None = doc(
        "`aws.amazon.com/neuron` devices across the pool; required for Neuron pools.",
        default=None,
    )


@dataclass(frozen=True)
class DisruptionConfig:
    """When Karpenter may remove or replace the pool's nodes."""

    consolidation_policy: Literal["WhenEmpty", "WhenEmptyOrUnderutilized"] = doc(
        "`WhenEmpty` (required for GPU/Neuron pools: never evict running work to save cost) "
        "or `WhenEmptyOrUnderutilized`."
    )
    consolidate_after: DurationOrNever = doc(
        "How long a node must stay empty/underused before it is removed; what idle costs."
    )
    budget_nodes: Annotated[str, rule(validators.budget_nodes)] = doc(
        'Most nodes disrupted at once, "1" or a percentage ("10%"); production GPU/Neuron '
        'pools allow at most "1".',
        default="10%",
    )
    maintenance_window: str | None = doc(
        "Name in `substrate:karpenter.maintenanceWindows`: drifted nodes (new AMI, node-class "
        "or pool change) are replaced only inside it. Required in production for accelerator, "
        "training, inference and agents pools.",
        default=None,
    )


@dataclass(frozen=True)
class GpuSharingConfig:
    """How the NVIDIA device plugin presents each node's GPUs."""

    mode: Literal["none", "time-slicing", "mig"] = doc(
        "`none` (whole GPUs, `nvidia.com/gpu`) or `time-slicing` (`replicas` slices per GPU, "
        "advertised as `nvidia.com/gpu.shared`, the pool's unit for limits and quota; no memory "
        "or fault isolation). `mig` is refused: no partitioning at boot on AL2023, and no "
        "NodeOverlay for MIG capacity on Bottlerocket.",
        default="none",
    )
    replicas: Annotated[int, between(1, 64)] = doc(
        "time-slicing: pods sharing each GPU (at least 2).", default=1
    )
    mig_strategy: Literal["single", "mixed"] = doc(
        "mig (refused today): `single` advertises MIG instances as nvidia.com/gpu, `mixed` as "
        "nvidia.com/mig-<profile>.",
        default="single",
    )
    mig_profiles: dict[str, str] = doc(
        "mig on Bottlerocket (refused today): GPU model -> profile applied at boot, e.g. "
        '{"a100.40gb": "1g.5gb"}.',
        factory=dict,
    )

    def check(self, path: str) -> None:
        if self.mode == "time-slicing" and self.replicas < 2:
            raise ConfigError(
                f"{path}.replicas", self.replicas, "does not share the GPU", "2 or more"
            )
        if self.mode != "time-slicing" and self.replicas != 1:
            raise ConfigError(
                f"{path}.replicas",
                self.replicas,
                f"is set while mode is {self.mode!r}",
                "1 (replicas apply to time-slicing only)",
            )
        if self.mode != "mig" and self.mig_profiles:
            raise ConfigError(
                f"{path}.migProfiles",
                self.mig_profiles,
                f"is set while mode is {self.mode!r}",
                "an empty mapping unless mode is mig",
            )


@dataclass(frozen=True)
class NodePoolConfig:
    """A Karpenter NodePool. Its accelerator follows from its families: NVIDIA GPU pools need
    the `nvidia.com/gpu=true:NoSchedule` taint, a GPU limit and `WhenEmpty`; Neuron pools the
    `aws.amazon.com/neuron=true:NoSchedule` taint and a Neuron limit."""

    node_class: str = doc("Key of `substrate:karpenter.nodeClasses` the pool launches with.")
    instance_families: Annotated[
        list[str], non_empty("instance family"), unique, _known_families
    ] = doc("EC2 instance families, e.g. [g6e, g6]; one accelerator kind and architecture.")
    limits: LimitsConfig = doc("Total resources the pool may launch.")
    disruption: DisruptionConfig = doc("Consolidation and disruption budgets.")
    capacity_types: Annotated[list[CapacityType], non_empty("capacity type"), unique] = doc(
        "`spot` (not in production), `on-demand`, `reserved` (the node class's "
        "capacityReservations: ODCRs, Capacity Blocks).",
        factory=lambda: ["on-demand"],
    )
    taints: list[TaintConfig] = doc("Node taints.", factory=list)
    labels: Annotated[dict[str, str], _labels] = doc(
        "Extra node labels (`substrate.io/pool: <name>` is always set).", factory=dict
    )
    weight: Annotated[int, between(1, 100)] | None = doc(
        "Priority over other pools a pod matches (higher first); unset is 0.", default=None
    )
    expire_after: DurationOrNever = doc(
        "Maximum node lifetime; expiry is forceful (ignores budgets).", default="720h"
    )
    termination_grace_period: Duration | None = doc(
        "Longest a draining node waits for pods before forcing them off.", default=None
    )
    gpu_sharing: GpuSharingConfig = doc("GPU sharing (NVIDIA pools).", factory=GpuSharingConfig)
    zones: Annotated[list[str], unique] = doc(
        "Availability Zones the pool launches in (of `substrate:network.availabilityZones`); "
        "empty: all. Exactly one with a node class that has a cluster placement group.",
        factory=list,
    )
    kind: PoolKind = doc(
        "Disruption contract: `training` (running jobs are never disrupted by Karpenter: no "
        "terminationGracePeriod, expireAfter Never, WhenEmpty), `inference` and `agents` "
        "(terminationGracePeriod required so drift and expiry finish; serving pods rely on "
        "replicas and PDBs), `general` (no constraint).",
        default="general",
    )

    def check(self, path: str) -> None:
        fams = [FAMILIES[f] for f in self.instance_families]
        kinds = {f.accelerator or "none" for f in fams}
        if len(kinds) > 1:
            mix = ", ".join(f"{f.name}: {f.accelerator or 'none'}" for f in fams)
            raise ConfigError(
                f"{path}.instanceFamilies",
                self.instance_families,
                f"mixes accelerator kinds ({mix})",
                "families of one kind per pool (CPU, NVIDIA GPU or Neuron)",
            )
        if len({f.arch for f in fams}) > 1:
            raise ConfigError(
                f"{path}.instanceFamilies",
                self.instance_families,
                "mixes amd64 and arm64 families",
                "families of one architecture per pool",
            )
        kind = kinds.pop()
        self._check_accelerator(path, kind)
        self._check_kind(path)
        if self.gpu_sharing.mode == "mig":
            plain = [f.name for f in fams if not f.mig]
            if plain:
                raise ConfigError(
                    f"{path}.gpuSharing.mode",
                    "mig",
                    f"is set for families whose GPUs do not support MIG ({', '.join(plain)})",
                    "mig only with A100/H100/H200/B200-class families (p4d, p4de, p5, p5e, ...)",
                )

    def _check_kind(self, path: str) -> None:
        if self.kind == "training":
            if self.termination_grace_period is not None:
                raise ConfigError(
                    f"{path}.terminationGracePeriod",
                    self.termination_grace_period,
                    "lets Karpenter drain a drifted training node and delete its "
                    "do-not-disrupt pods when the grace period ends, killing the running job",
                    "unset for kind training (running jobs then block drift)",
                )
            if self.expire_after != "Never":
                raise ConfigError(
                    f"{path}.expireAfter",
                    self.expire_after,
                    "expires training nodes forcefully (budgets and do-not-disrupt do not stop "
                    "expiry), under running jobs",
                    '"Never" for kind training (new AMIs arrive through drift)',
                )
            if self.disruption.consolidation_policy != "WhenEmpty":
                raise ConfigError(
                    f"{path}.disruption.consolidationPolicy",
                    self.disruption.consolidation_policy,
                    "would consolidate training nodes that run work",
                    '"WhenEmpty" for kind training',
                )
        elif self.kind in ("inference", "agents") and self.termination_grace_period is None:
            raise ConfigError(
                f"{path}.terminationGracePeriod",
                None,
                f"is unset for kind {self.kind}, so one do-not-disrupt pod blocks drift forever "
                "and an expired node never finishes draining",
                'a bound such as "4h" for kinds inference and agents',
            )

    def _check_accelerator(self, path: str, kind: str) -> None:
        taint = {"nvidia": GPU, "neuron": NEURON}.get(kind)
        limit_key = {"nvidia": "gpu", "neuron": "neuron"}.get(kind)
        fams = ", ".join(self.instance_families)
        label = KIND_NAMES[kind]
        if taint is not None and taint not in [t.spec() for t in self.taints]:
            raise ConfigError(
                f"{path}.taints",
                [str(t.spec()) for t in self.taints],
                f"lacks the {taint} taint on a pool of {label} families ({fams})",
                f'taints including {{key: {taint.key}, value: "{taint.value}", effect: '
                f"{taint.effect}}}",
            )
        for key in ("gpu", "neuron"):
            value = getattr(self.limits, key)
            if key == limit_key and value is None:
                raise ConfigError(
                    f"{path}.limits.{key}",
                    None,
                    f"is unset for a pool of {label} families ({fams})",
                    f"the most {DEVICES[key]} the pool may launch, e.g. 16",
                )
            if key != limit_key and value is not None:
                raise ConfigError(
                    f"{path}.limits.{key}",
                    value,
                    f"is set on a pool of {label} families ({fams})",
                    f"no {DEVICES[key]} limit on a pool whose families have none",
                )
        if kind != "none" and self.disruption.consolidation_policy != "WhenEmpty":
            raise ConfigError(
                f"{path}.disruption.consolidationPolicy",
                self.disruption.consolidation_policy,
                f"would evict running work from {label} nodes to save cost",
                '"WhenEmpty" for GPU and Neuron pools',
            )
        if kind != "nvidia" and self.gpu_sharing.mode != "none":
            raise ConfigError(
                f"{path}.gpuSharing.mode",
                self.gpu_sharing.mode,
                f"is set on a pool without NVIDIA GPU families ({fams})",
                '"none"',
            )


NodePools = dict[ObjectName, NodePoolConfig]
