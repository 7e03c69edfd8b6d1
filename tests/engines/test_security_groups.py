"""The security group model, on the Amazon VPC User Guide's "Security group rules": rules only
allow; a connection is admitted when a rule matches its protocol, port and source (CIDR or a
referenced security group); `-1` is every protocol and port."""

from __future__ import annotations

from substrate.engines.security_groups import Rule, admits

HTTPS_FROM_VPC = Rule("https", "tcp", 443, 443, cidrs=("10.0.0.0/16",))
FROM_NODES = Rule("nodes", "tcp", 443, 443, groups=("sg-0123456789abcdef0",))
EVERYTHING_FROM_LB = Rule("lb", "-1", 0, 0, groups=("sg-0fedcba9876543210",))


def test_a_rule_admits_its_protocol_port_and_source_only() -> None:
    assert admits([HTTPS_FROM_VPC], 443, "10.0.5.5") == ["https"]
    assert admits([HTTPS_FROM_VPC], 443, "10.1.0.1") == []
    assert admits([HTTPS_FROM_VPC], 22, "10.0.5.5") == []


def test_a_referenced_group_admits_its_members() -> None:
    assert admits([FROM_NODES], 443, None, ["sg-0123456789abcdef0"]) == ["nodes"]
    assert admits([FROM_NODES], 443, "10.0.5.5", ["sg-0aaaaaaaaaaaaaaaa"]) == []


def test_all_protocols_cover_every_port_and_no_rule_refuses() -> None:
    assert admits([EVERYTHING_FROM_LB], 8443, None, ["sg-0fedcba9876543210"]) == ["lb"]
    assert admits([], 443, "10.0.5.5") == []
    assert admits([HTTPS_FROM_VPC, FROM_NODES], 443, "10.0.1.1") == ["https"]
