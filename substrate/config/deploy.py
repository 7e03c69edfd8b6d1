"""``substrate:deploy``: who runs `pulumi up` and `pulumi preview` for the stack, from where.

The deploy and preview jobs run on a GitHub Actions runner group and reach the cluster's API
either through its public endpoint (from fixed egress addresses the endpoint allows) or through
its private endpoint (from inside the VPC or a network routed into it, admitted on 443 by the
cluster security group). ``check_deploy`` refuses a stack whose deployer could never reach the
API, or could not manage it once reached.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal

from substrate.components.core import validators
from substrate.config.checks import rule, unique
from substrate.config.network import SecurityGroupId
from substrate.config.schema import ConfigError, doc

if TYPE_CHECKING:
    from substrate.config.platform import PlatformConfig

DEPLOY = "substrate:deploy"
IamRoleArn = Annotated[str, rule(validators.iam_principal_arn)]
Cidr = Annotated[str, rule(validators.ipv4_cidr)]


@dataclass(frozen=True)
class DeployConfig:
    """The stack's deployer: the CI runners of `pulumi up` and `pulumi preview`."""

    role: IamRoleArn = doc(
        "The IAM role `pulumi up` runs as (the deploy workflow's `AWS_DEPLOY_ROLE_ARN`). It "
        "must be one of `substrate:cluster.admins`; the program also refuses to run as any "
        "principal that is not."
    )
    runner_group: Annotated[str, rule(validators.dns_label, 63)] = doc(
        "GitHub Actions runner group the deploy and preview jobs of this stack run on (runners "
        "with fixed egress addresses, or inside the VPC). GitHub-hosted runners have no fixed "
        "addresses, so no Substrate API endpoint admits them."
    )
    api_access: Literal["public", "private"] = doc(
        "How the runners reach the Kubernetes API: `public` through the public endpoint (their "
        "`sourceCidrs` must lie within `cluster.endpoint.publicAccessCidrs`), `private` from "
        "inside or routed into the VPC (their `sourceCidrs` and `sourceSecurityGroups` get "
        "HTTPS on the cluster security group and the VPC endpoints)."
    )
    source_cidrs: Annotated[list[Cidr], unique] = doc(
        "The runners' addresses as the API endpoint sees them: public egress (NAT) addresses "
        "for `public`, private addresses for `private`.",
        factory=list,
    )
    source_security_groups: Annotated[list[SecurityGroupId], unique] = doc(
        "`private` only: the runners' security groups in the cluster's VPC.", factory=list
    )
    preview_role: IamRoleArn | None = doc(
        "The IAM role pull-request previews run as (`AWS_PREVIEW_ROLE_ARN`): gets a read-only "
        "EKS access entry (AmazonEKSViewPolicy), never admin.",
        default=None,
    )


@dataclass(frozen=True)
class ProtectionConfig:
    """What cannot be recreated: the cluster, its KMS keys (Secrets, and the key behind every
    retained volume), the control-plane log group, the VPC, the flow-log group and its key."""

    protect: bool = doc(
        "Mark them `protect` and `retainOnDelete`: `pulumi destroy`, and any update that would "
        "delete or replace one, fails until the flag is removed; once removed and deleted from "
        "the stack, they stay in AWS. Required in production.",
        default=False,
    )


def _reachable(cfg: PlatformConfig, deploy: DeployConfig) -> None:
    endpoint = cfg.cluster.endpoint
    if deploy.api_access == "public":
        if not endpoint.public_access:
            raise ConfigError(
                f"{DEPLOY}.apiAccess",
                "public",
                "but the cluster's public endpoint is off (cluster.endpoint.publicAccess), so "
                "the runners could never reach the API",
                '"private" with runners inside or routed into the VPC, or a public endpoint',
            )
        if deploy.source_security_groups:
            raise ConfigError(
                f"{DEPLOY}.sourceSecurityGroups",
                deploy.source_security_groups,
                "is set while apiAccess is public (security groups apply inside the VPC only)",
                "an empty list, or apiAccess: private",
            )
        allowed = [
            net
            for net in map(ipaddress.ip_network, endpoint.public_access_cidrs)
            if isinstance(net, ipaddress.IPv4Network)
        ]
        for i, cidr in enumerate(deploy.source_cidrs):
            problem = validators.public_access_cidr(cidr)
            net = ipaddress.IPv4Network(cidr)
            if problem is None and not any(net.subnet_of(a) for a in allowed):
                problem = validators.Problem(
                    "is not within cluster.endpoint.publicAccessCidrs, so the public endpoint "
                    "refuses the runners",
                    "runner egress addresses inside " + ", ".join(endpoint.public_access_cidrs),
                )
            if problem is not None:
                raise ConfigError(
                    f"{DEPLOY}.sourceCidrs[{i}]", cidr, problem.problem, problem.allowed
                )
    else:
        for i, cidr in enumerate(deploy.source_cidrs):
            problem = validators.private_source_cidr(cidr)
            if problem is not None:
                raise ConfigError(
                    f"{DEPLOY}.sourceCidrs[{i}]", cidr, problem.problem, problem.allowed
                )
    if not deploy.source_cidrs and not deploy.source_security_groups:
        where = (
            "the public endpoint admits only listed addresses"
            if deploy.api_access == "public"
            else "the cluster security group admits nothing else"
        )
        raise ConfigError(
            f"{DEPLOY}.sourceCidrs",
            [],
            f"is empty, so the runners could never reach the API ({where})",
            "the runners' addresses"
            + (" or sourceSecurityGroups" if deploy.api_access == "private" else ""),
        )


def check_deploy(cfg: PlatformConfig) -> None:
    deploy = cfg.deploy
    admins = list(cfg.cluster.admins)
    if deploy.role not in admins:
        raise ConfigError(
            f"{DEPLOY}.role",
            deploy.role,
            "is not in substrate:cluster.admins, so the deployer would have no access to the "
            "cluster it creates (the creator gets no implicit admin)",
            "one of " + ", ".join(admins),
        )
    if deploy.preview_role is not None and deploy.preview_role in admins:
        raise ConfigError(
            f"{DEPLOY}.previewRole",
            deploy.preview_role,
            "is a cluster admin: pull-request code would run with admin access, and EKS allows "
            "one access entry per principal",
            "a role of its own with read-only access",
        )
    _reachable(cfg, deploy)
    if cfg.environment.production and not cfg.protection.protect:
        raise ConfigError(
            "substrate:protection.protect",
            False,
            "leaves the cluster, its keys, log groups and VPC deletable in a production "
            "environment",
            "true when environment.tier is production",
        )


__all__ = ["DEPLOY", "DeployConfig", "ProtectionConfig", "check_deploy"]
