"""R21: node roles (trusted by `ec2.amazonaws.com`) carry only the worker node, CNI and ECR pull
policies, no inline policies (EKS best practices, IAM; CIS EKS 5.1.3).

Substrate's two node roles, the system node group's and Karpenter's, attach
AmazonEKSWorkerNodePolicy and AmazonEC2ContainerRegistryPullOnly; the VPC CNI has its own Pod
Identity role, and SSM access to nodes is not granted by default. A role created by
pulumi-eks inside `eks:index:Cluster` is checked the same way under the real engine.

Attachments are matched to roles through the engine's property dependencies (`role`), else
by the role's `name`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._iam import allows, principals
from ._props import items, policy_document, value
from ._types import IAM_ROLE, IAM_ROLE_POLICY, ROLE_POLICY_ATTACHMENT

NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKSWorkerNodeMinimalPolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonEC2ContainerRegistryPullOnly",
)


def is_node_role(props: Mapping[str, Any]) -> bool:
    doc = policy_document(value(props, "assumeRolePolicy"))
    if doc is None:
        return False
    return any(
        s.startswith("ec2.amazonaws.com")
        for stmt in allows(doc)
        for s in principals(stmt, "Service")
    )


def _role_of(r: PolicyResource, roles: dict[str, PolicyResource]) -> PolicyResource | None:
    for dep in r.property_dependencies.get("role", []):
        if dep.urn in roles:
            return roles[dep.urn]
    name = value(r.props, "role")
    for role in roles.values():
        if isinstance(name, str) and name in (value(role.props, "name"), role.name):
            return role
    return None


def _extra(arn: Any) -> str | None:
    """The policy ARN if a node role may not have it (None if allowed, or unknown yet)."""
    if not isinstance(arn, str):
        return None
    allowed = ":iam::aws:policy/" in arn and arn.rsplit("/", 1)[-1] in NODE_POLICIES
    return None if allowed else arn


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    roles = {
        r.urn: r for r in args.resources if r.resource_type == IAM_ROLE and is_node_role(r.props)
    }
    for role in roles.values():
        extra = [a for a in items(value(role.props, "managedPolicyArns")) if _extra(a)]
        inline = items(value(role.props, "inlinePolicies"))
        if extra or inline:
            report_violation(
                f"node role {role.name!r} carries {extra or 'inline policies'}; node roles get "
                f"only {', '.join(NODE_POLICIES)}",
                role.urn,
            )
    for r in args.resources:
        if r.resource_type not in (ROLE_POLICY_ATTACHMENT, IAM_ROLE_POLICY):
            continue
        role = _role_of(r, roles)
        if role is None:
            continue
        if r.resource_type == IAM_ROLE_POLICY:
            report_violation(
                f"node role {role.name!r} has an inline policy; give node permissions to pods "
                "through their own roles (Pod Identity)",
                r.urn,
            )
        elif arn := _extra(value(r.props, "policyArn")):
            report_violation(
                f"node role {role.name!r} attaches {arn}; node roles get only "
                f"{', '.join(NODE_POLICIES)}",
                r.urn,
            )


POLICY = StackValidationPolicy(
    name="r21-node-role-policies",
    description="R21: node roles attach only the EKS worker node, CNI and ECR read/pull "
    "managed policies and no inline policies (EKS best practices IAM, CIS EKS 5.1.3).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate,
)
