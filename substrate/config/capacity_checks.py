"""Rules spanning `substrate:karpenter`, `substrate:nodePools` and the environment tier."""

from __future__ import annotations

from typing import TYPE_CHECKING

from substrate.components.capacity.instance_families import FAMILIES
from substrate.components.capacity.instance_sizes import SMALLEST, Size
from substrate.components.capacity.pools import Selection, overlaps
from substrate.components.core import validators
from substrate.components.workloads.tenancy import format_bytes, memory_bytes
from substrate.config.node_pools import NodePoolConfig
from substrate.config.schema import ConfigError
from substrate.engines.karpenter.scheduling import order_by_weight

if TYPE_CHECKING:
    from substrate.config.platform import PlatformConfig

POOLS = "substrate:nodePools"
MIG_REFUSED = {
    "al2023": (
        "would leave the GPUs unpartitioned: AL2023 nodes boot with MIG disabled and Substrate "
        "installs no MIG manager",
        '"none" or "time-slicing"',
    ),
    "bottlerocket": (
        "would make Karpenter plan and limit the pool in physical GPUs while its nodes advertise "
        "MIG instances: Substrate renders no NodeOverlay for MIG capacity",
        '"none" or "time-slicing"',
    ),
}
"""Why `gpuSharing.mode: mig` is refused: no accepted setting may be a no-op or mis-count."""
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
    _check_node_tags(cfg)
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
        window = pool.disruption.maintenance_window
        if window is not None and window not in karpenter.maintenance_windows:
            raise ConfigError(
                f"{path}.disruption.maintenanceWindow",
                window,
                "is not a window in substrate:karpenter.maintenanceWindows",
                ", ".join(sorted(karpenter.maintenance_windows)) or "no windows are declared",
            )
        _check_zones(cfg, path, pool, node_class.placement_group)
        if pool.gpu_sharing.mode == "mig":
            raise ConfigError(f"{path}.gpuSharing.mode", "mig", *MIG_REFUSED[node_class.ami_family])
    _check_limits(pools)
    _check_bottlerocket_sharing(
        pools, {n for n, c in classes.items() if c.ami_family == "bottlerocket"}
    )
    _check_overlap(pools)
    _check_untargeted_gpu_pods(pools)
    if cfg.environment.production:
        _production(cfg)


def _check_zones(
    cfg: PlatformConfig, path: str, pool: NodePoolConfig, placement: str | None
) -> None:
    known = cfg.network.availability_zones
    for i, zone in enumerate(pool.zones):
        if zone not in known:
            raise ConfigError(
                f"{path}.zones[{i}]",
                zone,
                "is not an Availability Zone of substrate:network",
                ", ".join(known),
            )
    if placement == "cluster" and len(pool.zones) != 1:
        raise ConfigError(
            f"{path}.zones",
            pool.zones,
            f"spans {len(pool.zones) or 'every'} zone(s) but node class {pool.node_class!r} "
            "launches into a cluster placement group, which lives in one Availability Zone",
            "exactly one zone, e.g. [" + known[0] + "]",
        )


def _check_untargeted_gpu_pods(pools: dict[str, NodePoolConfig]) -> None:
    """A GPU pod that names no pool lands on the pool Karpenter tries first among those whose
    taints it tolerates and whose GPU unit it requests: never a training pool's expensive
    families by default."""
    gpu = {n: p for n, p in pools.items() if _accelerator(p) == "nvidia"}
    for name, pool in gpu.items():
        rivals = [
            n
            for n, p in gpu.items()
            if n != name and p.taints == pool.taints and p.gpu_sharing.mode == pool.gpu_sharing.mode
        ]
        if pool.kind != "training" or not rivals:
            continue
        order = order_by_weight(
            [{"metadata": {"name": n}, "spec": {"weight": gpu[n].weight}} for n in [name, *rivals]]
        )
        if order[0]["metadata"]["name"] == name:
            weights = ", ".join(f"{n}: {gpu[n].weight or 0}" for n in [name, *rivals])
            raise ConfigError(
                f"{POOLS}.{name}.weight",
                pool.weight,
                f"makes Karpenter launch a GPU pod that names no pool on training pool "
                f"{name!r} ({', '.join(pool.instance_families)}) (weights {weights}; equal "
                "weights go in descending name order)",
                f"a higher weight on {rivals[0]!r} than on {name!r}",
            )


def _check_node_tags(cfg: PlatformConfig) -> None:
    assert cfg.karpenter is not None
    for i, key in enumerate(cfg.karpenter.node_tags):
        if key not in cfg.tags:
            raise ConfigError(
                f"substrate:karpenter.nodeTags[{i}]",
                key,
                "is not a key of substrate:tags",
                ", ".join(sorted(cfg.tags)) or "keys of substrate:tags",
            )


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
        if _accelerator(pool) is None and pool.kind == "general":
            continue
        if pool.disruption.budget_nodes not in ("0", "1"):
            raise ConfigError(
                f"{path}.disruption.budgetNodes",
                pool.disruption.budget_nodes,
                f"may disrupt more than one {_what(pool)} node at a time in production",
                f'"1" or "0" {tier}',
            )
        if pool.disruption.maintenance_window is None:
            raise ConfigError(
                f"{path}.disruption.maintenanceWindow",
                None,
                f"lets drift replace {_what(pool)} nodes at any time in production",
                f"a window from substrate:karpenter.maintenanceWindows {tier}",
            )


def _what(pool: NodePoolConfig) -> str:
    return "accelerator" if _accelerator(pool) is not None else pool.kind
