"""An IAM role for one Kubernetes service account, granted through EKS Pod Identity."""

from collections.abc import Mapping, Sequence
from typing import NotRequired, Required, TypedDict

import pulumi
import pulumi_aws as aws

from substrate.components.core import iam, validators
from substrate.components.core._args import check_args
from substrate.components.core.aws_context import aws_context


class PodIdentityRoleArgs(TypedDict, total=False):
    cluster_name: Required[pulumi.Input[str]]
    """EKS cluster whose pods may assume the role (trust condition and association)."""
    cluster_arn: NotRequired[pulumi.Input[str]]
    """Cluster ARN; when given, the trust also requires the `eks-cluster-arn` session tag."""
    namespace: Required[str]
    """Namespace of the service account."""
    service_account: Required[str]
    """Service account allowed to assume the role; one role per service account (R20)."""
    policy_json: NotRequired[pulumi.Input[str]]
    """Inline identity policy (JSON). Least privilege: no `*` actions (R19)."""
    managed_policies: NotRequired[Sequence[str]]
    """AWS managed policy names to attach, e.g. `AmazonEBSCSIDriverPolicy`."""
    associate: NotRequired[bool]
    """Create the PodIdentityAssociation (default true). EKS managed add-ons set false and
    pass the role to the add-on's own `podIdentityAssociations` instead."""
    tags: NotRequired[Mapping[str, str]]
    """Tags for the role and the association."""


class PodIdentityRole(pulumi.ComponentResource):
    """Role + trust (pods.eks.amazonaws.com, this cluster/namespace/SA only) + association."""

    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: PodIdentityRoleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__("substrate:iam:PodIdentityRole", name, None, opts)
        for key, value in (
            ("namespace", args["namespace"]),
            ("service_account", args["service_account"]),
        ):
            problem = validators.dns_label(value)
            if problem:
                raise ValueError(f"PodIdentityRoleArgs.{key}: {value!r} {problem}")
        if not args.get("policy_json") and not args.get("managed_policies"):
            raise ValueError(
                "PodIdentityRoleArgs: set policy_json or managed_policies; a role "
                "without permissions is a mistake"
            )
        tags = dict(args.get("tags", {}))
        ctx = aws_context(self)
        child = pulumi.ResourceOptions(parent=self)
        trust = pulumi.Output.all(
            ctx.account_id, args["cluster_name"], args.get("cluster_arn", "")
        ).apply(
            lambda v: iam.pod_identity_trust(
                v[0], v[1], args["namespace"], args["service_account"], v[2] or None
            )
        )
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=trust,
            description=f"Pod Identity role for {args['namespace']}/{args['service_account']}",
            max_session_duration=3600,
            tags=tags,
            opts=child,
        )
        policy_json = args.get("policy_json")
        if policy_json is not None:
            aws.iam.RolePolicy(f"{name}-policy", role=role.name, policy=policy_json, opts=child)
        for policy in args.get("managed_policies", []):
            aws.iam.RolePolicyAttachment(
                f"{name}-{policy}",
                role=role.name,
                policy_arn=ctx.partition.apply(lambda p, n=policy: iam.managed_policy_arn(p, n)),
                opts=child,
            )
        if args.get("associate", True):
            aws.eks.PodIdentityAssociation(
                f"{name}-association",
                cluster_name=args["cluster_name"],
                namespace=args["namespace"],
                service_account=args["service_account"],
                role_arn=role.arn,
                tags=tags,
                opts=child,
            )
        self.role_arn = role.arn
        self.role_name = role.name
        self.register_outputs({"roleArn": role.arn, "roleName": role.name})
