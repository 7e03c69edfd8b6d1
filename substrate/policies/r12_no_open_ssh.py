"""R12: no node SSH open to the internet (CKV_AWS_100, CKV_AWS_24)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

from ._props import MISSING, UNKNOWN, by_type, items, value
from ._types import NODE_GROUP, SECURITY_GROUP, SECURITY_GROUP_INGRESS, SECURITY_GROUP_RULE

WORLD = ("0.0.0.0/0", "::/0")
SSH = 22


def _covers_ssh(rule: Any) -> bool:
    protocol = str(
        value(rule, "protocol")
        if value(rule, "protocol") is not MISSING
        else value(rule, "ipProtocol")
    )
    if protocol in ("-1", "all"):
        return True
    low, high = value(rule, "fromPort"), value(rule, "toPort")
    return (
        protocol in ("tcp", "6")
        and isinstance(low, int | float)
        and isinstance(high, int | float)
        and low <= SSH <= high
    )


def _world(rule: Any) -> list[str]:
    cidrs = [str(c) for key in ("cidrBlocks", "ipv6CidrBlocks") for c in items(value(rule, key))]
    cidrs += [
        str(value(rule, k))
        for k in ("cidrIpv4", "cidrIpv6")
        if value(rule, k) not in (MISSING, UNKNOWN, None)
    ]
    return [c for c in cidrs if c in WORLD]


def _ingress_rule(rule: Any, where: str) -> list[str]:
    world = _world(rule)
    if world and _covers_ssh(rule):
        return [
            f"{where} opens SSH (22) to {', '.join(world)}; reach nodes through SSM or a "
            "bastion on a private network instead"
        ]
    return []


def _security_group(props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    return [
        p
        for i, rule in enumerate(items(value(props, "ingress")))
        for p in _ingress_rule(rule, f"ingress[{i}]")
    ]


def _rule(props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    if value(props, "type") not in (MISSING, "ingress"):
        return []
    return _ingress_rule(props, "the rule")


def _node_group(props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    remote = value(props, "remoteAccess")
    if remote in (MISSING, UNKNOWN, None) or value(remote, "ec2SshKey") in (MISSING, None):
        return []
    if not items(value(remote, "sourceSecurityGroupIds")):
        return [
            "remoteAccess sets an SSH key without sourceSecurityGroupIds, which EKS opens "
            "to 0.0.0.0/0; name the security groups allowed to connect (or drop SSH)"
        ]
    return []


POLICY = ResourceValidationPolicy(
    name="r12-no-open-ssh",
    description="R12: no security group or node group opens node SSH to 0.0.0.0/0 or ::/0 "
    "(CKV_AWS_100).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=by_type(
        {
            SECURITY_GROUP: _security_group,
            SECURITY_GROUP_INGRESS: _rule,
            SECURITY_GROUP_RULE: _rule,
            NODE_GROUP: _node_group,
        }
    ),
)
