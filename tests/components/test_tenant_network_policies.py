"""Tenant NetworkPolicies whose peers are resolved at deploy time (the S3 prefix list, existing
subnets) never turn into "every address" when the lookup comes back empty: a NetworkPolicy
rule with an empty peer list admits every address."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from substrate.components.workloads.tenancy import NetworkSpec, TenantSpec
from substrate.components.workloads.tenant_manifests import ALLOW_S3, NetworkPeers, network_policies
from substrate.layers.tenant_network import _service_address  # pyright: ignore[reportPrivateUsage]
from tests.conftest import planned
from tests.helpers import STACKS

S3_TENANT = TenantSpec(name="data-eng", namespaces=("data-eng",), network=NetworkSpec(s3=True))


class Resolved:
    """A value known only at deploy time (what a pulumi.Output offers: apply)."""

    def __init__(self, value: list[str]) -> None:
        self.value = value

    def apply(self, fn: Callable[[list[str]], object]) -> object:
        return fn(self.value)


def test_a_prefix_list_resolved_at_deploy_time_becomes_its_ip_blocks() -> None:
    peers = NetworkPeers(s3_cidrs=Resolved(["192.0.2.0/24", "198.51.100.0/24"]))
    (rule,) = network_policies(S3_TENANT, peers)[ALLOW_S3]["egress"]
    assert rule["to"] == [
        {"ipBlock": {"cidr": "192.0.2.0/24"}},
        {"ipBlock": {"cidr": "198.51.100.0/24"}},
    ]
    assert rule["ports"] == [{"protocol": "TCP", "port": 443}]


@pytest.mark.parametrize("cidrs", [(), Resolved([])], ids=["known", "resolved"])
def test_an_empty_prefix_list_is_refused_not_opened_to_everything(cidrs: object) -> None:
    with pytest.raises(ValueError, match="allow-s3: no CIDRs, and an empty peer list means"):
        network_policies(S3_TENANT, NetworkPeers(s3_cidrs=cidrs))


def test_a_spark_tenant_without_the_service_address_is_refused_not_opened() -> None:
    peers = NetworkPeers(s3_cidrs=["192.0.2.0/24"], spark_tenants=("data-eng",))
    with pytest.raises(ValueError, match="allow-spark-driver-to-api-server: no CIDRs"):
        network_policies(S3_TENANT, peers)


def test_an_ipv6_cluster_is_refused_for_the_spark_driver_rule() -> None:
    """An IPv6 EKS cluster reports an empty serviceIpv4Cidr: no rule for a wrong address."""
    ipv4 = {"service_ipv4_cidr": "10.100.0.0/16", "service_ipv6_cidr": "", "ip_family": "ipv4"}
    assert _service_address([ipv4]) == ["10.100.0.1/32"]
    ipv6 = {"service_ipv4_cidr": "", "service_ipv6_cidr": "fd00:1::/108", "ip_family": "ipv6"}
    with pytest.raises(ValueError, match="supports IPv4 clusters only"):
        _service_address([ipv6])


@pytest.mark.parametrize("stack", STACKS)
def test_substrate_creates_ipv4_clusters_only(stack: str) -> None:
    """The EKS cluster sets no IPv6 family (EKS's default is ipv4), so the driver rule's IPv4
    Service range exists."""
    (cluster,) = [r for r in planned(stack).records if r.type == "eks:index:Cluster"]
    assert cluster.inputs.get("ipFamily", "ipv4") == "ipv4"
