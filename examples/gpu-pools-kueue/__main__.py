"""GPU pools and Kueue on an existing cluster, from Substrate's components.

What a platform team writes to adopt part of Substrate: no network, no EKS cluster of ours,
just a GPU node class and pool for Karpenter and Kueue queueing over it, pointed at their
cluster through a Kubernetes provider built from its kubeconfig.
"""

import pulumi
import pulumi_kubernetes as k8s

from substrate.components.capacity.node_classes import NodeClasses, NodeClassSpec
from substrate.components.capacity.node_pools import NodePools
from substrate.components.capacity.pools import (
    AmiFamily,
    Budget,
    CapacityType,
    ConsolidationPolicy,
    Limits,
    PoolSpec,
    Taint,
    TaintEffect,
)
from substrate.components.core.labels import GPU_TAINT
from substrate.components.observability.dcgm_exporter import DcgmExporter
from substrate.components.workloads.kueue import Kueue
from substrate.components.workloads.kueue_platform import KueuePlatform
from substrate.components.workloads.tenancy import (
    DEFAULT_TIERS,
    GpuShare,
    Share,
    TenantSpec,
    resource_quota_hard,
)
from substrate.components.workloads.tenant import Tenant

config = pulumi.Config()
cluster_name = config.require("clusterName")
gpu_limit = int(config.get("gpuLimit") or "16")

cluster = k8s.Provider("cluster", kubeconfig=config.require_secret("kubeconfig"))
on_cluster = pulumi.ResourceOptions(providers={"kubernetes": cluster})

inference = PoolSpec(
    name="inference",
    node_class="gpu",
    ami_family=AmiFamily.AL2023,
    instance_families=("g6e", "g6"),
    capacity_types=(CapacityType.ON_DEMAND,),
    limits=Limits(cpu=256, memory="2048Gi", gpu=gpu_limit),
    consolidation_policy=ConsolidationPolicy.WHEN_EMPTY,
    consolidate_after="10m",
    budgets=(Budget(nodes="1"),),
    expire_after="720h",
    taints=(Taint(GPU_TAINT["key"], GPU_TAINT["value"], TaintEffect.NO_SCHEDULE),),
)
classes = NodeClasses(
    "node-classes",
    {
        "cluster_name": cluster_name,
        "node_role_name": config.require("nodeRoleName"),
        "volume_kms_key_arn": config.require("volumeKmsKeyArn"),
        "classes": [NodeClassSpec(name="gpu", ami_alias="al2023@v20261112", volume_gib=300)],
    },
    opts=on_cluster,
)
pools = NodePools(
    "node-pools",
    {"pools": [inference]},
    opts=pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[classes])),
)

kueue = Kueue(
    "kueue",
    {
        "cluster_name": cluster_name,
        "integrations": ["batch/job", "pod"],
        "wait_for_pods_ready": {"timeout": "10m"},
        "fair_sharing": True,
    },
    opts=on_cluster,
)
queues = KueuePlatform(
    "kueue-platform",
    {"gpu_pools": [inference], "priority_classes": dict(DEFAULT_TIERS)},
    opts=pulumi.ResourceOptions.merge(
        on_cluster, pulumi.ResourceOptions(depends_on=[kueue.release])
    ),
)
team = TenantSpec(
    name="vision",
    namespaces=("vision",),
    gpu=True,
    tier="inference-critical",
    cpu=Share(64),
    memory=Share(512 * 2**30),
    gpus=(GpuShare("inference", Share(8, borrowing_limit=4)),),
)
Tenant(
    "tenant-vision",
    {"tenant": team, "quota_hard": resource_quota_hard(team, [team]), "gpu_pools": ["inference"]},
    opts=pulumi.ResourceOptions.merge(
        on_cluster, pulumi.ResourceOptions(depends_on=[kueue.release, queues])
    ),
)
# GPU health, utilization and chargeback metrics for the new pool (the cluster's Prometheus
# Operator picks up the ServiceMonitor; policy P1 requires an exporter once a GPU pool exists).
DcgmExporter("dcgm-exporter", {"cluster_name": cluster_name}, opts=on_cluster)
pulumi.export("nodePools", pools.names)
