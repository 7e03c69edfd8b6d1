"""Foundation layer: network, EKS control plane, system nodes, managed add-ons, storage."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from substrate.components.cluster import image_cache
from substrate.components.cluster.cluster_addons import ClusterAddons, ClusterAddonsArgs
from substrate.components.cluster.eks_cluster import EksCluster, SupportType
from substrate.components.cluster.load_balancer_controller import NAME as LB_CONTROLLER
from substrate.components.cluster.load_balancer_controller import LoadBalancerController
from substrate.components.cluster.network import FlowLogTraffic, NatGateways, Network, NetworkArgs
from substrate.components.cluster.pull_through_cache import ImageCache
from substrate.components.cluster.storage import ReclaimPolicy, StorageClasses
from substrate.components.cluster.system_node_group import (
    AmiType,
    NodeGroupCapacity,
    SystemNodeGroup,
)
from substrate.components.core.versions import OPTIONAL_EKS_ADDONS
from substrate.config import PlatformConfig

NETWORKING_ADDONS = ("eks-pod-identity-agent", "vpc-cni", "kube-proxy")
CORE_ADDONS = ("coredns", "aws-ebs-csi-driver", "snapshot-controller")


@dataclass(frozen=True)
class Foundation:
    network: Network
    cluster: EksCluster
    system_nodes: SystemNodeGroup
    core_addons: ClusterAddons
    storage: StorageClasses
    tags: dict[str, str]
    namespaces: tuple[str, ...] = ()
    """Namespaces the layer's Helm add-ons create (admission control stays out of them)."""
    image_cache: image_cache.CacheTarget | None = None
    """The pull-through cache the platform charts pull their images through, when the stack
    allows its account's ECR registry (substrate.components.cluster.image_cache)."""

    @property
    def kubernetes(self) -> pulumi.ResourceOptions:
        """Options that point a component's Kubernetes children at this cluster."""
        return pulumi.ResourceOptions(providers={"kubernetes": self.cluster.provider})


def platform_tags(cfg: PlatformConfig) -> dict[str, str]:
    """Substrate's own tags, then the stack's (the stack file wins on conflicts)."""
    return {
        "substrate:project": pulumi.get_project(),
        "substrate:stack": pulumi.get_stack(),
        "substrate:environment": cfg.environment.name,
        "substrate:cluster": cfg.cluster_name,
        "managed-by": "pulumi",
        **cfg.tags,
    }


def network_args(cfg: PlatformConfig, tags: dict[str, str]) -> NetworkArgs:
    net = cfg.network
    args: NetworkArgs = {
        "cluster_name": cfg.cluster_name,
        "availability_zones": list(net.availability_zones),
        "nat_gateways": NatGateways(net.nat_gateways),
        "flow_logs": {
            "retention_days": net.flow_logs.retention_days,
            "traffic_type": FlowLogTraffic(net.flow_logs.traffic_type),
        }
        if net.flow_logs.enabled
        else None,
        "tags": tags,
        "protect": cfg.protection.protect,
    }
    if net.existing is not None:
        args["existing"] = {
            "vpc_id": net.existing.vpc_id,
            "private_subnet_ids": list(net.existing.private_subnet_ids),
            "public_subnet_ids": list(net.existing.public_subnet_ids),
        }
    else:
        args["vpc_cidr"] = str(net.vpc_cidr)
        args["private_subnet_cidrs"] = [str(c) for c in net.private_subnet_cidrs]
        args["public_subnet_cidrs"] = [str(c) for c in net.public_subnet_cidrs]
    return args


def private_sources(cfg: PlatformConfig) -> tuple[list[str], list[str]]:
    """CIDRs and security groups that reach the private endpoint: those the stack lists, and
    the deployer's when it deploys over the private endpoint (substrate:deploy.apiAccess)."""
    endpoint, deploy = cfg.cluster.endpoint, cfg.deploy
    cidrs = list(endpoint.private_access_cidrs)
    groups = list(endpoint.private_access_security_groups)
    if deploy.api_access == "private":
        cidrs += [c for c in deploy.source_cidrs if c not in cidrs]
        groups += [g for g in deploy.source_security_groups if g not in groups]
    return cidrs, groups


def account_registry(cfg: PlatformConfig) -> str | None:
    """The account's private ECR registry in the stack's Region, from allowedRegistries."""
    return image_cache.account_registry(cfg.admission.allowed_registries, cfg.region)


