"""Label, taint and resource names shared across components and policies.

Pure data. Kubernetes facts (Karpenter, Kueue, NVIDIA) are named as upstream defines them;
the `substrate.io/` keys are Substrate's own conventions.
"""

from __future__ import annotations

# -- Substrate conventions ------------------------------------------------------------------
POOL_LABEL = "substrate.io/pool"
"""Node label: the Karpenter NodePool (or `system`) a node belongs to. Kueue ResourceFlavors
select on it, so each GPU pool is one flavor."""
TENANT_LABEL = "substrate.io/tenant"
"""Namespace label: the tenant (team) that owns the namespace."""
GPU_NAMESPACE_LABEL = "substrate.io/gpu"
"""Namespace label, "true" on namespaces of tenants allowed to run GPU work (R32)."""
WORKLOAD_CLASS_LABEL = "substrate.io/workload-class"
"""Pod label: training | inference | batch | agent | data (used by admission policies)."""

# -- Kubernetes / upstream names --------------------------------------------------------------
GPU_RESOURCE = "nvidia.com/gpu"
GPU_SHARED_RESOURCE = "nvidia.com/gpu.shared"
"""What the NVIDIA device plugin advertises a time-sliced GPU as (`renameByDefault`): one unit
is one slice, 1/replicas of a physical GPU. Whole-GPU and sliced pools never share a name."""
GPU_RESOURCES = (GPU_RESOURCE, GPU_SHARED_RESOURCE)
EFA_RESOURCE = "vpc.amazonaws.com/efa"
"""Elastic Fabric Adapter devices, advertised by the AWS EFA device plugin (not installed)."""
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}
NEURON_RESOURCE = "aws.amazon.com/neuron"
NEURON_TAINT = {"key": "aws.amazon.com/neuron", "value": "true", "effect": "NoSchedule"}
CRITICAL_ADDONS_TOLERATION = {"key": "CriticalAddonsOnly", "operator": "Exists"}
SYSTEM_NODE_SELECTOR = {POOL_LABEL: "system"}

KUEUE_QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
KARPENTER_NODEPOOL_LABEL = "karpenter.sh/nodepool"
KARPENTER_CAPACITY_TYPE_LABEL = "karpenter.sh/capacity-type"
KARPENTER_DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"
INSTANCE_GPU_MANUFACTURER_LABEL = "karpenter.k8s.aws/instance-gpu-manufacturer"
INSTANCE_GPU_NAME_LABEL = "karpenter.k8s.aws/instance-gpu-name"
"""Karpenter (AWS provider v1.14.1) well-known node label: the GPU model, e.g. `h100`, `l40s`."""

PSA_LEVEL_LABELS = tuple(
    f"pod-security.kubernetes.io/{mode}" for mode in ("enforce", "audit", "warn")
)

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
"""Namespace label the API server sets to the namespace's name (immutable); webhook and policy
namespace selectors match on it."""
SYSTEM_NAMESPACES = ("kube-system", "kube-node-lease", "kube-public")
"""Namespaces Kubernetes and EKS own; admission webhooks must never intercept them (R34)."""
# -- Karpenter and NVIDIA device-plugin names ----------------------------------------------------
KARPENTER_NODECLASS_LABEL = "karpenter.k8s.aws/ec2nodeclass"
INSTANCE_FAMILY_LABEL = "karpenter.k8s.aws/instance-family"
DEVICE_PLUGIN_CONFIG_LABEL = "nvidia.com/device-plugin.config"
"""Node label the NVIDIA device plugin's config-manager reads to pick a named config."""
# -- Kueue and tenancy ---------------------------------------------------------------------------
KUEUE_PRIORITY_CLASS_LABEL = "kueue.x-k8s.io/priority-class"
"""Workload label selecting a Kueue WorkloadPriorityClass (a priority tier)."""
PRIORITY_TIER_LABEL = "substrate.io/priority-tier"
"""Namespace and ClusterQueue label: the tenant's priority tier (a WorkloadPriorityClass name)."""
