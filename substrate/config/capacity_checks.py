"""Rules spanning `substrate:karpenter`, `substrate:nodePools` and the environment tier."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components import validators
from components.instance_families import FAMILIES
from components.instance_sizes import SMALLEST, Size
from components.pools import Selection, overlaps
from components.tenancy import format_bytes, memory_bytes
from substrate.config.node_pools import NodePoolConfig
from substrate.config.schema import ConfigError

if TYPE_CHECKING:
    from substrate.config.platform import PlatformConfig

POOLS = "substrate:nodePools"
CLASSES = "substrate:karpenter.nodeClasses"


def check_capacity(cfg: PlatformConfig) -> None:
    pools = cfg.node_pools
    karpenter = cfg.karpenter
    if karpenter is None:
        if pools:
            raise ConfigError(
                POOLS,
                sorted(pools),
                "declares node pools but substrate:karpenter is not set",
                "a substrate:karpenter section with nodeClasses, or no node pools",
            )
        return
    classes = karpenter.node_classes
    for name, pool in pools.items():
        path = f"{POOLS}.{name}"
        if pool.node_class not in classes:
            raise ConfigError(
                f"{path}.nodeClass",
                pool.node_class,
                "is not a node class in substrate:karpenter.nodeClasses",
                ", ".join(sorted(classes)),
            )
        node_class = classes[pool.node_class]
        if "reserved" in pool.capacity_types and not node_class.capacity_reservations:
            raise ConfigError(
                f"{path}.capacityTypes",
                pool.capacity_types,
                f"includes reserved but node class {pool.node_class!r} selects no "
                "capacityReservations",
                f"capacityReservations on {CLASSES}.{pool.node_class}, or no reserved type",
            )
        if pool.disruption.freeze_during_business_hours and karpenter.business_hours is None:
            raise ConfigError(
                f"{path}.disruption.freezeDuringBusinessHours",
                True,
                "needs business hours but substrate:karpenter.businessHours is not set",
                "substrate:karpenter.businessHours with schedule and duration",
            )
        if node_class.ami_family == "al2023" and pool.gpu_sharing.mig_profiles:
            raise ConfigError(
                f"{path}.gpuSharing.migProfiles",
                pool.gpu_sharing.mig_profiles,
                f"cannot be applied by the AL2023 AMI of node class {pool.node_class!r}",
                "migProfiles only with a Bottlerocket node class (AL2023 GPUs must be "
                "pre-partitioned)",
            )
        if (
            node_class.ami_family == "bottlerocket"
            and pool.gpu_sharing.mode == "mig"
            and not pool.gpu_sharing.mig_profiles
        ):
            raise ConfigError(
                f"{path}.gpuSharing.migProfiles",
                {},
                "is empty, so Bottlerocket would leave MIG disabled",
                'GPU model -> profile, e.g. {"a100.40gb": "1g.5gb"}',
            )
    _check_limits(pools)
    _check_bottlerocket_sharing(
        pools, {n for n, c in classes.items() if c.ami_family == "bottlerocket"}
    )
    _check_overlap(pools)
    if cfg.environment.production:
        _production(cfg)


def _accelerator(pool: NodePoolConfig) -> str | None:
    return FAMILIES[pool.instance_families[0]].accelerator


def _check_bottlerocket_sharing(pools: dict[str, NodePoolConfig], bottlerocket: set[str]) -> None:
    """Bottlerocket configures its built-in device plugin per node class (user data), so all
    GPU pools on one Bottlerocket class must share GPUs the same way."""
    first: dict[str, tuple[str, NodePoolConfig]] = {}
    for name, pool in pools.items():
        if _accelerator(pool) != "nvidia" or pool.node_class not in bottlerocket:
            continue
        seen = first.setdefault(pool.node_class, (name, pool))
        if seen[1].gpu_sharing != pool.gpu_sharing:
            raise ConfigError(
                f"{POOLS}.{name}.gpuSharing",
                pool.gpu_sharing.mode,
                f"differs from pool {seen[0]!r} on the same node class {pool.node_class!r}",
                "one gpuSharing per node class (sharing is configured per EC2NodeClass on "
                "Bottlerocket); use a node class per sharing mode",
            )


def _check_limits(pools: dict[str, NodePoolConfig]) -> None:
    """Karpenter stops launching a pool's nodes at the first limit reached: the limits must fit
    one instance of every family the pool may launch, and an accelerator pool's CPU and memory
    limits must let it reach its GPU (or Neuron) limit."""
    for name, pool in pools.items():
        path = f"{POOLS}.{name}.limits"
        limits = pool.limits
        memory_mib = memory_bytes(limits.memory) // 2**20
        devices = limits.gpu if _accelerator(pool) == "nvidia" else limits.neuron
        for family in pool.instance_families:
            size = SMALLEST[family]
            if (
                size.vcpus > limits.cpu
                or size.memory_mib > memory_mib
                or (devices is not None and size.accelerators > devices)
            ):
                shown = {"cpu": limits.cpu, "memory": limits.memory}
                if devices is not None:
                    shown["gpu" if _accelerator(pool) == "nvidia" else "neuron"] = devices
                raise ConfigError(
                    path,
                    shown,
                    f"cannot fit one {size.name} ({_size(size, pool)}), the smallest {family} "
                    f"instance, so Karpenter could never launch the pool's {family} nodes",
                    "limits that fit the smallest instance of every family in instanceFamilies",
                )
        if devices is not None:
            for family in pool.instance_families:
                _check_reach(path, pool, family, devices, memory_mib)


def _check_reach(
    path: str, pool: NodePoolConfig, family: str, devices: int, memory_mib: int
) -> None:
    size = SMALLEST[family]
    device = "nvidia.com/gpu" if _accelerator(pool) == "nvidia" else "aws.amazon.com/neuron"
    unit = "GPU" if _accelerator(pool) == "nvidia" else "Neuron device"
    nodes = -(-devices // size.accelerators)
    for key, have, per, need, show in (
        ("cpu", pool.limits.cpu, size.vcpus, nodes * size.vcpus, str),
        (
            "memory",
            memory_mib,
            size.memory_mib,
            nodes * size.memory_mib,
            lambda mib: format_bytes(mib * 2**20),
        ),
    ):
        reach = have // per * size.accelerators
        if reach < devices:
            per_device = (
                size.vcpus_per_accelerator if key == "cpu" else size.memory_mib_per_accelerator
            )
            amount = (
                f"{per_device} vCPUs" if key == "cpu" else format_bytes(int(per_device) * 2**20)
            )
            raise ConfigError(
                f"{path}.{key}",
                pool.limits.cpu if key == "cpu" else pool.limits.memory,
                f"lets the pool reach only {reach} of its {devices} {device}: every {family} "
                f"instance has at least {amount} per {unit}",
                f"at least {show(need)}, or a lower limits.{'gpu' if unit == 'GPU' else 'neuron'}",
            )


def _size(size: Size, pool: NodePoolConfig) -> str:
    text = f"{size.vcpus} vCPUs, {format_bytes(size.memory_mib * 2**20)}"
    if size.accelerators:
        unit = "GPU" if _accelerator(pool) == "nvidia" else "Neuron device"
        text += f", {size.accelerators} {unit}{'s' if size.accelerators > 1 else ''}"
    return text


def _check_overlap(pools: dict[str, NodePoolConfig]) -> None:
    selections = [
        Selection(
            name,
            pool.weight or 0,
            frozenset((t.key, t.value, t.effect) for t in pool.taints),
            frozenset(pool.instance_families),
            frozenset(pool.capacity_types),
        )
        for name, pool in pools.items()
    ]
    found = overlaps(selections)
    if found:
        clash = found[0]
        raise ConfigError(
            f"{POOLS}.{clash.second}.instanceFamilies",
            pools[clash.second].instance_families,
            clash.describe(),
            "disjoint instanceFamilies or capacityTypes, different taints, or different weights",
        )


def _production(cfg: PlatformConfig) -> None:
    tier = "when environment.tier is production"
    assert cfg.karpenter is not None
    for name, node_class in cfg.karpenter.node_classes.items():
        if not validators.alias_is_pinned(node_class.ami_alias):
            raise ConfigError(
                f"{CLASSES}.{name}.amiAlias",
                node_class.ami_alias,
                "floats to every new AMI release in a production environment",
                f'a pinned version such as "al2023@v20261112" {tier}',
            )
    for name, pool in cfg.node_pools.items():
        path = f"{POOLS}.{name}"
        if "spot" in pool.capacity_types:
            raise ConfigError(
                f"{path}.capacityTypes",
                pool.capacity_types,
                "runs production nodes on interruptible spot capacity",
                f"on-demand and/or reserved {tier}",
            )
        if _accelerator(pool) is None:
            continue
        if pool.disruption.budget_nodes not in ("0", "1"):
            raise ConfigError(
                f"{path}.disruption.budgetNodes",
                pool.disruption.budget_nodes,
                "may disrupt more than one accelerator node at a time in production",
                f'"1" or "0" {tier}',
            )
        if not pool.disruption.freeze_during_business_hours:
            raise ConfigError(
                f"{path}.disruption.freezeDuringBusinessHours",
                False,
                "lets drift and consolidation disrupt accelerator nodes during business hours",
                f"true {tier}",
            )
