"""EKS managed add-ons, with IAM through EKS Pod Identity where an add-on calls AWS APIs.

The platform installs them in two groups because of ordering: the networking group (Pod
Identity agent, VPC CNI, kube-proxy) must exist before nodes join, while CoreDNS and the EBS CSI
driver need nodes to become healthy.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NotRequired, Required, TypedDict

import pulumi
import pulumi_aws as aws

from substrate.components.core import iam
from substrate.components.core._args import check_args
from substrate.components.core.versions import EKS_MANAGED_ADDONS
from substrate.components.identity.pod_identity import PodIdentityRole, PodIdentityRoleArgs


@dataclass(frozen=True)
class AddonSpec:
    service_account: str | None = None
    """Service account in kube-system that gets a Pod Identity role."""
    managed_policies: tuple[str, ...] = ()
    configuration: Mapping[str, object] = field(default_factory=dict)
    """Add-on configuration values (the add-on's own JSON schema)."""
    needs_volume_key: bool = False
    """Grant the role use of the EBS CMK (encrypted PVs with a customer key, R13)."""


ADDONS: dict[str, AddonSpec] = {
    "eks-pod-identity-agent": AddonSpec(),
    # Network policy enforcement by the VPC CNI's agent: tenants' default-deny
    # NetworkPolicies (R30) are enforced, not just declared.
    "vpc-cni": AddonSpec(
        service_account="aws-node",
        managed_policies=("AmazonEKS_CNI_Policy",),
        configuration={"enableNetworkPolicy": "true"},
    ),
    "kube-proxy": AddonSpec(),
    "coredns": AddonSpec(),
    "aws-ebs-csi-driver": AddonSpec(
        service_account="ebs-csi-controller-sa",
        managed_policies=("AmazonEBSCSIDriverPolicy",),
        needs_volume_key=True,
    ),
    # No AWS permissions (EKS User Guide, "Amazon EKS add-ons" / "Community add-ons"); their
    # default configuration (the add-ons' own schemas are not in this repository).
    "metrics-server": AddonSpec(),
    "eks-node-monitoring-agent": AddonSpec(),
    "snapshot-controller": AddonSpec(),
}
assert set(ADDONS) == set(EKS_MANAGED_ADDONS)


def volume_key_policy_for_csi(key_arn: str) -> str:
    """What the EBS CSI driver needs to create volumes encrypted with a customer key."""
    return iam.to_json(
        [
            iam.allow(
                ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                [key_arn],
                condition={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
            iam.allow(
                [
                    "kms:Decrypt",
                    "kms:DescribeKey",
                    "kms:Encrypt",
                    "kms:GenerateDataKey*",
                    "kms:ReEncrypt*",
                ],
                [key_arn],
            ),
        ]
    )


class ClusterAddonsArgs(TypedDict, total=False):
    cluster_name: Required[pulumi.Input[str]]
    """Cluster to install into."""
    kubernetes_version: Required[str]
    """Cluster version; selects EKS's default add-on version when not pinned."""
    addons: Required[Sequence[str]]
    """Add-ons of this group, from substrate.components.core.versions.EKS_MANAGED_ADDONS."""
    versions: NotRequired[Mapping[str, str]]
    """Pinned add-on versions by name."""
    volume_key_arn: NotRequired[pulumi.Input[str]]
    """EBS customer managed key; required with aws-ebs-csi-driver."""
    tags: NotRequired[Mapping[str, str]]
    """Tags for every AWS resource created."""


class ClusterAddons(pulumi.ComponentResource):
    addon_versions: pulumi.Output[dict[str, str]]

    def __init__(
        self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__("substrate:cluster:ClusterAddons", name, None, opts)
        unknown = [a for a in args["addons"] if a not in ADDONS]
        if unknown:
            raise ValueError(
                f"ClusterAddonsArgs.addons: {unknown} not managed here; allowed: {sorted(ADDONS)}"
            )
        pins = dict(args.get("versions", {}))
        tags = dict(args.get("tags", {}))
        versions: dict[str, pulumi.Output[str]] = {}
        for addon in args["addons"]:
            spec = ADDONS[addon]
            volume_key = args.get("volume_key_arn")
            if spec.needs_volume_key and volume_key is None:
                raise ValueError(f"ClusterAddonsArgs.volume_key_arn: required by {addon}")
            version = (
                pulumi.Output.from_input(pins[addon])
                if addon in pins
                else aws.eks.get_addon_version_output(
                    addon_name=addon,
                    kubernetes_version=args["kubernetes_version"],
                    most_recent=False,
                    opts=pulumi.InvokeOptions(parent=self),
                ).version
            )
            associations = None
            if spec.service_account:
                role_args: PodIdentityRoleArgs = {
                    "cluster_name": args["cluster_name"],
                    "namespace": "kube-system",
                    "service_account": spec.service_account,
                    "managed_policies": list(spec.managed_policies),
                    "associate": False,
                    "tags": tags,
                }
                if spec.needs_volume_key and volume_key is not None:
                    role_args["policy_json"] = pulumi.Output.from_input(volume_key).apply(
                        volume_key_policy_for_csi
                    )
                role = PodIdentityRole(
                    f"{name}-{addon}", role_args, opts=pulumi.ResourceOptions(parent=self)
                )
                associations = [
                    aws.eks.AddonPodIdentityAssociationArgs(
                        role_arn=role.role_arn, service_account=spec.service_account
                    )
                ]
            aws.eks.Addon(
                f"{name}-{addon}",
                cluster_name=args["cluster_name"],
                addon_name=addon,
                addon_version=version,
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                configuration_values=json.dumps(dict(spec.configuration), sort_keys=True)
                if spec.configuration
                else None,
                pod_identity_associations=associations,
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            versions[addon] = version
        self.addon_versions = pulumi.Output.all(**versions)  # type: ignore[assignment]
        self.register_outputs({"addonVersions": self.addon_versions})
