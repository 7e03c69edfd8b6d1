"""Network rules shared by stack-file validation, components and policies: CIDRs (IPv4 networks
written without host bits; what may reach a public or a private endpoint) and VPC endpoint
service names. One place each; substrate.components.core.validators re-exports them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    problem: str
    allowed: str

    def __str__(self) -> str:
        return f"{self.problem} (allowed: {self.allowed})"


_ENDPOINT_SERVICE = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)*$")


def endpoint_service(name: str) -> Problem | None:
    """The suffix of a VPC endpoint service name after `com.amazonaws.<region>.` (`sts`,
    `ecr.dkr`, `bedrock-runtime`, ...)."""
    if _ENDPOINT_SERVICE.match(name):
        return None
    return Problem("is not an AWS service endpoint suffix", 'e.g. "logs", "ec2", "eks-auth"')


NOT_ON_THE_INTERNET = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
)
"""IPv4 ranges no request from the internet comes from (IANA special-purpose registry: this
network, RFC 1918 private, shared/CGNAT, loopback, link-local, IETF protocol assignments,
benchmarking, multicast, reserved). The RFC 5737 documentation ranges are not listed: stack
files use them as placeholders."""
PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)
"""Addresses a VPC (or a network routed into it) uses: RFC 1918 and the shared 100.64/10."""


def ipv4_cidr(cidr: str) -> Problem | None:
    """An IPv4 network written as its network address (no host bits)."""
    try:
        ipaddress.IPv4Network(cidr, strict=True)
    except ipaddress.NetmaskValueError:
        return Problem("does not parse as an IPv4 CIDR", 'a CIDR such as "10.60.0.0/16"')
    except ValueError:
        try:
            net = ipaddress.IPv4Network(cidr, strict=False)
        except ValueError:
            return Problem("does not parse as an IPv4 CIDR", 'a CIDR such as "10.60.0.0/16"')
        return Problem("has host bits set", f'the network address, "{net}"')
    return None


V6_DOCUMENTATION = ipaddress.IPv6Network("2001:db8::/32")


def _network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | Problem:
    try:
        return ipaddress.ip_network(cidr, strict=True)
    except ValueError:
        try:
            net = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            return Problem("does not parse as a CIDR", 'a CIDR such as "203.0.113.0/24"')
        return Problem("has host bits set", f'the network address, "{net}"')


def _never_on_the_internet(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    if isinstance(net, ipaddress.IPv4Network):
        return any(net.overlaps(other) for other in NOT_ON_THE_INTERNET)
    return not net.subnet_of(V6_DOCUMENTATION) and not net.is_global


def public_access_cidr(cidr: str) -> Problem | None:
    """A CIDR allowed to reach a public EKS API endpoint (R3): a network written without host
    bits, never the whole internet, never a range no internet request comes from."""
    net = _network(cidr)
    if isinstance(net, Problem):
        return net
    if net.prefixlen == 0:
        return Problem(
            "opens the Kubernetes API endpoint to the whole internet",
            'specific office/VPN/CI CIDRs such as "203.0.113.0/24"',
        )
    if _never_on_the_internet(net):
        return Problem(
            "is a private or reserved range, which never reaches a public endpoint",
            "public egress CIDRs of offices, VPNs, CI runners (RFC 5737 documentation ranges "
            "as placeholders)",
        )
    return None


def private_source_cidr(cidr: str) -> Problem | None:
    """A network that reaches a private endpoint: inside the VPC or routed into it (RFC 1918 or
    100.64.0.0/10), written without host bits."""
    problem = ipv4_cidr(cidr)
    if problem:
        return problem
    net = ipaddress.IPv4Network(cidr)
    if not any(net.subnet_of(r) for r in PRIVATE_RANGES):
        return Problem(
            "is not a private range, so it can never reach a private endpoint",
            "CIDRs inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10 (the "
            "VPC, or networks routed into it)",
        )
    return None


def overlapping(named: Sequence[tuple[str, ipaddress.IPv4Network]]) -> tuple[str, str] | None:
    """The first pair of names whose networks overlap, in input order."""
    for i, (name_a, net_a) in enumerate(named):
        for name_b, net_b in named[i + 1 :]:
            if net_a.overlaps(net_b):
                return name_a, name_b
    return None
