"""The choices and (key, value) pairs of a Karpenter pool's data model
(`substrate.components.capacity.pools`), as StrEnums and small frozen dataclasses Pulumi's schema
analyzer reads. Pure Python, like the model."""

from dataclasses import dataclass
from enum import StrEnum


class CapacityType(StrEnum):
    """How a pool's EC2 capacity is bought (`karpenter.sh/capacity-type`)."""

    SPOT = "spot"
    ON_DEMAND = "on-demand"
    RESERVED = "reserved"
    """EC2 capacity reservations the node class selects."""


class AmiFamily(StrEnum):
    """The family of a node class's AMI alias."""

    AL2023 = "al2023"
    BOTTLEROCKET = "bottlerocket"


class SharingMode(StrEnum):
    """How the NVIDIA device plugin presents a node's GPUs."""

    NONE = "none"
    """Whole GPUs."""
    TIME_SLICING = "time-slicing"
    """Several pods per GPU, time-sliced."""
    MIG = "mig"
    """Multi-Instance GPU slices."""


class MigStrategy(StrEnum):
    """How MIG slices are advertised."""

    SINGLE = "single"
    """As nvidia.com/gpu."""
    MIXED = "mixed"
    """As nvidia.com/mig-<profile>."""


class DisruptionReason(StrEnum):
    """A Karpenter disruption reason a budget applies to."""

    UNDERUTILIZED = "Underutilized"
    EMPTY = "Empty"
    DRIFTED = "Drifted"


class PoolKind(StrEnum):
    """The disruption contract a pool follows."""

    GENERAL = "general"
    TRAINING = "training"
    INFERENCE = "inference"
    AGENTS = "agents"


class TaintEffect(StrEnum):
    """A Kubernetes taint effect."""

    NO_SCHEDULE = "NoSchedule"
    PREFER_NO_SCHEDULE = "PreferNoSchedule"
    NO_EXECUTE = "NoExecute"


class ConsolidationPolicy(StrEnum):
    """Karpenter `disruption.consolidationPolicy`."""

    WHEN_EMPTY = "WhenEmpty"
    """Only empty nodes are consolidated (never evicts running work)."""
    WHEN_EMPTY_OR_UNDERUTILIZED = "WhenEmptyOrUnderutilized"
    """Underutilized nodes are consolidated too."""


@dataclass(frozen=True)
class MigProfile:
    """The MIG profile Bottlerocket applies at boot to one GPU model."""

    gpu: str
    """GPU model, e.g. `a100.40gb`."""
    profile: str
    """MIG profile, e.g. `1g.5gb`."""


@dataclass(frozen=True)
class NodeLabel:
    """A label on every node of a pool."""

    key: str
    """Label key."""
    value: str
    """Label value."""
