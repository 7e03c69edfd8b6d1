"""The EKS control plane (pulumi-eks) with the posture Substrate promises.

API authentication with access entries for the configured admins and no bootstrap admin for
the creator (R7, R8), private endpoint always on and a CIDR-restricted or disabled public one
(R2, R3), Secrets envelope encryption with a rotating customer key (R4, R5), all five
control-plane log types into a pre-created, retained, encrypted log group (R1), no default node
group, EKS-managed add-ons only (``bootstrapSelfManagedAddons: false``).
"""

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, NotRequired, Required, TypedDict

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from substrate.components.core import validators
from substrate.components.core._args import check_args
from substrate.components.core.aws_context import aws_context
from substrate.components.core.kms_key import customer_key
from substrate.components.core.kms_policies import secrets_key_policy, volume_key_policy

VIEW_POLICY = "AmazonEKSViewPolicy"
"""EKS access policy of viewers: read-only, Secrets excluded (EKS User Guide, "Access policy
permissions")."""


class SupportType(StrEnum):
    """EKS version support policy of the cluster."""

    STANDARD = "STANDARD"
    EXTENDED = "EXTENDED"


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
    private_access_cidrs: NotRequired[Sequence[str]]
    """Private networks (VPN, a routed tooling VPC) that get HTTPS (443) to the private endpoint
    through an ingress rule on the cluster security group."""
    private_access_security_groups: NotRequired[Sequence[str]]
    """Security groups in the VPC that get HTTPS (443) to the private endpoint the same way."""
    viewer_principal_arns: NotRequired[Sequence[str]]
    """IAM roles/users given read-only access (AmazonEKSViewPolicy) through access entries, such
    as the role pull-request previews run as."""
    log_retention_days: NotRequired[int]
    """Retention of `/aws/eks/<cluster>/cluster` (default 90)."""
    deletion_protection: NotRequired[bool]
    """Protect the cluster from deletion (default true)."""
    support_type: NotRequired[SupportType]
    """EKS upgrade policy (default STANDARD: no paid extended support)."""
    tags: NotRequired[Mapping[str, str]]
    """Tags for every AWS resource created."""
    protect: NotRequired[bool]
    """Protect what cannot be recreated (the cluster, its KMS keys, the control-plane log group):
    `protect` and `retainOnDelete`, so a destroy or a replacement fails instead of cascading
    (default false)."""


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
    checks += [
        (f"private_access_cidrs[{i}]", cidr, validators.private_source_cidr(cidr))
        for i, cidr in enumerate(args.get("private_access_cidrs", []))
    ]
    checks += [
        (f"viewer_principal_arns[{i}]", arn, validators.iam_principal_arn(arn))
        for i, arn in enumerate(args.get("viewer_principal_arns", []))
    ]
    for key, value, problem in checks:
        if problem:
            raise ValueError(f"EksClusterArgs.{key}: {value!r} {problem}")
    if not args["admin_principal_arns"]:
        raise ValueError(
            "EksClusterArgs.admin_principal_arns: empty; with no bootstrap admin "
            "nobody could reach the cluster"
        )
    admins = list(args["admin_principal_arns"])
    clash = validators.colliding([validators.access_entry_suffix(a) for a in admins])
    if clash is not None:
        first, second = clash
        raise ValueError(
            f"EksClusterArgs.admin_principal_arns[{second}]: {admins[second]!r} gets the same "
            f"access-entry name as [{first}] {admins[first]!r} (one URN twice)"
        )
    for i, arn in enumerate(args.get("viewer_principal_arns", [])):
        if arn in admins:
            raise ValueError(
                f"EksClusterArgs.viewer_principal_arns[{i}]: {arn!r} is an admin (EKS allows "
                "one access entry per principal)"
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
        protect = args.get("protect", False)
        kept = pulumi.ResourceOptions(parent=self, protect=protect, retain_on_delete=protect)
        ctx = aws_context(self)

        secrets_key = customer_key(
            f"{name}-secrets-key",
            description=f"EKS Secrets envelope encryption and control-plane logs for {cluster}",
            policy=pulumi.Output.all(ctx.account_id, ctx.partition, ctx.region).apply(
                lambda v: secrets_key_policy(v[0], v[1], v[2], cluster)
            ),
            tags=tags,
            opts=kept,
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
            opts=kept,
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
            opts=kept,
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
                parent=self,
                depends_on=[log_group],
                transforms=[disable_creator_admin],
                protect=protect,
                retain_on_delete=protect,
            ),
        )

        admin_policies = []
        for arn in args["admin_principal_arns"]:
            entry = aws.eks.AccessEntry(
                f"{name}-admin-{validators.access_entry_suffix(arn)}",
                cluster_name=cluster,
                principal_arn=arn,
                type="STANDARD",
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[control_plane]),
            )
            admin_policies.append(
                aws.eks.AccessPolicyAssociation(
                    f"{name}-admin-{validators.access_entry_suffix(arn)}-policy",
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

        for arn in args.get("viewer_principal_arns", []):
            viewer = aws.eks.AccessEntry(
                f"{name}-viewer-{validators.access_entry_suffix(arn)}",
                cluster_name=cluster,
                principal_arn=arn,
                type="STANDARD",
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[control_plane]),
            )
            aws.eks.AccessPolicyAssociation(
                f"{name}-viewer-{validators.access_entry_suffix(arn)}-policy",
                cluster_name=cluster,
                principal_arn=arn,
                policy_arn=ctx.partition.apply(
                    lambda p: f"arn:{p}:eks::aws:cluster-access-policy/{VIEW_POLICY}"
                ),
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[viewer]),
            )
        ingress = self._private_access(name, args, control_plane.cluster_security_group_id)

        # Every Kubernetes resource waits for the admin access entries (without a bootstrap
        # admin, the deploying principal has no access to the API before they exist) and for
        # the ingress rules a deployer outside the nodes reaches a private endpoint through.
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=control_plane.kubeconfig_json,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*admin_policies, *ingress]),
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

    def _private_access(
        self, name: str, args: EksClusterArgs, group: pulumi.Input[str]
    ) -> list[aws.vpc.SecurityGroupIngressRule]:
        """HTTPS ingress on the cluster security group (the one on the control-plane ENIs) from
        each private source: the only way into a private endpoint besides the cluster's nodes."""
        rules = []
        child = pulumi.ResourceOptions(parent=self)
        for cidr in args.get("private_access_cidrs", []):
            rules.append(
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-api-from-{cidr.replace('.', '-').replace('/', '-')}",
                    security_group_id=group,
                    description=f"Kubernetes API (private endpoint) from {cidr}",
                    ip_protocol="tcp",
                    from_port=443,
                    to_port=443,
                    cidr_ipv4=cidr,
                    tags=dict(args.get("tags", {})),
                    opts=child,
                )
            )
        for source in args.get("private_access_security_groups", []):
            rules.append(
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-api-from-{source}",
                    security_group_id=group,
                    description="Kubernetes API (private endpoint) from a listed security group",
                    ip_protocol="tcp",
                    from_port=443,
                    to_port=443,
                    referenced_security_group_id=source,
                    tags=dict(args.get("tags", {})),
                    opts=child,
                )
            )
        return rules
