"""The subnets a node group or a control plane is placed in, as a policy sees them (R11, R18)."""

from __future__ import annotations

from pulumi_policy import PolicyResource

from ._types import EKS_CLUSTER, SUBNET


def placed_in(resource: PolicyResource) -> list[PolicyResource]:
    """Subnets among the property dependencies of ``subnetIds``, or of ``vpcConfig`` for a bare
    `aws:eks/cluster:Cluster` (its subnets are `vpcConfig.subnetIds`, and the engine records
    dependencies per top-level input)."""
    key = "vpcConfig" if resource.resource_type == EKS_CLUSTER else "subnetIds"
    return [d for d in resource.property_dependencies.get(key, []) if d.resource_type == SUBNET]
