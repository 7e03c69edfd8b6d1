"""Substrate's importable Pulumi components, grouped by domain.

Import a component from its module, e.g.
``from substrate.components.cluster.network import Network``; every public component is also
importable from here (``from substrate.components import Network``), loaded on first use, so
``substrate.components.core.validators`` and ``substrate.components.core.versions`` stay cheap
to import (the policy pack uses them).

Domains: ``core`` (shared rules and helpers), ``cluster`` (network, EKS, storage, images),
``capacity`` (Karpenter, GPU pools), ``workloads`` (tenants, Kueue, KEDA, Spark),
``identity`` (Pod Identity, SPIRE), ``admission`` (Kyverno), ``observability`` (Prometheus,
rules, DCGM), ``bedrock`` and ``agents``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

PUBLIC: dict[str, str] = {
    "Addon": "substrate.components.core.addon",
    "AddonArgs": "substrate.components.core.addon",
    "AdmissionPolicySet": "substrate.components.admission.admission_policy_set",
    "AdmissionPolicySetArgs": "substrate.components.admission.admission_policy_set",
    "AgentMemoryQuota": "substrate.components.agents.agent_memory_quota",
    "AgentMemoryQuotaArgs": "substrate.components.agents.agent_memory_quota",
    "AgentRuntime": "substrate.components.agents.agent_runtime",
    "AgentRuntimeArgs": "substrate.components.agents.agent_runtime",
    "AgentSimulation": "substrate.components.agents.agent_simulation",
    "AgentSimulationArgs": "substrate.components.agents.agent_simulation",
    "AgentSnapshots": "substrate.components.agents.agent_snapshots",
    "AgentSnapshotsArgs": "substrate.components.agents.agent_snapshots",
    "BedrockAgentRole": "substrate.components.agents.bedrock_agent_role",
    "BedrockAgentRoleArgs": "substrate.components.agents.bedrock_agent_role",
    "BedrockInvocationLogging": "substrate.components.bedrock.bedrock_logging",
    "BedrockInvocationLoggingArgs": "substrate.components.bedrock.bedrock_logging",
    "ClusterAddons": "substrate.components.cluster.cluster_addons",
    "ClusterAddonsArgs": "substrate.components.cluster.cluster_addons",
    "DcgmExporter": "substrate.components.observability.dcgm_exporter",
    "DcgmExporterArgs": "substrate.components.observability.dcgm_exporter",
    "EksCluster": "substrate.components.cluster.eks_cluster",
    "EksClusterArgs": "substrate.components.cluster.eks_cluster",
    "ElasticWorkload": "substrate.components.workloads.elastic_workload",
    "ElasticWorkloadArgs": "substrate.components.workloads.elastic_workload",
    "EfaDevicePlugin": "substrate.components.capacity.efa_device_plugin",
    "EfaDevicePluginArgs": "substrate.components.capacity.efa_device_plugin",
    "ImageCache": "substrate.components.cluster.pull_through_cache",
    "ImageCacheArgs": "substrate.components.cluster.pull_through_cache",
    "InterruptionQueue": "substrate.components.capacity.interruption_queue",
    "InterruptionQueueArgs": "substrate.components.capacity.interruption_queue",
    "Karpenter": "substrate.components.capacity.karpenter",
    "KarpenterArgs": "substrate.components.capacity.karpenter",
    "Keda": "substrate.components.workloads.keda",
    "KedaArgs": "substrate.components.workloads.keda",
    "Kueue": "substrate.components.workloads.kueue",
    "KueueArgs": "substrate.components.workloads.kueue",
    "KueuePlatform": "substrate.components.workloads.kueue_platform",
    "KueuePlatformArgs": "substrate.components.workloads.kueue_platform",
    "Kyverno": "substrate.components.admission.kyverno",
    "KyvernoArgs": "substrate.components.admission.kyverno",
    "Network": "substrate.components.cluster.network",
    "NetworkArgs": "substrate.components.cluster.network",
    "NodeClasses": "substrate.components.capacity.node_classes",
    "NodeClassesArgs": "substrate.components.capacity.node_classes",
    "NodeOverlays": "substrate.components.capacity.node_overlays",
    "NodeOverlaysArgs": "substrate.components.capacity.node_overlays",
    "NodePools": "substrate.components.capacity.node_pools",
    "NodePoolsArgs": "substrate.components.capacity.node_pools",
    "LoadBalancerController": "substrate.components.cluster.load_balancer_controller",
    "LoadBalancerControllerArgs": "substrate.components.cluster.load_balancer_controller",
    "NvidiaDevicePlugin": "substrate.components.capacity.nvidia_device_plugin",
    "NvidiaDevicePluginArgs": "substrate.components.capacity.nvidia_device_plugin",
    "PlatformMonitoring": "substrate.components.observability.platform_monitoring",
    "PlatformMonitoringArgs": "substrate.components.observability.platform_monitoring",
    "PodIdentityRole": "substrate.components.identity.pod_identity",
    "PodIdentityRoleArgs": "substrate.components.identity.pod_identity",
    "PrometheusOperatorCrds": "substrate.components.observability.prometheus_crds",
    "PrometheusOperatorCrdsArgs": "substrate.components.observability.prometheus_crds",
    "PrometheusStack": "substrate.components.observability.prometheus_stack",
    "PrometheusStackArgs": "substrate.components.observability.prometheus_stack",
    "SparkOperator": "substrate.components.workloads.spark_operator",
    "SparkOperatorArgs": "substrate.components.workloads.spark_operator",
    "Spire": "substrate.components.identity.spire",
    "SpireArgs": "substrate.components.identity.spire",
    "SpireCrds": "substrate.components.identity.spire_crds",
    "SpireCrdsArgs": "substrate.components.identity.spire_crds",
    "SpireDatabase": "substrate.components.identity.spire_database",
    "SpireDatabaseArgs": "substrate.components.identity.spire_database",
    "StorageClasses": "substrate.components.cluster.storage",
    "StorageClassesArgs": "substrate.components.cluster.storage",
    "SystemNodeGroup": "substrate.components.cluster.system_node_group",
    "SystemNodeGroupArgs": "substrate.components.cluster.system_node_group",
    "Tenant": "substrate.components.workloads.tenant",
    "TenantAccess": "substrate.components.workloads.tenant_access",
    "TenantAccessArgs": "substrate.components.workloads.tenant_access",
    "TenantArgs": "substrate.components.workloads.tenant",
    "VpcEndpoints": "substrate.components.cluster.vpc_endpoints",
    "VpcEndpointsArgs": "substrate.components.cluster.vpc_endpoints",
    "WorkloadIdentity": "substrate.components.identity.workload_identity",
    "WorkloadIdentityArgs": "substrate.components.identity.workload_identity",
    "WorkloadOperator": "substrate.components.workloads.workload_operators",
    "WorkloadOperatorArgs": "substrate.components.workloads.workload_operators",
}
"""Every public component and its args type, by the module that defines it."""

__all__ = [
    "Addon",
    "AddonArgs",
    "AdmissionPolicySet",
    "AdmissionPolicySetArgs",
    "AgentMemoryQuota",
    "AgentMemoryQuotaArgs",
    "AgentRuntime",
    "AgentRuntimeArgs",
    "AgentSimulation",
    "AgentSimulationArgs",
    "AgentSnapshots",
    "AgentSnapshotsArgs",
    "BedrockAgentRole",
    "BedrockAgentRoleArgs",
    "BedrockInvocationLogging",
    "BedrockInvocationLoggingArgs",
    "ClusterAddons",
    "ClusterAddonsArgs",
    "DcgmExporter",
    "DcgmExporterArgs",
    "EfaDevicePlugin",
    "EfaDevicePluginArgs",
    "EksCluster",
    "EksClusterArgs",
    "ElasticWorkload",
    "ElasticWorkloadArgs",
    "ImageCache",
    "ImageCacheArgs",
    "InterruptionQueue",
    "InterruptionQueueArgs",
    "Karpenter",
    "KarpenterArgs",
    "Keda",
    "KedaArgs",
    "Kueue",
    "KueueArgs",
    "KueuePlatform",
    "KueuePlatformArgs",
    "Kyverno",
    "KyvernoArgs",
    "LoadBalancerController",
    "LoadBalancerControllerArgs",
    "Network",
    "NetworkArgs",
    "NodeClasses",
    "NodeClassesArgs",
    "NodeOverlays",
    "NodeOverlaysArgs",
    "NodePools",
    "NodePoolsArgs",
    "NvidiaDevicePlugin",
    "NvidiaDevicePluginArgs",
    "PlatformMonitoring",
    "PlatformMonitoringArgs",
    "PodIdentityRole",
    "PodIdentityRoleArgs",
    "PrometheusOperatorCrds",
    "PrometheusOperatorCrdsArgs",
    "PrometheusStack",
    "PrometheusStackArgs",
    "SparkOperator",
    "SparkOperatorArgs",
    "Spire",
    "SpireArgs",
    "SpireCrds",
    "SpireCrdsArgs",
    "SpireDatabase",
    "SpireDatabaseArgs",
    "StorageClasses",
    "StorageClassesArgs",
    "SystemNodeGroup",
    "SystemNodeGroupArgs",
    "Tenant",
    "TenantAccess",
    "TenantAccessArgs",
    "TenantArgs",
    "VpcEndpoints",
    "VpcEndpointsArgs",
    "WorkloadIdentity",
    "WorkloadIdentityArgs",
    "WorkloadOperator",
    "WorkloadOperatorArgs",
]

if TYPE_CHECKING:
    from substrate.components.admission.admission_policy_set import (
        AdmissionPolicySet as AdmissionPolicySet,
    )
    from substrate.components.admission.admission_policy_set import (
        AdmissionPolicySetArgs as AdmissionPolicySetArgs,
    )
    from substrate.components.admission.kyverno import Kyverno as Kyverno
    from substrate.components.admission.kyverno import KyvernoArgs as KyvernoArgs
    from substrate.components.agents.agent_memory_quota import AgentMemoryQuota as AgentMemoryQuota
    from substrate.components.agents.agent_memory_quota import (
        AgentMemoryQuotaArgs as AgentMemoryQuotaArgs,
    )
    from substrate.components.agents.agent_runtime import AgentRuntime as AgentRuntime
    from substrate.components.agents.agent_runtime import AgentRuntimeArgs as AgentRuntimeArgs
    from substrate.components.agents.agent_simulation import AgentSimulation as AgentSimulation
    from substrate.components.agents.agent_simulation import (
        AgentSimulationArgs as AgentSimulationArgs,
    )
    from substrate.components.agents.agent_snapshots import AgentSnapshots as AgentSnapshots
    from substrate.components.agents.agent_snapshots import (
        AgentSnapshotsArgs as AgentSnapshotsArgs,
    )
    from substrate.components.agents.bedrock_agent_role import BedrockAgentRole as BedrockAgentRole
    from substrate.components.agents.bedrock_agent_role import (
        BedrockAgentRoleArgs as BedrockAgentRoleArgs,
    )
    from substrate.components.bedrock.bedrock_logging import (
        BedrockInvocationLogging as BedrockInvocationLogging,
    )
    from substrate.components.bedrock.bedrock_logging import (
        BedrockInvocationLoggingArgs as BedrockInvocationLoggingArgs,
    )
    from substrate.components.capacity.efa_device_plugin import (
        EfaDevicePlugin as EfaDevicePlugin,
    )
    from substrate.components.capacity.efa_device_plugin import (
        EfaDevicePluginArgs as EfaDevicePluginArgs,
    )
    from substrate.components.capacity.interruption_queue import (
        InterruptionQueue as InterruptionQueue,
    )
    from substrate.components.capacity.interruption_queue import (
        InterruptionQueueArgs as InterruptionQueueArgs,
    )
    from substrate.components.capacity.karpenter import Karpenter as Karpenter
    from substrate.components.capacity.karpenter import KarpenterArgs as KarpenterArgs
    from substrate.components.capacity.node_classes import NodeClasses as NodeClasses
    from substrate.components.capacity.node_classes import NodeClassesArgs as NodeClassesArgs
    from substrate.components.capacity.node_overlays import NodeOverlays as NodeOverlays
    from substrate.components.capacity.node_overlays import NodeOverlaysArgs as NodeOverlaysArgs
    from substrate.components.capacity.node_pools import NodePools as NodePools
    from substrate.components.capacity.node_pools import NodePoolsArgs as NodePoolsArgs
    from substrate.components.capacity.nvidia_device_plugin import (
        NvidiaDevicePlugin as NvidiaDevicePlugin,
    )
    from substrate.components.capacity.nvidia_device_plugin import (
        NvidiaDevicePluginArgs as NvidiaDevicePluginArgs,
    )
    from substrate.components.cluster.cluster_addons import ClusterAddons as ClusterAddons
    from substrate.components.cluster.cluster_addons import ClusterAddonsArgs as ClusterAddonsArgs
    from substrate.components.cluster.eks_cluster import EksCluster as EksCluster
    from substrate.components.cluster.eks_cluster import EksClusterArgs as EksClusterArgs
    from substrate.components.cluster.load_balancer_controller import (
        LoadBalancerController as LoadBalancerController,
    )
    from substrate.components.cluster.load_balancer_controller import (
        LoadBalancerControllerArgs as LoadBalancerControllerArgs,
    )
    from substrate.components.cluster.network import Network as Network
    from substrate.components.cluster.network import NetworkArgs as NetworkArgs
    from substrate.components.cluster.pull_through_cache import ImageCache as ImageCache
    from substrate.components.cluster.pull_through_cache import ImageCacheArgs as ImageCacheArgs
    from substrate.components.cluster.storage import StorageClasses as StorageClasses
    from substrate.components.cluster.storage import StorageClassesArgs as StorageClassesArgs
    from substrate.components.cluster.system_node_group import SystemNodeGroup as SystemNodeGroup
    from substrate.components.cluster.system_node_group import (
        SystemNodeGroupArgs as SystemNodeGroupArgs,
    )
    from substrate.components.cluster.vpc_endpoints import VpcEndpoints as VpcEndpoints
    from substrate.components.cluster.vpc_endpoints import VpcEndpointsArgs as VpcEndpointsArgs
    from substrate.components.core.addon import Addon as Addon
    from substrate.components.core.addon import AddonArgs as AddonArgs
    from substrate.components.identity.pod_identity import PodIdentityRole as PodIdentityRole
    from substrate.components.identity.pod_identity import (
        PodIdentityRoleArgs as PodIdentityRoleArgs,
    )
    from substrate.components.identity.spire import Spire as Spire
    from substrate.components.identity.spire import SpireArgs as SpireArgs
    from substrate.components.identity.spire_crds import SpireCrds as SpireCrds
    from substrate.components.identity.spire_crds import SpireCrdsArgs as SpireCrdsArgs
    from substrate.components.identity.spire_database import SpireDatabase as SpireDatabase
    from substrate.components.identity.spire_database import SpireDatabaseArgs as SpireDatabaseArgs
    from substrate.components.identity.workload_identity import WorkloadIdentity as WorkloadIdentity
    from substrate.components.identity.workload_identity import (
        WorkloadIdentityArgs as WorkloadIdentityArgs,
    )
    from substrate.components.observability.dcgm_exporter import DcgmExporter as DcgmExporter
    from substrate.components.observability.dcgm_exporter import (
        DcgmExporterArgs as DcgmExporterArgs,
    )
    from substrate.components.observability.platform_monitoring import (
        PlatformMonitoring as PlatformMonitoring,
    )
    from substrate.components.observability.platform_monitoring import (
        PlatformMonitoringArgs as PlatformMonitoringArgs,
    )
    from substrate.components.observability.prometheus_crds import (
        PrometheusOperatorCrds as PrometheusOperatorCrds,
    )
    from substrate.components.observability.prometheus_crds import (
        PrometheusOperatorCrdsArgs as PrometheusOperatorCrdsArgs,
    )
    from substrate.components.observability.prometheus_stack import (
        PrometheusStack as PrometheusStack,
    )
    from substrate.components.observability.prometheus_stack import (
        PrometheusStackArgs as PrometheusStackArgs,
    )
    from substrate.components.workloads.elastic_workload import ElasticWorkload as ElasticWorkload
    from substrate.components.workloads.elastic_workload import (
        ElasticWorkloadArgs as ElasticWorkloadArgs,
    )
    from substrate.components.workloads.keda import Keda as Keda
    from substrate.components.workloads.keda import KedaArgs as KedaArgs
    from substrate.components.workloads.kueue import Kueue as Kueue
    from substrate.components.workloads.kueue import KueueArgs as KueueArgs
    from substrate.components.workloads.kueue_platform import KueuePlatform as KueuePlatform
    from substrate.components.workloads.kueue_platform import KueuePlatformArgs as KueuePlatformArgs
    from substrate.components.workloads.spark_operator import SparkOperator as SparkOperator
    from substrate.components.workloads.spark_operator import SparkOperatorArgs as SparkOperatorArgs
    from substrate.components.workloads.tenant import Tenant as Tenant
    from substrate.components.workloads.tenant import TenantArgs as TenantArgs
    from substrate.components.workloads.tenant_access import TenantAccess as TenantAccess
    from substrate.components.workloads.tenant_access import TenantAccessArgs as TenantAccessArgs
    from substrate.components.workloads.workload_operators import (
        WorkloadOperator as WorkloadOperator,
    )
    from substrate.components.workloads.workload_operators import (
        WorkloadOperatorArgs as WorkloadOperatorArgs,
    )


def __getattr__(name: str) -> Any:
    if name not in PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(PUBLIC[name]), name)
