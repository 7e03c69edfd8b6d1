"""The data model of a Karpenter pool, shared by config validation, the NodePools component,
the policy pack and later layers (Kueue ResourceFlavors select on `PoolSpec.node_labels`).

Pure Python: no Pulumi import, so stack-file checks and policies can use it cheaply.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from substrate.components.capacity.instance_families import (
    FAMILIES,
    Accelerator,
    InstanceFamily,
    family,
)
from substrate.components.capacity.pool_choices import (
    AmiFamily,
    CapacityType,
    ConsolidationPolicy,
    DisruptionReason,
    MigProfile,
    MigStrategy,
    NodeLabel,
    PoolKind,
    SharingMode,
    TaintEffect,
)
from substrate.components.core.labels import (
    DEVICE_PLUGIN_CONFIG_LABEL,
    GPU_RESOURCE,
    GPU_SHARED_RESOURCE,
    GPU_TAINT,
    NEURON_RESOURCE,
    NEURON_TAINT,
    POOL_LABEL,
)

POOL_KIND_LABEL = "substrate.io/pool-kind"
"""NodePool label (on the NodePool object, not its nodes): the pool's disruption contract."""


@dataclass(frozen=True)
class Taint:
    """A taint on every node of a pool: pods need the matching toleration."""

    key: str
    """Taint key."""
    value: str
    """Taint value."""
    effect: TaintEffect
    """Kubernetes taint effect: pods without a matching toleration are kept off (or evicted)."""

    def manifest(self) -> dict[str, str]:
        return {"key": self.key, "value": self.value, "effect": str(self.effect)}

    def __str__(self) -> str:
        return f"{self.key}={self.value}:{self.effect}"


GPU = Taint(GPU_TAINT["key"], GPU_TAINT["value"], TaintEffect.NO_SCHEDULE)
NEURON = Taint(NEURON_TAINT["key"], NEURON_TAINT["value"], TaintEffect.NO_SCHEDULE)


@dataclass(frozen=True)
class GpuSharing:
    """How the NVIDIA device plugin presents a node's GPUs."""

    mode: SharingMode = SharingMode.NONE
    """`none` (whole GPUs), `time-slicing` (`replicas` pods per GPU) or `mig` (MIG slices)."""
    replicas: int = 1
    """time-slicing: pods sharing each GPU (advertised as that many nvidia.com/gpu.shared)."""
    mig_strategy: MigStrategy = MigStrategy.SINGLE
    """mig: `single` advertises slices as nvidia.com/gpu, `mixed` as nvidia.com/mig-<profile>."""
    mig_profiles: Sequence[MigProfile] = ()
    """mig on Bottlerocket: the profile Bottlerocket applies at boot, per GPU model."""

    @property
    def resource(self) -> str:
        """The resource its nodes advertise GPUs as (one unit everywhere for the pool)."""
        return GPU_SHARED_RESOURCE if self.mode == "time-slicing" else GPU_RESOURCE

    @property
    def units_per_gpu(self) -> int:
        """Units of `resource` per physical GPU."""
        return self.replicas if self.mode == "time-slicing" else 1

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
    reasons: Sequence[DisruptionReason] = ()
    """Disruption reasons the budget applies to (empty: all)."""
    schedule: str | None = None
    """Cron schedule at which the budget starts being active (None: always); needs `duration`."""
    duration: str | None = None
    """How long it stays active after each `schedule` start, a duration ("8h")."""

    def manifest(self) -> dict[str, object]:
        out: dict[str, object] = {"nodes": self.nodes}
        if self.reasons:
            out["reasons"] = [str(r) for r in self.reasons]
        if self.schedule is not None:
            out["schedule"] = self.schedule
            out["duration"] = self.duration
        return out


_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
DAY = 24 * 60
WEEK = 7 * DAY


def _minutes(duration: str) -> int:
    """A budget duration ("8h", "30m", "8h30m") in minutes."""
    hours, _, rest = duration.partition("h") if "h" in duration else ("0", "", duration)
    return int(hours or 0) * 60 + int(rest.rstrip("m") or 0)


@dataclass(frozen=True)
class MaintenanceWindow:
    """When drifted nodes may be replaced: from `schedule` (UTC cron, daily `M H * * *` or
    weekly `M H * * D`) for `duration`. Karpenter budgets can only close a NodePool for a
    scheduled span, so the window is rendered as its complement: a `nodes: "0"` budget for
    `Drifted` that starts when the window ends and lasts until it opens again."""

    name: str
    """The window's name (a key of `substrate:karpenter.maintenanceWindows`)."""
    schedule: str
    """When it opens: a UTC cron expression, daily `M H * * *` or weekly `M H * * D`."""
    duration: str
    """How long it stays open, a Go duration ("4h")."""

    @property
    def _fields(self) -> tuple[int, int, int | None]:
        minute, hour, _dom, _month, dow = self.schedule.split()
        day = None if dow == "*" else (_DAYS.index(dow) if dow in _DAYS else int(dow))
        return int(minute), int(hour), day

    @property
    def period(self) -> int:
        """Minutes between two openings: a day or a week."""
        return DAY if self._fields[2] is None else WEEK

    @property
    def minutes(self) -> int:
        return _minutes(self.duration)

    def closed_budget(self) -> Budget:
        minute, hour, day = self._fields
        start = (day or 0) * DAY + hour * 60 + minute + self.minutes
        closed = self.period - self.minutes
        end_day, rest = divmod(start % self.period, DAY)
        dow = "*" if day is None else str(end_day)
        schedule = f"{rest % 60} {rest // 60} * * {dow}"
        hours, minutes = divmod(closed, 60)
        length = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
        return Budget("0", (DisruptionReason.DRIFTED,), schedule, length)


