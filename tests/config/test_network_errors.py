"""A tenant's `network` options: one exact line naming the key, the value and what is allowed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import config_error

T = "substrate:tenants"
N = "substrate:network"
Mutation = Callable[[dict[str, Any]], object]


def _net(tenant: str, **values: Any) -> Mutation:
    return lambda c: c[T][tenant].setdefault("network", {}).update(values)


def _ingress(tenant: str, **values: Any) -> Mutation:
    return lambda c: c[T][tenant].setdefault("network", {}).setdefault("ingress", {}).update(values)


def _existing_vpc(c: dict[str, Any]) -> None:
    net = c[N]
    for key in ("vpcCidr", "privateSubnetCidrs", "publicSubnetCidrs"):
        net.pop(key)
    net["existing"] = {
        "vpcId": "vpc-0123456789abcdef0",
        "privateSubnetIds": [f"subnet-0123456789abcdef{i}" for i in range(3)],
        "privateRouteTableIds": ["rtb-0123456789abcdef0"],
    }


def _both(*mutations: Mutation) -> Mutation:
    def apply(c: dict[str, Any]) -> None:
        for m in mutations:
            m(c)

    return apply


HOLDS_NO_PUBLIC = (
    "CIDRs that hold no public subnet; awsEndpoints: true reaches the interface endpoints and "
    "s3: true reaches S3"
)
CASES: list[tuple[str, str, Mutation, str]] = [
    (
        "HTTPS to the whole VPC",
        "prod",
        _net("data-eng", httpsEgressCidrs=["10.60.0.0/16"]),
        f'{T}.data-eng.network.httpsEgressCidrs[0] = "10.60.0.0/16": holds the whole VPC '
        f"(10.60.0.0/16), public subnets included (allowed: {HOLDS_NO_PUBLIC})",
    ),
    (
        "HTTPS to everywhere",
        "dev",
        _net("ml-research", httpsEgressCidrs=["203.0.113.0/24", "0.0.0.0/0"]),
        f'{T}.ml-research.network.httpsEgressCidrs[1] = "0.0.0.0/0": holds the whole VPC '
        f"(10.40.0.0/16), public subnets included (allowed: {HOLDS_NO_PUBLIC})",
    ),
    (
        "HTTPS to a public subnet",
        "prod",
        _net("agents", httpsEgressCidrs=["10.60.192.0/20"]),
        f'{T}.agents.network.httpsEgressCidrs[0] = "10.60.192.0/20": overlaps the public '
        f"subnet {N}.publicSubnetCidrs[0] (10.60.192.0/24) (allowed: {HOLDS_NO_PUBLIC})",
    ),
    (
        "endpoints without any interface endpoint",
        "dev",
        _both(
            lambda c: c[N].__setitem__("endpoints", {"baseline": False}),
            lambda c: c.pop("substrate:bedrock"),
            lambda c: c.pop("substrate:agents"),
            lambda c: [t.pop("models", None) for t in c[T].values()],
        ),
        f"{T}.ml-research.network.awsEndpoints = true: is set but the stack creates no "
        "interface VPC endpoint (allowed: false, or endpoints from substrate:network.endpoints "
        "or substrate:bedrock)",
    ),
    (
        "ingress from an unknown tenant",
        "prod",
        _ingress("inference", tenants={"finance": [8000]}),
        f'{T}.inference.network.ingress.tenants.finance = "finance": is not a tenant in '
        f"{T} (allowed: agents, data-eng, ml-research)",
    ),
    (
        "ingress from the tenant itself",
        "prod",
        _ingress("inference", tenants={"inference": [8000]}),
        f'{T}.inference.network.ingress.tenants.inference = "inference": is the tenant itself '
        "(allowed: other tenants (allowWithinTenant opens the tenant to its own pods))",
    ),
    (
        "ingress ports out of range",
        "prod",
        _ingress("inference", monitoring=[0]),
        f"{T}.inference.network.ingress.monitoring[0] = 0: is out of range (allowed: 1 to 65535)",
    ),
    (
        "ingress from another tenant on no port",
        "prod",
        _ingress("inference", tenants={"agents": []}),
        f"{T}.inference.network.ingress.tenants.agents = []: is empty (allowed: at least one port)",
    ),
    (
        "load balancers from the private subnets, where every pod lives",
        "prod",
        _ingress("inference", loadBalancers={"ports": [8443], "cidrs": ["10.60.64.0/20"]}),
        f'{T}.inference.network.ingress.loadBalancers.cidrs[0] = "10.60.64.0/20": overlaps the '
        f"private subnet {N}.privateSubnetCidrs[1] (10.60.64.0/18), which holds every pod's "
        "address (allowed: the load balancers' subnets, outside the private subnets)",
    ),
    (
        "load balancers in an existing VPC without public subnets or CIDRs",
        "prod",
        _existing_vpc,
        f"{T}.inference.network.ingress.loadBalancers.cidrs = null: is needed while "
        f"{N}.existing.publicSubnetIds is empty (load balancers connect from the public subnets "
        "unless cidrs says otherwise) (allowed: the CIDRs of the subnets your load balancers "
        "use, or publicSubnetIds)",
    ),
]


@pytest.mark.parametrize(("name", "stack", "mutate", "message"), CASES, ids=[c[0] for c in CASES])
def test_invalid_tenant_network_gives_exact_one_line_error(
    name: str, stack: str, mutate: Mutation, message: str
) -> None:
    assert config_error(stack, mutate) == message
