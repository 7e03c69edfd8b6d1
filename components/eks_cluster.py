"""The EKS control plane (pulumi-eks) with the posture Substrate promises.

API authentication with access entries for the configured admins and no bootstrap admin for
the creator (R7, R8), private endpoint always on and a CIDR-restricted or disabled public one
(R2, R3), Secrets envelope encryption with a rotating customer key (R4, R5), all five
control-plane log types into a pre-created, retained, encrypted log group (R1), no default node
group, EKS-managed add-ons only (``bootstrapSelfManagedAddons: false``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal, NotRequired, Required, TypedDict

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from components import validators
from components._args import check_args
from components.aws_context import aws_context
from components.kms_key import customer_key
from components.kms_policies import secrets_key_policy, volume_key_policy


class EksClusterArgs(TypedDict, total=False):
    cluster_name: Required[str]
    """Physical EKS cluster name (also used in log group, discovery tags and key aliases)."""
    kubernetes_version: Required[str]
    """Kubernetes minor version in EKS standard support, e.g. "1.35"."""
    vpc_id: Required[pulumi.Input[str]]
    """VPC of the cluster."""
    subnet_ids: Required[pulumi.Input[Sequence[pulumi.Input[str]]]]
    """Private subnets for the control-plane ENIs (never public ones)."""
    admin_principal_arns: Required[Sequence[str]]
    """IAM roles/users given AmazonEKSClusterAdminPolicy through access entries. The deploying
    principal must be among them (the creator gets no implicit admin)."""
    public_access_cidrs: NotRequired[Sequence[str]]
    """CIDRs allowed to reach a public endpoint; empty or absent keeps the endpoint private."""
    log_retention_days: NotRequired[int]
    """Retention of `/aws/eks/<cluster>/cluster` (default 90)."""
    deletion_protection: NotRequired[bool]
    """Protect the cluster from deletion (default true)."""
    support_type: NotRequired[Literal["STANDARD", "EXTENDED"]]
    """EKS upgrade policy (default STANDARD: no paid extended support)."""
    tags: NotRequired[Mapping[str, str]]
    """Tags for every AWS resource created."""


def _validate(args: EksClusterArgs) -> None:
    checks: list[tuple[str, Any, validators.Problem | None]] = [
        ("cluster_name", args["cluster_name"], validators.cluster_name(args["cluster_name"])),
        (
            "kubernetes_version",
            args["kubernetes_version"],
            validators.kubernetes_version(args["kubernetes_version"]),
        ),
        (
            "log_retention_days",
            args.get("log_retention_days", 90),
            validators.log_retention_days(args.get("log_retention_days", 90)),
        ),
    ]
    checks += [
        (f"admin_principal_arns[{i}]", arn, validators.iam_principal_arn(arn))
        for i, arn in enumerate(args["admin_principal_arns"])
    ]
    checks += [
        (f"public_access_cidrs[{i}]", cidr, validators.public_access_cidr(cidr))
        for i, cidr in enumerate(args.get("public_access_cidrs", []))
    ]
    for key, value, problem in checks:
        if problem:
            raise ValueError(f"EksClusterArgs.{key}: {value!r} {problem}")
    if not args["admin_principal_arns"]:
        raise ValueError(
            "EksClusterArgs.admin_principal_arns: empty; with no bootstrap admin "
            "nobody could reach the cluster"
        )


def disable_creator_admin(
    args: pulumi.ResourceTransformArgs,
) -> pulumi.ResourceTransformResult | None:
    """Transform for pulumi-eks: it hard-codes `bootstrapClusterCreatorAdminPermissions: true`
    on its `aws:eks/cluster:Cluster` child (pulumi/pulumi-eks#2373). Substrate grants admin only
    through explicit access entries (R8), so the child is created with false."""
    if args.type_ != "aws:eks/cluster:Cluster":
        return None
    props: dict[str, Any] = dict(args.props)
    key = (
        "accessConfig"
        if "accessConfig" in props or "access_config" not in props
        else "access_config"
    )
    access: dict[str, Any] = dict(props.get(key) or {})
    access["bootstrapClusterCreatorAdminPermissions"] = False
    props[key] = access
    return pulumi.ResourceTransformResult(props=props, opts=args.opts)


def _slug(arn: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", arn.rsplit("/", 1)[-1].lower()).strip("-")[:40]


class EksCluster(pulumi.ComponentResource):
    """Children: two KMS keys (Secrets, EBS volumes), the control-plane log group, the
    `eks:index:Cluster`, one access entry + admin policy association per admin, and the
    Kubernetes provider every Kubernetes resource of the platform uses."""

    cluster_name: pulumi.Output[str]
    cluster_arn: pulumi.Output[str]
    kubeconfig_json: pulumi.Output[str]
    cluster_security_group_id: pulumi.Output[str]
    secrets_key_arn: pulumi.Output[str]
    volume_key_arn: pulumi.Output[str]
    provider: k8s.Provider

    def __init__(
        self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__("substrate:cluster:EksCluster", name, None, opts)
        _validate(args)
        cluster = args["cluster_name"]
        tags = dict(args.get("tags", {}))
        child = pulumi.ResourceOptions(parent=self)
        ctx = aws_context(self)

        secrets_key = customer_key(
            f"{name}-secrets-key",
            description=f"EKS Secrets envelope encryption and control-plane logs for {cluster}",
            policy=pulumi.Output.all(ctx.account_id, ctx.partition, ctx.region).apply(
                lambda v: secrets_key_policy(v[0], v[1], v[2], cluster)
            ),
            tags=tags,
            opts=child,
        )
        aws.kms.Alias(
            f"{name}-secrets-key-alias",
            name=f"alias/{cluster}/eks-secrets",
            target_key_id=secrets_key.key_id,
            opts=child,
        )
        volume_key = customer_key(
            f"{name}-volume-key",
            description=f"EBS volumes (node roots, PVs) of {cluster}",
            policy=pulumi.Output.all(ctx.account_id, ctx.partition).apply(
                lambda v: volume_key_policy(v[0], v[1])
            ),
            tags=tags,
            opts=child,
        )
        aws.kms.Alias(
            f"{name}-volume-key-alias",
            name=f"alias/{cluster}/ebs",
            target_key_id=volume_key.key_id,
            opts=child,
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane-logs",
            name=f"/aws/eks/{cluster}/cluster",
            retention_in_days=args.get("log_retention_days", 90),
            kms_key_id=secrets_key.arn,
            tags=tags,
            opts=child,
        )

        public_cidrs = list(args.get("public_access_cidrs", []))
        control_plane = eks.Cluster(
            f"{name}-eks",
            name=cluster,
            version=args["kubernetes_version"],
            vpc_id=args["vpc_id"],
            subnet_ids=args["subnet_ids"],
            endpoint_private_access=True,
            endpoint_public_access=bool(public_cidrs),
            public_access_cidrs=public_cidrs or None,
            authentication_mode=eks.AuthenticationMode.API,
            enabled_cluster_log_types=list(validators.CONTROL_PLANE_LOG_TYPES),
            encryption_config_key_arn=secrets_key.arn,
            skip_default_node_group=True,
            skip_default_security_groups=True,
            node_associate_public_ip_address=False,
            bootstrap_self_managed_addons=False,
            use_default_vpc_cni=True,
            coredns_addon_options=eks.CoreDnsAddonOptionsArgs(enabled=False),
            kube_proxy_addon_options=eks.KubeProxyAddonOptionsArgs(enabled=False),
            create_oidc_provider=False,
            deletion_protection=args.get("deletion_protection", True),
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(
                support_type=args.get("support_type", "STANDARD")
            ),
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[log_group], transforms=[disable_creator_admin]
            ),
        )

        admin_policies = []
        for arn in args["admin_principal_arns"]:
            entry = aws.eks.AccessEntry(
                f"{name}-admin-{_slug(arn)}",
                cluster_name=cluster,
                principal_arn=arn,
                type="STANDARD",
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[control_plane]),
            )
            admin_policies.append(
                aws.eks.AccessPolicyAssociation(
                    f"{name}-admin-{_slug(arn)}-policy",
                    cluster_name=cluster,
                    principal_arn=arn,
                    policy_arn=ctx.partition.apply(
                        lambda p: (
                            f"arn:{p}:eks::aws:cluster-access-policy/"
                            f"{validators.CLUSTER_ADMIN_POLICY}"
                        )
                    ),
                    access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[entry]),
                )
            )

        # Every Kubernetes resource waits for the admin access entries: without a bootstrap
        # admin, the deploying principal has no access to the API before they exist.
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=control_plane.kubeconfig_json,
            opts=pulumi.ResourceOptions(parent=self, depends_on=admin_policies),
        )

        self.cluster_name = pulumi.Output.all(control_plane.urn).apply(lambda _: cluster)
        self.cluster_arn = pulumi.Output.all(
            ctx.partition, ctx.region, ctx.account_id, control_plane.urn
        ).apply(lambda v: f"arn:{v[0]}:eks:{v[1]}:{v[2]}:cluster/{cluster}")
        self.kubeconfig_json = pulumi.Output.secret(control_plane.kubeconfig_json)
        self.cluster_security_group_id = control_plane.cluster_security_group_id
        self.secrets_key_arn = secrets_key.arn
        self.volume_key_arn = volume_key.arn
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "clusterArn": self.cluster_arn,
                "kubeconfigJson": self.kubeconfig_json,
                "clusterSecurityGroupId": self.cluster_security_group_id,
                "secretsKeyArn": self.secrets_key_arn,
                "volumeKeyArn": self.volume_key_arn,
            }
        )
