"""R11: nodes live in private subnets and never get a public IP (CIS 5.4.3, EKS BPG hosts).

Checks the node sources Substrate declares (launch templates, EC2NodeClasses, the pulumi-eks
component) and, through property dependencies, the subnets a managed node group or the
control plane is placed in (`subnetIds`, or `vpcConfig` of a bare `aws:eks/cluster:Cluster`):
none may hand out public IPs or be a public load-balancer subnet.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._props import MISSING, UNKNOWN, is_true, items, value
from ._subnets import placed_in
from ._types import EC2_NODE_CLASS, EKS_CLUSTER, EKS_COMPONENT, LAUNCH_TEMPLATE, NODE_GROUP

PUBLIC_SUBNET_TAG = "kubernetes.io/role/elb"


def _node_source(resource: PolicyResource) -> list[str]:
    props, kind = resource.props, resource.resource_type
    if kind == LAUNCH_TEMPLATE:
        return [
            f"launch template network interface {i} associates a public IP address"
            for i, nic in enumerate(items(value(props, "networkInterfaces")))
            if is_true(value(nic, "associatePublicIpAddress"))
        ]
    if kind == EC2_NODE_CLASS:
        public = value(props, "spec", "associatePublicIPAddress")
        if public is not False and public is not UNKNOWN:
            shown = "unset (the subnet decides)" if public is MISSING else repr(public)
            return [
                f"spec.associatePublicIPAddress is {shown}; set false so Karpenter nodes "
                "never get a public IP"
            ]
    if kind == EKS_COMPONENT and value(props, "skipDefaultNodeGroup") is not True:
        public = value(props, "nodeAssociatePublicIpAddress")
        if public is not False and public is not UNKNOWN:
            return [
                "pulumi-eks's default node group would give nodes public IPs; set "
                "nodeAssociatePublicIpAddress to false (or skipDefaultNodeGroup)"
            ]
    return []


def _public_subnets(resource: PolicyResource) -> list[str]:
    found = []
    for subnet in placed_in(resource):
        tags = value(subnet.props, "tags")
        elb = value(tags, PUBLIC_SUBNET_TAG) if tags not in (MISSING, UNKNOWN, None) else MISSING
        if is_true(value(subnet.props, "mapPublicIpOnLaunch")) or elb not in (MISSING, None):
            found.append(subnet.name)
    return found


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    for resource in args.resources:
        for message in _node_source(resource):
            report_violation(message, resource.urn)
        if resource.resource_type in (NODE_GROUP, EKS_COMPONENT, EKS_CLUSTER):
            public = _public_subnets(resource)
            if public:
                report_violation(
                    f"subnetIds include public subnets ({', '.join(sorted(public))}); "
                    "place nodes and control-plane ENIs in private subnets only",
                    resource.urn,
                )


POLICY = StackValidationPolicy(
    name="r11-private-nodes",
    description="R11: nodes run in private subnets without public IPs (launch templates, "
    "EC2NodeClasses, node group and control-plane subnets) (CIS 5.4.3).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate,
)
