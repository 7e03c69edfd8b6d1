"""R10: IMDS answers only the node itself (hop limit 1), not pods (CKV_AWS_341)."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from ._imds import metadata_option
from ._props import MISSING, UNKNOWN
from ._types import EC2_NODE_CLASS, LAUNCH_TEMPLATE


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in (LAUNCH_TEMPLATE, EC2_NODE_CLASS):
        return
    hops = metadata_option(args.resource_type, args.props, "httpPutResponseHopLimit")
    if hops is UNKNOWN or hops == 1:
        return
    shown = "unset" if hops is MISSING else repr(hops)
    report_violation(
        f"metadata httpPutResponseHopLimit is {shown}; set 1 so containers "
        "cannot reach the node's instance credentials (pods use Pod Identity)",
        None,
    )


POLICY = ResourceValidationPolicy(
    name="r10-imds-hop-limit",
    description="R10: launch templates and EC2NodeClasses set httpPutResponseHopLimit to 1 "
    "(CKV_AWS_341, CT.EC2.PR.2).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate,
)
