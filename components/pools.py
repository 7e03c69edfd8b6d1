"""The data model of a Karpenter pool, shared by config validation, the NodePools component,
the policy pack and later layers (Kueue ResourceFlavors select on `PoolSpec.node_labels`).

Pure Python: no Pulumi import, so stack-file checks and policies can use it cheaply.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from components.instance_families import FAMILIES, Accelerator, InstanceFamily
from components.labels import (
    DEVICE_PLUGIN_CONFIG_LABEL,
    GPU_RESOURCE,
    GPU_TAINT,
    NEURON_RESOURCE,
    NEURON_TAINT,
    POOL_LABEL,
)

CapacityType = Literal["spot", "on-demand", "reserved"]
AmiFamily = Literal["al2023", "bottlerocket"]
SharingMode = Literal["none", "time-slicing", "mig"]
DisruptionReason = Literal["Underutilized", "Empty", "Drifted"]


@dataclass(frozen=True)
class Taint:
    """A taint on every node of a pool: pods need the matching toleration."""

    key: str
    """Taint key."""
    value: str
    """Taint value."""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]
    """Kubernetes taint effect: pods without a matching toleration are kept off (or evicted)."""

    def manifest(self) -> dict[str, str]:
        return {"key": self.key, "value": self.value, "effect": self.effect}

    def __str__(self) -> str:
        return f"{self.key}={self.value}:{self.effect}"


GPU = Taint(GPU_TAINT["key"], GPU_TAINT["value"], "NoSchedule")
NEURON = Taint(NEURON_TAINT["key"], NEURON_TAINT["value"], "NoSchedule")


@dataclass(frozen=True)
class GpuSharing:
    """How the NVIDIA device plugin presents a node's GPUs."""

    mode: SharingMode = "none"
    """`none` (whole GPUs), `time-slicing` (`replicas` pods per GPU) or `mig` (MIG slices)."""
    replicas: int = 1
    """time-slicing: pods sharing each GPU (advertised as that many nvidia.com/gpu)."""
    mig_strategy: Literal["single", "mixed"] = "single"
    """mig: `single` advertises slices as nvidia.com/gpu, `mixed` as nvidia.com/mig-<profile>."""
    mig_profiles: tuple[tuple[str, str], ...] = ()
    """mig on Bottlerocket: GPU model (e.g. `a100.40gb`) -> profile Bottlerocket applies at boot."""

    @property
    def config_name(self) -> str:
        """Name of the device-plugin config entry (and node label value) for this sharing."""
        if self.mode == "time-slicing":
            return f"time-sliced-{self.replicas}"
        if self.mode == "mig":
            return f"mig-{self.mig_strategy}"
        return "whole-gpu"


@dataclass(frozen=True)
class Budget:
    """A Karpenter NodePool disruption budget."""

    nodes: str
    """Most nodes disrupted at once: a count ("1") or a percentage of the pool ("10%")."""
    reasons: tuple[DisruptionReason, ...] = ()
    """Disruption reasons the budget applies to (empty: all)."""
    schedule: str | None = None
    """Cron schedule at which the budget starts being active (None: always); needs `duration`."""
    duration: str | None = None
    """How long it stays active after each `schedule` start, a duration ("8h")."""

    def manifest(self) -> dict[str, object]:
        out: dict[str, object] = {"nodes": self.nodes}
        if self.reasons:
            out["reasons"] = list(self.reasons)
        if self.schedule is not None:
            out["schedule"] = self.schedule
            out["duration"] = self.duration
        return out


@dataclass(frozen=True)
class Limits:
    """A NodePool's `spec.limits`: Karpenter launches no node beyond them."""

    cpu: int
    """vCPUs across the pool's nodes, an integer."""
    memory: str
    """Memory across the pool's nodes, a Kubernetes quantity string ("2048Gi"), not bytes."""
    gpu: int | None = None
    """`nvidia.com/gpu` across the pool's nodes (None: not limited)."""
    neuron: int | None = None
    """`aws.amazon.com/neuron` across the pool's nodes (None: not limited)."""

    def manifest(self) -> dict[str, str]:
        out = {"cpu": str(self.cpu), "memory": self.memory}
        if self.gpu is not None:
            out[GPU_RESOURCE] = str(self.gpu)
        if self.neuron is not None:
            out[NEURON_RESOURCE] = str(self.neuron)
        return out


