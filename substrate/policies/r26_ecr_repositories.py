"""R26: ECR repositories keep tags immutable and scan images on push (CKV_AWS_51/163)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

from ._props import MISSING, UNKNOWN, by_type, value
from ._types import ECR_REPOSITORY


def _check(props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    problems = []
    mutability = value(props, "imageTagMutability")
    if mutability is not UNKNOWN and mutability != "IMMUTABLE":
        shown = "unset (ECR defaults to MUTABLE)" if mutability is MISSING else repr(mutability)
        problems.append(
            f"imageTagMutability is {shown}; set IMMUTABLE so a tag always names "
            "the image that was scanned and approved"
        )
    scan = value(props, "imageScanningConfiguration", "scanOnPush")
    if scan is not UNKNOWN and scan is not True:
        problems.append(
            "imageScanningConfiguration.scanOnPush is not true; scan every image when it is pushed"
        )
    return problems


POLICY = ResourceValidationPolicy(
    name="r26-ecr-repositories",
    description="R26: ECR repositories are IMMUTABLE and scan on push (CKV_AWS_51, "
    "CKV_AWS_163, CIS 5.1.1).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=by_type({ECR_REPOSITORY: _check}),
)
