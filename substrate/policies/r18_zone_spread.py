"""R18: the cluster and Karpenter's node classes span enough Availability Zones (3 in prod).

Counts the distinct `availabilityZone`s of the subnets the control plane is placed in
(property dependencies of `subnetIds`, or of `vpcConfig` for a bare `aws:eks/cluster:Cluster`)
and of the subnets each EC2NodeClass's `subnetSelectorTerms` tags select. Subnets the plan does
not declare (an existing VPC) are not judged. `minZones` comes from the stack's policy config (2
unless set).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._props import MISSING, UNKNOWN, items, plain, value
from ._subnets import placed_in
from ._types import EC2_NODE_CLASS, EKS_CLUSTER, EKS_COMPONENT, SUBNET


def _zones(subnets: Sequence[PolicyResource]) -> set[str]:
    return {
        str(z)
        for s in subnets
        if (z := value(s.props, "availabilityZone")) not in (MISSING, UNKNOWN, None)
    }


def _selected(subnets: Sequence[PolicyResource], terms: Any) -> list[PolicyResource]:
    """Subnets matching any term's tags (Karpenter ORs terms, ANDs tags within one)."""
    chosen = []
    for subnet in subnets:
        tags = plain(value(subnet.props, "tags"))
        tags = tags if isinstance(tags, Mapping) else {}
        for term in items(terms):
            wanted = plain(value(term, "tags"))
            if (
                isinstance(wanted, Mapping)
                and wanted
                and all(tags.get(k) == v or (v == "*" and k in tags) for k, v in wanted.items())
            ):
                chosen.append(subnet)
                break
    return chosen


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    minimum = int(args.get_config().get("minZones", 2))
    subnets = [r for r in args.resources if r.resource_type == SUBNET]
    for resource in args.resources:
        if resource.resource_type in (EKS_COMPONENT, EKS_CLUSTER):
            placed = placed_in(resource)
            what = "the control plane's subnets"
        elif resource.resource_type == EC2_NODE_CLASS:
            placed = _selected(subnets, value(resource.props, "spec", "subnetSelectorTerms"))
            what = "the subnets this EC2NodeClass selects"
        else:
            continue
        zones = _zones(placed)
        if placed and len(zones) < minimum:
            report_violation(
                f"{what} span {len(zones)} Availability Zone(s) "
                f"({', '.join(sorted(zones))}); this stack requires at least "
                f"{minimum}",
                resource.urn,
            )


POLICY = StackValidationPolicy(
    name="r18-zone-spread",
    description="R18: the control plane and every EC2NodeClass span at least `minZones` "
    "Availability Zones (3 in production, 2 minimum) (EKS BPG data plane).",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={
            "minZones": {"type": "integer", "minimum": 1, "default": 2},
        }
    ),
    validate=validate,
)