@dataclass(frozen=True)
class PoolSpec:
    """One Karpenter NodePool and the facts later layers need about it."""

    name: str
    """NodePool name, the pool label of its nodes and, for a GPU pool, its Kueue ResourceFlavor."""
    node_class: str
    """EC2NodeClass its nodes launch from (a `NodeClassSpec.name`)."""
    ami_family: AmiFamily
    """`al2023` or `bottlerocket`, the family of that node class's AMI alias."""
    instance_families: tuple[str, ...]
    """EC2 instance families ("g6e", "p5"; keys of
    `components.instance_families.FAMILIES`)."""
    capacity_types: tuple[CapacityType, ...]
    """`spot`, `on-demand` and/or `reserved`."""
    limits: Limits
    """Most capacity across the pool's nodes."""
    consolidation_policy: Literal["WhenEmpty", "WhenEmptyOrUnderutilized"]
    """Karpenter `disruption.consolidationPolicy`."""
    consolidate_after: str
    """Karpenter `disruption.consolidateAfter`, a duration ("10m")."""
    budgets: tuple[Budget, ...]
    """Disruption budgets."""
    expire_after: str
    """Node lifetime before Karpenter replaces it, a duration ("720h") or "Never"."""
    termination_grace_period: str | None = None
    """Most time a draining node waits for its pods, a duration ("24h"; None: no
    limit)."""
    taints: tuple[Taint, ...] = ()
    """Taints on every node of the pool."""
    labels: tuple[tuple[str, str], ...] = ()
    """Further node labels, (key, value) pairs, beside the pool label."""
    weight: int | None = None
    """NodePool weight: Karpenter tries higher weights first (None: 0)."""
    gpu_sharing: GpuSharing = field(default_factory=GpuSharing)
    """How the NVIDIA device plugin presents the pool's GPUs."""

    @property
    def families(self) -> tuple[InstanceFamily, ...]:
        return tuple(FAMILIES[f] for f in self.instance_families)

    @property
    def accelerator(self) -> Accelerator | None:
        kinds: list[Accelerator | None] = [f.accelerator for f in self.families]
        return kinds[0] if len(set(kinds)) == 1 else None

    @property
    def is_gpu(self) -> bool:
        return self.accelerator == "nvidia"

    @property
    def is_neuron(self) -> bool:
        return self.accelerator == "neuron"

    @property
    def has_nvme(self) -> bool:
        """Every family of the pool has local NVMe instance store (RAID0 on its nodes)."""
        return all(f.local_nvme for f in self.families)

    @property
    def gpu_names(self) -> tuple[str, ...]:
        return tuple(sorted({f.gpu for f in self.families if f.gpu}))

    @property
    def arch(self) -> str:
        return self.families[0].arch

    @property
    def gpu_limit(self) -> int | None:
        return self.limits.gpu

    @property
    def needs_device_plugin_daemonset(self) -> bool:
        """NVIDIA pools on AL2023 need the plugin DaemonSet; Bottlerocket NVIDIA AMIs ship it."""
        return self.is_gpu and self.ami_family != "bottlerocket"

    @property
    def node_labels(self) -> dict[str, str]:
        """Labels on every node of the pool: stable, what Kueue ResourceFlavors select on."""
        labels = {POOL_LABEL: self.name, **dict(self.labels)}
        if self.needs_device_plugin_daemonset and self.gpu_sharing.mode != "none":
            labels[DEVICE_PLUGIN_CONFIG_LABEL] = self.gpu_sharing.config_name
        return labels

    @property
    def required_taint(self) -> Taint | None:
        return GPU if self.is_gpu else NEURON if self.is_neuron else None


# -- overlap -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Selection:
    """What decides whether a pod could land on a pool: weight, taints and instance choice.
    `families`/`capacity_types` None means unrestricted (any)."""

    name: str
    weight: int
    taints: frozenset[tuple[str, str, str]]
    families: frozenset[str] | None
    capacity_types: frozenset[str] | None

    @classmethod
    def of(cls, spec: PoolSpec) -> Selection:
        return cls(
            spec.name,
            spec.weight or 0,
            frozenset((t.key, t.value, t.effect) for t in spec.taints),
            frozenset(spec.instance_families),
            frozenset(spec.capacity_types),
        )


def _shared(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    """Values both allow; None when both are unrestricted; empty when disjoint."""
    if a is None:
        return b
    if b is None:
        return a
    return a & b


@dataclass(frozen=True)
class Overlap:
    first: str
    second: str
    weight: int
    families: frozenset[str] | None
    capacity_types: frozenset[str] | None

    def describe(self) -> str:
        fams = "any family" if self.families is None else ", ".join(sorted(self.families))
        caps = "any" if self.capacity_types is None else ", ".join(sorted(self.capacity_types))
        return (
            f"overlaps pool {self.first!r} (same weight {self.weight}, same taints, shared "
            f"families {fams}, shared capacity types {caps}): a pod could land on either"
        )


def overlaps(pools: Sequence[Selection]) -> list[Overlap]:
    """Pairs of pools a pod could match with equal weight: same taints (a pod tolerating one
    tolerates the other) and instances both may launch. Karpenter then picks either."""
    found = []
    for i, a in enumerate(pools):
        for b in pools[i + 1 :]:
            if a.weight != b.weight or a.taints != b.taints:
                continue
            fams = _shared(a.families, b.families)
            caps = _shared(a.capacity_types, b.capacity_types)
            if (fams is None or fams) and (caps is None or caps):
                found.append(Overlap(a.name, b.name, a.weight, fams, caps))
    return found


def gpu_families(names: Iterable[str]) -> list[str]:
    return [n for n in names if (f := FAMILIES.get(n)) is not None and f.accelerator == "nvidia"]


def neuron_families(names: Iterable[str]) -> list[str]:
    return [n for n in names if (f := FAMILIES.get(n)) is not None and f.accelerator == "neuron"]


def labels_dict(labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))
