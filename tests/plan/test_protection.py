"""Production protects what cannot be recreated; nothing else is protected, and other stacks
protect nothing (their teardown stays possible)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import planned
from tests.helpers import STACKS, config_error, stack_yaml

IRREPLACEABLE = {
    ("eks:index:Cluster", "cluster-eks"),
    ("aws:kms/key:Key", "cluster-secrets-key"),
    ("aws:kms/key:Key", "cluster-volume-key"),
    ("aws:cloudwatch/logGroup:LogGroup", "cluster-control-plane-logs"),
    ("aws:ec2/vpc:Vpc", "network-vpc"),
    ("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs"),
    ("aws:kms/key:Key", "network-flow-logs-key"),
}


def _protected(stack: str) -> set[tuple[str, str]]:
    kept = set()
    for r in planned(stack).records:
        if r.options.get("protect") or r.options.get("retainOnDelete"):
            assert r.options["protect"] and r.options["retainOnDelete"], r.urn
            kept.add((r.type, r.name))
    return kept


@pytest.mark.parametrize("stack", STACKS)
def test_protection_follows_the_stack_file(stack: str) -> None:
    protect = stack_yaml(stack).get("substrate:protection", {}).get("protect", False)
    assert _protected(stack) == (IRREPLACEABLE if protect else set())


def test_production_refuses_to_leave_them_unprotected() -> None:
    def unprotect(c: dict[str, Any]) -> None:
        c["substrate:protection"]["protect"] = False

    assert config_error("prod", unprotect) == (
        "substrate:protection.protect = false: leaves the cluster, its keys, log groups and VPC "
        "deletable in a production environment (allowed: true when environment.tier is "
        "production)"
    )
