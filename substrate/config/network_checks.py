"""Rules spanning a tenant's `network` and `substrate:network` / `substrate:bedrock`: what a
tenant may reach in the VPC and who may reach it. Called from PlatformConfig.check."""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import TYPE_CHECKING

from substrate.config.schema import ConfigError, key_path

if TYPE_CHECKING:
    from substrate.config.platform import PlatformConfig
    from substrate.config.tenants import TenantConfig

TENANTS = "substrate:tenants"
NETWORK = "substrate:network"


def has_interface_endpoints(cfg: PlatformConfig) -> bool:
    """The stack creates at least one interface VPC endpoint (substrate/layers/endpoints.py)."""
    endpoints = cfg.network.endpoints
    return (
        endpoints.creates(cfg.network.creates_vpc)
        or bool(endpoints.additional)
        or cfg.bedrock is not None
    )


def _subnets(cfg: PlatformConfig, key: str) -> list[tuple[str, IPv4Network]]:
    cidrs = (
        cfg.network.public_subnet_cidrs
        if key == "publicSubnetCidrs"
        else cfg.network.private_subnet_cidrs
    )
    return [(f"{NETWORK}.{key}[{i}]", c) for i, c in enumerate(cidrs)]


def _check_https(cfg: PlatformConfig, path: str, tenant: TenantConfig) -> None:
    net = tenant.network
    if net.aws_endpoints and not has_interface_endpoints(cfg):
        raise ConfigError(
            f"{path}.awsEndpoints",
            True,
            "is set but the stack creates no interface VPC endpoint",
            "false, or endpoints from substrate:network.endpoints or substrate:bedrock",
        )
    vpc = cfg.network.vpc_cidr
    for i, text in enumerate(net.https_egress_cidrs):
        where, cidr = f"{path}.httpsEgressCidrs[{i}]", IPv4Network(text)
        if vpc is not None and vpc.subnet_of(cidr):
            raise ConfigError(
                where,
                text,
                f"holds the whole VPC ({vpc}), public subnets included",
                "CIDRs that hold no public subnet; awsEndpoints: true reaches the interface "
                "endpoints and s3: true reaches S3",
            )
        for name, subnet in _subnets(cfg, "publicSubnetCidrs"):
            if cidr.overlaps(subnet):
                raise ConfigError(
                    where,
                    text,
                    f"overlaps the public subnet {name} ({subnet})",
                    "CIDRs that hold no public subnet; awsEndpoints: true reaches the interface "
                    "endpoints and s3: true reaches S3",
                )


def _check_ingress(cfg: PlatformConfig, name: str, path: str, tenant: TenantConfig) -> None:
    ingress = tenant.network.ingress
    for other in ingress.tenants:
        where = f"{path}.ingress.tenants.{other}"
        if other == name:
            raise ConfigError(
                where,
                other,
                "is the tenant itself",
                "other tenants (allowWithinTenant opens the tenant to its own pods)",
            )
        if other not in cfg.tenants:
            raise ConfigError(
                where,
                other,
                "is not a tenant in substrate:tenants",
                ", ".join(sorted(t for t in cfg.tenants if t != name)) or "no other tenant",
            )
    lb = ingress.load_balancers
    if lb is None:
        return
    where = f"{path}.ingress.loadBalancers.cidrs"
    existing = cfg.network.existing
    if lb.cidrs is None:
        if existing is not None and not existing.public_subnet_ids:
            raise ConfigError(
                where,
                None,
                f"is needed while {NETWORK}.existing.publicSubnetIds is empty (load balancers "
                "connect from the public subnets unless cidrs says otherwise)",
                "the CIDRs of the subnets your load balancers use, or publicSubnetIds",
            )
        return
    for i, text in enumerate(lb.cidrs):
        for subnet_name, subnet in _subnets(cfg, "privateSubnetCidrs"):
            if IPv4Network(text).overlaps(subnet):
                raise ConfigError(
                    f"{where}[{i}]",
                    text,
                    f"overlaps the private subnet {subnet_name} ({subnet}), which holds every "
                    "pod's address",
                    "the load balancers' subnets, outside the private subnets",
                )


def check_tenant_network(cfg: PlatformConfig) -> None:
    for name, tenant in cfg.tenants.items():
        path = f"{key_path(TENANTS, name)}.network"
        _check_https(cfg, path, tenant)
        _check_ingress(cfg, name, path, tenant)
