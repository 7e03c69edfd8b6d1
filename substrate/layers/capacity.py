"""Capacity layer: Karpenter, EC2NodeClasses, NodePools per GPU family, the NVIDIA device
plugin. The only code that maps `substrate:karpenter` and `substrate:nodePools` to components.

Later layers read `Capacity.pools` (substrate.components.capacity.pools.PoolSpec): each pool's
name, node labels
(`substrate.io/pool`), taints, GPU limit, families and GPU names, capacity types, and whether it
is a GPU, Neuron or NVMe pool. Kueue ResourceFlavors are built from exactly these facts.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from substrate.components.capacity.efa_device_plugin import EfaDevicePlugin
from substrate.components.capacity.karpenter import Karpenter, LogLevel
from substrate.components.capacity.node_classes import NodeClasses, NodeClassSpec
from substrate.components.capacity.node_overlays import NodeOverlays
from substrate.components.capacity.node_overlays import needed as overlays_needed
from substrate.components.capacity.node_pools import NodePools
from substrate.components.capacity.nvidia_device_plugin import NvidiaDevicePlugin
from substrate.components.capacity.pools import (
    Budget,
    GpuSharing,
    Limits,
    MaintenanceWindow,
    PoolSpec,
    labels_dict,
)
from substrate.components.core.labels import GPU_RESOURCE
from substrate.components.workloads.tenancy import EfaNode
from substrate.config import PlatformConfig
from substrate.config.karpenter import CapacityReservationConfig, KarpenterConfig
from substrate.config.node_pools import NodePoolConfig
from substrate.engines.karpenter.instance_types import efa_nodes
from substrate.engines.karpenter.scheduling import order_by_weight
from substrate.layers.foundation import Foundation

# Karpenter rejects these tag keys on EC2NodeClasses; it sets its own ownership tags.
_KARPENTER_OWNED_TAGS = ("kubernetes.io/cluster", "karpenter.sh/", "karpenter.k8s.aws/")


def node_tags(cfg: PlatformConfig, tags: dict[str, str]) -> dict[str, str]:
    """EC2NodeClass tags: Substrate's own (fixed for a stack's life) and the stack's
    `nodeTags`. Karpenter hashes them: any edit here replaces every node of every class."""
    assert cfg.karpenter is not None
    keep = set(cfg.karpenter.node_tags)
    return {
        k: v
        for k, v in tags.items()
        if (k in keep or k not in cfg.tags)
        and not k.startswith(_KARPENTER_OWNED_TAGS)
        and k != "eks:eks-cluster-name"
    }


@dataclass(frozen=True)
class Capacity:
    karpenter: Karpenter | None
    node_classes: NodeClasses | None
    node_pools: NodePools | None
    device_plugin: NvidiaDevicePlugin | None
    pools: tuple[PoolSpec, ...]
    efa_plugin: EfaDevicePlugin | None = None

    def pool(self, name: str) -> PoolSpec:
        for pool in self.pools:
            if pool.name == name:
                return pool
        raise KeyError(f"no node pool {name!r}; pools: {[p.name for p in self.pools]}")

    @property
    def gpu_pools(self) -> tuple[PoolSpec, ...]:
        """NVIDIA pools in the order Karpenter tries them (weight, then name, descending): the
        order Kueue tries their flavors in, so both pick the same pool for a GPU pod that names
        none."""
        by_name = {p.name: p for p in self.pools if p.is_gpu}
        order = order_by_weight(
            [{"metadata": {"name": n}, "spec": {"weight": p.weight}} for n, p in by_name.items()]
        )
        return tuple(by_name[o["metadata"]["name"]] for o in order)

    @property
    def efa_nodes(self) -> dict[str, list[EfaNode]]:
        """Whole-GPU pools that offer EFA -> their instance types' GPUs and EFA interfaces per
        node (Karpenter's generated instance data): what tenants' EFA quota is sized from."""
        return {
            p.name: [EfaNode(gpus=g, interfaces=e) for g, e in efa_nodes(p.instance_families)]
            for p in self.gpu_pools
            if p.offers_efa and p.gpu_resource == GPU_RESOURCE
        }

    @property
    def namespaces(self) -> tuple[str, ...]:
        return tuple(
            ns
            for addon in (self.karpenter, self.device_plugin, self.efa_plugin)
            if addon is not None
            for ns in addon.created_namespaces
        )


def _sharing(pool: NodePoolConfig) -> GpuSharing:
    s = pool.gpu_sharing
    return GpuSharing(s.mode, s.replicas, s.mig_strategy, tuple(sorted(s.mig_profiles.items())))


def pool_spec(name: str, pool: NodePoolConfig, karpenter: KarpenterConfig) -> PoolSpec:
    d = pool.disruption
    budgets = [Budget(d.budget_nodes)]
    window = None
    if d.maintenance_window is not None:
        w = karpenter.maintenance_windows[d.maintenance_window]
        window = MaintenanceWindow(d.maintenance_window, w.schedule, w.duration)
        budgets.append(window.closed_budget())
    return PoolSpec(
        name=name,
        node_class=pool.node_class,
        ami_family=karpenter.node_classes[pool.node_class].ami_family,
        instance_families=tuple(pool.instance_families),
        capacity_types=tuple(pool.capacity_types),
        limits=Limits(pool.limits.cpu, pool.limits.memory, pool.limits.gpu, pool.limits.neuron),
        consolidation_policy=d.consolidation_policy,
        consolidate_after=d.consolidate_after,
        budgets=tuple(budgets),
        expire_after=pool.expire_after,
        termination_grace_period=pool.termination_grace_period,
        taints=tuple(t.spec() for t in pool.taints),
        labels=labels_dict(pool.labels),
        weight=pool.weight,
        gpu_sharing=_sharing(pool),
        kind=pool.kind,
        maintenance_window=window,
        zones=tuple(pool.zones),
    )


def _reservation(term: CapacityReservationConfig) -> dict[str, object]:
    out: dict[str, object] = {}
    if term.id is not None:
        out["id"] = term.id
    if term.tags:
        out["tags"] = dict(sorted(term.tags.items()))
    if term.owner_id is not None:
        out["ownerID"] = term.owner_id
    if term.instance_match_criteria is not None:
        out["instanceMatchCriteria"] = term.instance_match_criteria
    return out


def node_class_specs(
    karpenter: KarpenterConfig, pools: tuple[PoolSpec, ...]
) -> list[NodeClassSpec]:
    specs = []
    for name, nc in sorted(karpenter.node_classes.items()):
        users = [p for p in pools if p.node_class == name]
        sharing = next((p.gpu_sharing for p in users if p.is_gpu), GpuSharing())
        specs.append(
            NodeClassSpec(
                name=name,
                ami_alias=nc.ami_alias,
                volume_gib=nc.volume_gib,
                volume_iops=nc.volume_iops,
                volume_throughput=nc.volume_throughput,
                fast_image_pull=nc.fast_image_pull,
                # RAID0 when any pool of the class launches NVMe families; instances without
                # instance store fall back to the EBS volume (Karpenter's ephemeralStorage()).
                raid0=any(f.local_nvme for p in users for f in p.families),
                capacity_reservations=tuple(_reservation(t) for t in nc.capacity_reservations),
                gpu_sharing=sharing if nc.ami_family == "bottlerocket" else GpuSharing(),
                placement_group=nc.placement_group,
            )
        )
    return specs


def build(cfg: PlatformConfig, foundation: Foundation) -> Capacity:
    karpenter_cfg = cfg.karpenter
    if karpenter_cfg is None:
        return Capacity(None, None, None, None, ())
    pools = tuple(pool_spec(n, p, karpenter_cfg) for n, p in sorted(cfg.node_pools.items()))
    tags = foundation.tags
    cluster = foundation.cluster
    kubernetes = foundation.kubernetes
    karpenter = Karpenter(
        "karpenter",
        {
            "cluster_name": cluster.cluster_name,
            "cluster_security_group_id": cluster.cluster_security_group_id,
            "volume_kms_key_arn": cluster.volume_key_arn,
            "queue_name": f"{cfg.cluster_name}-karpenter",
            "replicas": karpenter_cfg.replicas,
            "log_level": LogLevel(karpenter_cfg.log_level),
            "controller_cpu": karpenter_cfg.controller_cpu,
            "controller_memory": karpenter_cfg.controller_memory,
            "zonal_shift": karpenter_cfg.zonal_shift,
            # Karpenter reads NodeOverlays (alpha) only with this gate on; NodeRepair (alpha)
            # as the stack says.
            "feature_gates": {
                **({"nodeOverlay": True} if overlays_needed(pools) else {}),
                **({"nodeRepair": True} if karpenter_cfg.node_repair else {}),
            },
            "tags": tags,
            "image_cache": foundation.image_cache,
        },
        opts=pulumi.ResourceOptions.merge(
            kubernetes,
            pulumi.ResourceOptions(depends_on=[foundation.system_nodes, foundation.core_addons]),
        ),
    )
    after_karpenter = pulumi.ResourceOptions.merge(
        kubernetes, pulumi.ResourceOptions(depends_on=[karpenter])
    )
    node_classes = NodeClasses(
        "node-classes",
        {
            "cluster_name": cfg.cluster_name,
            "node_role_name": karpenter.node_role_name,
            "volume_kms_key_arn": cluster.volume_key_arn,
            "classes": node_class_specs(karpenter_cfg, pools),
            "tags": node_tags(cfg, tags),
            "resource_tags": tags,
        },
        opts=after_karpenter,
    )
    node_pools = NodePools(
        "node-pools",
        {"pools": pools},
        opts=pulumi.ResourceOptions.merge(
            kubernetes, pulumi.ResourceOptions(depends_on=[karpenter, node_classes])
        ),
    )
    if overlays_needed(pools):
        NodeOverlays(
            "node-overlays",
            {"pools": pools},
            opts=pulumi.ResourceOptions.merge(
                kubernetes, pulumi.ResourceOptions(depends_on=[karpenter])
            ),
        )
    plugin_pools = [p for p in pools if p.needs_device_plugin_daemonset]
    device_plugin = None
    if plugin_pools:
        device_plugin = NvidiaDevicePlugin(
            "nvidia-device-plugin",
            {
                "cluster_name": cluster.cluster_name,
                "pools": [p.name for p in plugin_pools],
                "sharings": [p.gpu_sharing for p in plugin_pools if p.gpu_sharing.mode != "none"],
                "tags": tags,
            },
            opts=kubernetes,
        )
    efa_pools = [p for p in pools if p.offers_efa]
    efa_plugin = None
    if efa_pools:
        taints = {(t.key, t.value, t.effect) for p in efa_pools for t in p.taints}
        efa_plugin = EfaDevicePlugin(
            "efa-device-plugin",
            {
                "cluster_name": cluster.cluster_name,
                "pools": [p.name for p in efa_pools],
                "tolerations": [
                    {"key": k, "operator": "Equal", "value": v, "effect": e}
                    for k, v, e in sorted(taints)
                ],
                "region": cfg.region,
                "tags": tags,
            },
            opts=kubernetes,
        )
    pulumi.export("nodePools", [p.name for p in pools])
    return Capacity(karpenter, node_classes, node_pools, device_plugin, pools, efa_plugin)
