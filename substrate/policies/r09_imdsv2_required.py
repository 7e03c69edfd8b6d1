"""R9: nodes require IMDSv2 session tokens (CKV_AWS_79, CT.EC2.PR.1)."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from ._imds import metadata_option, unmanaged_nodes
from ._props import MISSING, UNKNOWN
from ._types import EC2_NODE_CLASS, EKS_COMPONENT, LAUNCH_TEMPLATE, NODE_GROUP


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    kind, props = args.resource_type, args.props
    if kind in (NODE_GROUP, EKS_COMPONENT):
        for message in unmanaged_nodes(kind, props):
            report_violation(message, None)
    elif kind in (LAUNCH_TEMPLATE, EC2_NODE_CLASS):
        tokens = metadata_option(kind, props, "httpTokens")
        if tokens != "required" and tokens is not UNKNOWN:
            shown = "unset (IMDSv1 stays open)" if tokens is MISSING else repr(tokens)
            report_violation(
                f'metadata httpTokens is {shown}; set "required" so only '
                "IMDSv2 session requests are answered",
                None,
            )


POLICY = ResourceValidationPolicy(
    name="r9-imdsv2-required",
    description="R9: launch templates and EC2NodeClasses require IMDSv2 (httpTokens: required) "
    "(CKV_AWS_79, CT.EC2.PR.1).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate,
)
