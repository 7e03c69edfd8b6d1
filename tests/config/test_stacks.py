"""The shipped stacks parse, and differ only as data (no environment branches in code)."""

from __future__ import annotations

from ipaddress import IPv4Network

import pytest

from tests.helpers import ROOT, STACKS, stack_yaml, typed_config


@pytest.mark.parametrize("stack", STACKS)
def test_stack_file_parses(stack: str) -> None:
    cfg = typed_config(stack_yaml(stack))
    assert cfg.environment.name == stack
    assert cfg.cluster_name == f"substrate-{stack}"


def test_dev_is_two_az_single_nat_with_restricted_public_endpoint() -> None:
    cfg = typed_config(stack_yaml("dev"))
    assert len(cfg.network.availability_zones) == 2
    assert cfg.network.nat_gateways == "single"
    assert cfg.cluster.endpoint.public_access is True
    assert cfg.cluster.endpoint.public_access_cidrs == [
        "203.0.113.0/24",
        "198.51.100.10/32",
        "198.51.100.32/28",
    ]


def test_prod_is_three_az_nat_per_az_private_only() -> None:
    cfg = typed_config(stack_yaml("prod"))
    assert cfg.environment.production
    assert len(cfg.network.availability_zones) == 3
    assert cfg.network.nat_gateways == "perAz"
    assert cfg.cluster.endpoint.public_access is False
    assert cfg.cluster.endpoint.public_access_cidrs == []
    assert cfg.storage.reclaim_policy == "Retain"
    assert cfg.network.vpc_cidr == IPv4Network("10.60.0.0/16")


def test_components_never_read_pulumi_config() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "substrate" / "components").rglob("*.py")
        if "pulumi.Config" in p.read_text() or "require_object" in p.read_text()
    ]
    assert offenders == []


def test_no_environment_branches_outside_config() -> None:
    """Environment differences are data: only the config layer may look at the tier/name."""
    pattern_hits = []
    for path in [
        *(ROOT / "substrate" / "components").rglob("*.py"),
        *(ROOT / "substrate" / "layers").rglob("*.py"),
        ROOT / "substrate" / "platform.py",
    ]:
        text = path.read_text()
        for needle in ('== "prod"', "== 'prod'", ".production", "tier ==", "environment.name =="):
            if needle in text:
                pattern_hits.append(f"{path.relative_to(ROOT)}: {needle}")
    assert pattern_hits == []