@dataclass(frozen=True)
class Limits:
    """A NodePool's `spec.limits`: Karpenter launches no node beyond them."""

    cpu: int
    """vCPUs across the pool's nodes, an integer."""
    memory: str
    """Memory across the pool's nodes, a Kubernetes quantity string ("2048Gi"), not bytes."""
    gpu: int | None = None
    """Physical GPUs across the pool's nodes (None: not limited); the NodePool limits them in
    the pool's unit (`manifest`)."""
    neuron: int | None = None
    """`aws.amazon.com/neuron` across the pool's nodes (None: not limited)."""

    def manifest(self, sharing: GpuSharing | None = None) -> dict[str, str]:
        """NodePool `limits`; the GPU limit in the pool's unit (slices on a time-sliced pool,
        which is what Karpenter counts: NodeOverlay capacity before a node exists, the device
        plugin's advertised slices after)."""
        sharing = sharing or GpuSharing()
        out = {"cpu": str(self.cpu), "memory": self.memory}
        if self.gpu is not None:
            out[sharing.resource] = str(self.gpu * sharing.units_per_gpu)
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
    instance_families: Sequence[str]
    """EC2 instance families ("g6e", "p5"; keys of
    `substrate.components.capacity.instance_families.FAMILIES`)."""
    capacity_types: Sequence[CapacityType]
    """`spot`, `on-demand` and/or `reserved`."""
    limits: Limits
    """Most capacity across the pool's nodes."""
    consolidation_policy: ConsolidationPolicy
    """Karpenter `disruption.consolidationPolicy`."""
    consolidate_after: str
    """Karpenter `disruption.consolidateAfter`, a duration ("10m")."""
    budgets: Sequence[Budget]
    """Disruption budgets."""
    expire_after: str
    """Node lifetime before Karpenter replaces it, a duration ("720h") or "Never"."""
    termination_grace_period: str | None = None
    """Most time a draining node waits for its pods, a duration ("24h"; None: no
    limit)."""
    taints: Sequence[Taint] = ()
    """Taints on every node of the pool."""
    labels: Sequence[NodeLabel] = ()
    """Further node labels beside the pool label."""
    weight: int | None = None
    """NodePool weight: Karpenter tries higher weights first (None: 0)."""
    gpu_sharing: GpuSharing = field(default_factory=GpuSharing)
    """How the NVIDIA device plugin presents the pool's GPUs."""
    kind: PoolKind = PoolKind.GENERAL
    """The disruption contract the pool follows: training, inference, agents or general."""
    maintenance_window: MaintenanceWindow | None = None
    """Drift is allowed only inside this window (None: whenever the budgets allow)."""
    zones: Sequence[str] = ()
    """Availability Zones the pool may launch in (empty: every zone of its subnets)."""

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
        """Physical GPUs the pool may launch."""
        return self.limits.gpu

    @property
    def gpu_resource(self) -> str:
        """The pool's GPU unit: what its nodes advertise, Kueue quotas and NodePool limits."""
        return self.gpu_sharing.resource

    @property
    def gpu_units_limit(self) -> int | None:
        """The GPU limit in the pool's unit."""
        gpus = self.limits.gpu
        return None if gpus is None else gpus * self.gpu_sharing.units_per_gpu

    @property
    def needs_device_plugin_daemonset(self) -> bool:
        """NVIDIA pools on AL2023 need the plugin DaemonSet; Bottlerocket NVIDIA AMIs ship it."""
        return self.is_gpu and self.ami_family != "bottlerocket"

    @property
    def node_labels(self) -> dict[str, str]:
        """Labels on every node of the pool: stable, what Kueue ResourceFlavors select on."""
        labels = {POOL_LABEL: self.name, **{label.key: label.value for label in self.labels}}
        if self.needs_device_plugin_daemonset and self.gpu_sharing.mode != "none":
            labels[DEVICE_PLUGIN_CONFIG_LABEL] = self.gpu_sharing.config_name
        return labels

    @property
    def offers_efa(self) -> bool:
        """A training pool whose every family has EFA sizes: its nodes get EFA interfaces
        (Karpenter attaches them when a pod requests `vpc.amazonaws.com/efa`) and run the EFA
        device plugin, which advertises that resource."""
        families = [family(f) for f in self.instance_families]
        return self.kind == "training" and all(f is not None and f.efa for f in families)

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
    def of(cls, spec: PoolSpec) -> "Selection":
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


def labels_dict(labels: Mapping[str, str]) -> tuple[NodeLabel, ...]:
    return tuple(NodeLabel(k, v) for k, v in sorted(labels.items()))