def build(cfg: PlatformConfig) -> Foundation:
    tags = platform_tags(cfg)
    network = Network("network", network_args(cfg, tags))
    cluster = EksCluster(
        "cluster",
        {
            "cluster_name": cfg.cluster_name,
            "kubernetes_version": cfg.cluster.version,
            "vpc_id": network.vpc_id,
            "subnet_ids": network.private_subnet_ids,
            "admin_principal_arns": list(cfg.cluster.admins),
            "public_access_cidrs": list(cfg.cluster.endpoint.public_access_cidrs)
            if cfg.cluster.endpoint.public_access
            else [],
            "private_access_cidrs": private_sources(cfg)[0],
            "private_access_security_groups": private_sources(cfg)[1],
            "viewer_principal_arns": [cfg.deploy.preview_role] if cfg.deploy.preview_role else [],
            "log_retention_days": cfg.cluster.log_retention_days,
            "deletion_protection": cfg.cluster.deletion_protection,
            "support_type": SupportType(cfg.cluster.support_type),
            "tags": tags,
            "protect": cfg.protection.protect,
        },
    )

    def addons(group: tuple[str, ...]) -> ClusterAddonsArgs:
        return {
            "cluster_name": cluster.cluster_name,
            "kubernetes_version": cfg.cluster.version,
            "addons": list(group),
            "versions": dict(cfg.cluster.addon_versions),
            "volume_key_arn": cluster.volume_key_arn,
            "tags": tags,
        }

    networking = ClusterAddons("addons-networking", addons(NETWORKING_ADDONS))
    nodes_cfg = cfg.system_node_group
    system_nodes = SystemNodeGroup(
        "system-nodes",
        {
            "cluster_name": cluster.cluster_name,
            "kubernetes_version": cfg.cluster.version,
            "subnet_ids": network.private_subnet_ids,
            "volume_kms_key_arn": cluster.volume_key_arn,
            "instance_types": list(nodes_cfg.instance_types),
            "ami_type": AmiType(nodes_cfg.ami_type),
            "capacity_type": NodeGroupCapacity(nodes_cfg.capacity_type),
            "min_size": nodes_cfg.min_size,
            "desired_size": nodes_cfg.desired_size,
            "max_size": nodes_cfg.max_size,
            "disk_size_gib": nodes_cfg.disk_size_gib,
            "tags": tags,
        },
        opts=pulumi.ResourceOptions(depends_on=[networking]),
    )
    optional = tuple(a for a in cfg.cluster.addons if a in OPTIONAL_EKS_ADDONS)
    core = ClusterAddons(
        "addons-core",
        addons(CORE_ADDONS + optional),
        opts=pulumi.ResourceOptions(depends_on=[system_nodes]),
    )
    kubernetes = pulumi.ResourceOptions(providers={"kubernetes": cluster.provider})
    registry = account_registry(cfg)
    credentials = dict(cfg.admission.pull_through_credentials)
    storage = StorageClasses(
        "storage",
        {
            "volume_kms_key_arn": cluster.volume_key_arn,
            "reclaim_policy": ReclaimPolicy(cfg.storage.reclaim_policy),
            "fast_iops_per_gib": cfg.storage.fast_iops_per_gib,
            "agent_iops": cfg.storage.agent_memory_iops,
            "agent_throughput": cfg.storage.agent_memory_throughput,
        },
        opts=pulumi.ResourceOptions.merge(kubernetes, pulumi.ResourceOptions(depends_on=[core])),
    )

    cache = (
        image_cache.CacheTarget(registry, cfg.environment.name, credentials) if registry else None
    )
    namespaces: tuple[str, ...] = ()
    if LB_CONTROLLER in cfg.cluster.optional_addons:
        namespaces += tuple(
            LoadBalancerController(
                "load-balancer-controller",
                {
                    "cluster_name": cluster.cluster_name,
                    "tags": tags,
                    "image_cache": cache,
                    "region": cfg.region,
                    "vpc_id": network.vpc_id,
                    "default_tags": tags,
                },
                opts=pulumi.ResourceOptions.merge(
                    kubernetes, pulumi.ResourceOptions(depends_on=[core])
                ),
            ).created_namespaces
        )
    pulumi.export("clusterName", cluster.cluster_name)
    pulumi.export("clusterArn", cluster.cluster_arn)
    pulumi.export("kubeconfig", cluster.kubeconfig_json)
    pulumi.export("vpcId", network.vpc_id)
    pulumi.export("privateSubnetIds", network.private_subnet_ids)
    if registry is not None:
        ImageCache(
            "image-cache",
            {"environment": cfg.environment.name, "tags": tags, "credentials": credentials},
        )
    return Foundation(
        network=network,
        cluster=cluster,
        system_nodes=system_nodes,
        core_addons=core,
        storage=storage,
        tags=tags,
        namespaces=namespaces,
        image_cache=cache,
    )
