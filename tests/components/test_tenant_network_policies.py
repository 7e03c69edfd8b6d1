"""Tenant NetworkPolicies whose peers are resolved at deploy time (the S3 prefix list, existing
subnets) never turn into "every address" when the lookup comes back empty: a NetworkPolicy
rule with an empty peer list admits every address."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from substrate.components.workloads.tenancy import NetworkSpec, TenantSpec
from substrate.components.workloads.tenant_manifests import ALLOW_S3, NetworkPeers, network_policies

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
