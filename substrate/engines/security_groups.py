"""Whether a security group admits a TCP connection, from the rules a plan declares.

No AWS engine runs offline, so this is a small model of the Amazon VPC User Guide, "Security
group rules": rules only allow (there are no deny rules); a connection is admitted when any
inbound rule matches its protocol (``-1`` is every protocol), its destination port lies in the
rule's port range, and its source is within the rule's CIDR or is an instance in the rule's
referenced security group. Security groups are stateful, so return traffic needs no rule.
Rules come from ``aws:ec2/securityGroup:SecurityGroup`` inline ``ingress`` and from
``aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule`` resources (one rule each).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


class Record(Protocol):
    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def inputs(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Rule:
    where: str
    """The resource that declares it (for messages)."""
    protocol: str
    from_port: int
    to_port: int
    cidrs: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    def admits(self, port: int, source: str | None, source_groups: Iterable[str]) -> bool:
        if self.protocol not in ("-1", "tcp", "6"):
            return False
        if self.protocol != "-1" and not self.from_port <= port <= self.to_port:
            return False
        if source is not None:
            address = ipaddress.ip_address(source)
            if any(address in ipaddress.ip_network(c) for c in self.cidrs):
                return True
        return bool(set(self.groups) & set(source_groups))


def _inline(record: Record) -> list[Rule]:
    return [
        Rule(
            record.name,
            str(rule.get("protocol", "")),
            int(rule.get("fromPort", 0)),
            int(rule.get("toPort", 0)),
            tuple(rule.get("cidrBlocks") or ()),
            tuple(rule.get("securityGroups") or ()),
        )
        for rule in record.inputs.get("ingress") or []
    ]


def _standalone(inputs: Mapping[str, Any], name: str) -> Rule:
    cidr = inputs.get("cidrIpv4")
    group = inputs.get("referencedSecurityGroupId")
    return Rule(
        name,
        str(inputs.get("ipProtocol", "")),
        int(inputs.get("fromPort", 0)),
        int(inputs.get("toPort", 0)),
        (str(cidr),) if cidr else (),
        (str(group),) if group else (),
    )


def inbound_rules(records: Iterable[Record], group_id: str, ids: Mapping[str, str]) -> list[Rule]:
    """Every inbound rule of the group ``group_id``; ``ids`` maps the logical name of each
    SecurityGroup record to its id (the plan's mock ids)."""
    rules: list[Rule] = []
    for record in records:
        if record.type == GROUP and ids.get(record.name) == group_id:
            rules += _inline(record)
        elif record.type == INGRESS_RULE and record.inputs.get("securityGroupId") == group_id:
            rules.append(_standalone(record.inputs, record.name))
    return rules


def admits(
    rules: Iterable[Rule], port: int, source: str | None = None, source_groups: Iterable[str] = ()
) -> list[str]:
    """The rules (by declaring resource) that admit TCP ``port`` from the address ``source`` or
    an instance in ``source_groups``; empty when the group refuses the connection."""
    groups = list(source_groups)
    return [r.where for r in rules if r.admits(port, source, groups)]
