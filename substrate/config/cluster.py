"""``substrate:cluster`` and ``substrate:systemNodeGroup``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

from substrate.components.core import validators
from substrate.components.core.versions import (
    EKS_MANAGED_ADDONS,
    OPTIONAL_CHART_ADDONS,
    OPTIONAL_EKS_ADDONS,
)
from substrate.config.checks import between, non_empty, rule, unique
from substrate.config.network import SecurityGroupId
from substrate.config.schema import ConfigError, Invalid, doc

KubernetesVersion = Annotated[str, rule(validators.kubernetes_version)]
IamPrincipalArn = Annotated[str, rule(validators.iam_principal_arn)]
PublicCidr = Annotated[str, rule(validators.public_access_cidr)]
PrivateCidr = Annotated[str, rule(validators.private_source_cidr)]
InstanceType = Annotated[str, rule(validators.instance_type)]


def _optional_addon(name: str) -> None:
    if name not in (*OPTIONAL_EKS_ADDONS, *OPTIONAL_CHART_ADDONS):
        raise Invalid(
            "is not an optional add-on Substrate installs",
            ", ".join((*OPTIONAL_EKS_ADDONS, *OPTIONAL_CHART_ADDONS)),
        )


def _addon_names(versions: dict[str, str]) -> None:
    for name in versions:
        if name not in EKS_MANAGED_ADDONS:
            raise Invalid(
                f"names {name!r}, which is not an add-on Substrate manages",
                ", ".join(EKS_MANAGED_ADDONS),
            )


@dataclass(frozen=True)
class EndpointConfig:
    """Kubernetes API endpoint access. The private endpoint is always on (R2)."""

    public_access: bool = doc(
        "Expose the API endpoint publicly (never in production). When true, "
        "`publicAccessCidrs` must list the networks allowed to reach it.",
        default=False,
    )
    public_access_cidrs: Annotated[list[PublicCidr], unique] = doc(
        "Networks allowed to reach the public endpoint (office, VPN, CI egress).", factory=list
    )
    private_access_cidrs: Annotated[list[PrivateCidr], unique] = doc(
        "Networks allowed to reach the private endpoint from outside the cluster (a VPN, a "
        "peered tooling VPC): each becomes an HTTPS (443) ingress rule on the cluster security "
        "group, which otherwise admits only the cluster's own nodes.",
        factory=list,
    )
    private_access_security_groups: Annotated[list[SecurityGroupId], unique] = doc(
        "Security groups (in the cluster's VPC) allowed to reach the private endpoint: each "
        "becomes an HTTPS (443) ingress rule on the cluster security group.",
        factory=list,
    )

    def check(self, path: str) -> None:
        if self.public_access and not self.public_access_cidrs:
            raise ConfigError(
                f"{path}.publicAccessCidrs",
                [],
                "is empty while publicAccess is true (EKS would default to 0.0.0.0/0)",
                "at least one specific CIDR",
            )
        if not self.public_access and self.public_access_cidrs:
            raise ConfigError(
                f"{path}.publicAccessCidrs",
                self.public_access_cidrs,
                "is set while publicAccess is false",
                "an empty list when the endpoint is private",
            )


@dataclass(frozen=True)
class ClusterConfig:
    """The EKS control plane."""

    version: KubernetesVersion = doc(
        'Kubernetes minor version, quoted ("1.35"); one EKS offers in standard support.'
    )
    admins: Annotated[list[IamPrincipalArn], non_empty("IAM role or user ARN"), unique] = doc(
        "IAM principals granted cluster admin through EKS access entries. The principal that "
        "runs `pulumi up` must be one of them: Substrate does not bootstrap the cluster creator "
        "as admin."
    )
    name: Annotated[str, rule(validators.cluster_name)] | None = doc(
        "EKS cluster name; defaults to `substrate-<environment>`.", default=None
    )
    endpoint: EndpointConfig = doc("API endpoint access.", factory=EndpointConfig)
    log_retention_days: Annotated[int, rule(validators.log_retention_days)] = doc(
        "Retention of the control-plane log group (all five log types are always on).", default=90
    )
    deletion_protection: bool = doc(
        "Refuse `DeleteCluster` until this is turned off.", default=True
    )
    support_type: Literal["STANDARD", "EXTENDED"] = doc(
        "Upgrade policy: STANDARD auto-upgrades at the end of standard support instead of "
        "billing extended support.",
        default="STANDARD",
    )
    optional_addons: Annotated[list[Annotated[str, _optional_addon]], unique] = doc(
        "Optional add-ons to install with the core ones: the EKS managed `metrics-server` "
        "(resource metrics for HPA and `kubectl top`) and `eks-node-monitoring-agent` (node "
        "health signals for node auto repair), and the Helm-installed "
        "`aws-load-balancer-controller` (ALBs for Ingresses, NLBs for LoadBalancer Services, "
        "with its reference IAM policy through Pod Identity). The CSI snapshot controller is a "
        "core add-on (the EBS VolumeSnapshotClass needs it).",
        factory=list,
    )
    addon_versions: Annotated[dict[str, str], _addon_names] = doc(
        "Pin EKS managed add-on versions (e.g. `vpc-cni: v1.20.4-eksbuild.1`); unpinned "
        "add-ons take EKS's default version for the cluster's Kubernetes version.",
        factory=dict,
    )

    @property
    def addons(self) -> tuple[str, ...]:
        """Every EKS managed add-on the stack installs."""
        optional = set(OPTIONAL_EKS_ADDONS) - set(self.optional_addons)
        return tuple(a for a in EKS_MANAGED_ADDONS if a not in optional)

    def check(self, path: str) -> None:
        admins = list(self.admins)
        clash = validators.colliding([validators.access_entry_suffix(a) for a in admins])
        if clash is not None:
            first, second = clash
            raise ConfigError(
                f"{path}.admins[{second}]",
                admins[second],
                f"gets the same EKS access-entry name as admins[{first}] ({admins[first]}), so "
                "both would register one resource URN, which the Pulumi engine refuses",
                "admins whose role or user paths and names differ (case-insensitively)",
            )


@dataclass(frozen=True)
class SystemNodeGroupConfig:
    """The managed node group that runs platform controllers only (tainted CriticalAddonsOnly)."""

    instance_types: Annotated[list[InstanceType], non_empty("instance type"), unique] = doc(
        "Instance types, in order of preference.", factory=lambda: ["m7i.large"]
    )
    ami_type: Literal[
        "AL2023_x86_64_STANDARD",
        "AL2023_ARM_64_STANDARD",
        "BOTTLEROCKET_x86_64",
        "BOTTLEROCKET_ARM_64",
    ] = doc(
        "EKS-optimized AMI family; must match the instance types' architecture.",
        default="AL2023_x86_64_STANDARD",
    )
    capacity_type: Literal["ON_DEMAND", "SPOT"] = doc(
        "ON_DEMAND (required in production) or SPOT.", default="ON_DEMAND"
    )
    min_size: Annotated[int, between(1, 100)] = doc("Minimum nodes.", default=2)
    desired_size: Annotated[int, between(1, 100)] = doc("Initial nodes.", default=2)
    max_size: Annotated[int, between(1, 100)] = doc("Maximum nodes.", default=4)
    disk_size_gib: Annotated[int, between(20, 16384)] = doc(
        "Encrypted gp3 root volume size.", default=50
    )

    def check(self, path: str) -> None:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ConfigError(
                f"{path}.desiredSize",
                self.desired_size,
                f"is outside minSize..maxSize ({self.min_size}..{self.max_size})",
                "minSize <= desiredSize <= maxSize",
            )
        arm = "ARM_64" in self.ami_type
        for i, itype in enumerate(self.instance_types):
            if arm != is_graviton(itype):
                raise ConfigError(
                    f"{path}.instanceTypes[{i}]",
                    itype,
                    f"does not match the {self.ami_type} architecture",
                    "Graviton types (m7g, c7gn, ...) for ARM_64 AMIs, x86_64 types otherwise",
                )


def is_graviton(instance_type: str) -> bool:
    """EC2 naming: a 'g' right after the generation digit marks an AWS Graviton processor."""
    family = instance_type.split(".", maxsplit=1)[0].removesuffix("-flex")
    return re.fullmatch(r"[a-z]+\d+g[a-z]*", family) is not None
