"""How tenant admins reach the cluster: one EKS access entry per IAM principal, mapped to the
Kubernetes groups of the tenants it administers, and the `substrate:tenant-admin` ClusterRole
those groups are bound to inside each tenant's namespaces (RoleBindings in
substrate.components.workloads.tenant).

Why Kubernetes groups and not an EKS access policy scoped to the namespaces
(`accessScope.type: namespace` with AmazonEKSEditPolicy/AmazonEKSAdminPolicy): the managed
policies cannot be narrowed, and both let a tenant admin delete the namespace's NetworkPolicies
(default-deny, R30). With groups, admins run and operate the workload kinds Kueue queues but
only read quota, limits, network policies and queues. EKS user guide, "Create an access entry
using Kubernetes groups": the group names are the `kind: Group` subjects of RoleBindings; no
access policy is associated, so the principal has exactly the RBAC the bindings grant (R8: never
`system:masters`).
"""

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, Required, TypedDict, cast

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from substrate.components.core import validators
from substrate.components.core._args import check_args
from substrate.components.workloads.tenant_manifests import TENANT_ADMIN_ROLE, tenant_admin_rules

RESERVED_GROUP_PREFIXES = ("system:", "eks:", "aws:", "amazon:", "iam:")


class TenantAccessArgs(TypedDict, total=False):
    """Arguments of :class:`TenantAccess`."""

    cluster_name: Required[pulumi.Input[str]]
    """EKS cluster the access entries belong to."""
    admins: Required[Mapping[str, Sequence[str]]]
    """IAM principal ARN -> Kubernetes groups (one `substrate:tenant:<name>:admins` per tenant
    it administers). A principal may have only one access entry per cluster."""
    integrations: Required[Sequence[str]]
    """Kueue integrations of the stack: tenants may create only the workload kinds these queue
    (substrate.components.workloads.kueue_integrations.KINDS)."""
    tags: NotRequired[Mapping[str, str]]
    """Tags for the access entries."""


def _slug(arn: str) -> str:
    """Resource-name suffix: the role/user name plus a digest of the whole ARN (two accounts
    may use the same role name)."""
    tail = arn.rsplit("/", 1)[-1].lower()
    readable = "".join(c if c.isalnum() or c == "-" else "-" for c in tail).strip("-")[:40]
    return f"{readable}-{hashlib.sha256(arn.encode()).hexdigest()[:6]}"


def _check(args: TenantAccessArgs) -> None:
    for arn, groups in args["admins"].items():
        if validators.iam_principal_arn(arn):
            raise ValueError(f"TenantAccessArgs.admins: {arn!r} is not an IAM role or user ARN")
        if not groups:
            raise ValueError(f"TenantAccessArgs.admins: {arn!r} has no groups")
        for group in groups:
            if group.startswith(RESERVED_GROUP_PREFIXES):
                raise ValueError(
                    f"TenantAccessArgs.admins: group {group!r} of {arn!r} uses a reserved prefix "
                    f"({', '.join(RESERVED_GROUP_PREFIXES)})"
                )


class TenantAccess(pulumi.ComponentResource):
    """The tenant-admin ClusterRole and one access entry per tenant admin principal."""

    def __init__(
        self, name: str, args: TenantAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__("substrate:workloads:TenantAccess", name, None, opts)
        _check(args)
        child = pulumi.ResourceOptions(parent=self)
        role = k8s.rbac.v1.ClusterRole(
            f"{name}-role",
            metadata=ObjectMetaArgs(
                name=TENANT_ADMIN_ROLE, labels={"app.kubernetes.io/managed-by": "substrate"}
            ),
            rules=cast(Any, tenant_admin_rules(args["integrations"])),
            opts=child,
        )
        entries = []
        for arn, groups in sorted(args["admins"].items()):
            entries.append(
                aws.eks.AccessEntry(
                    f"{name}-{_slug(arn)}",
                    cluster_name=args["cluster_name"],
                    principal_arn=arn,
                    type="STANDARD",
                    kubernetes_groups=sorted(groups),
                    tags=dict(args.get("tags", {})),
                    opts=child,
                )
            )
        self.cluster_role = role
        self.register_outputs(
            {"clusterRole": TENANT_ADMIN_ROLE, "principals": sorted(args["admins"])}
        )
