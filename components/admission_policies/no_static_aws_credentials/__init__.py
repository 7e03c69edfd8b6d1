"""R20: pods get AWS credentials from EKS Pod Identity, never from static keys in environment
variables (long-lived keys leak through `kubectl describe`, logs and crash dumps, and bypass
per-service-account IAM roles)."""

from __future__ import annotations

from typing import Any

from components.admission_policies._base import (
    ALL_CONTAINERS,
    PolicySettings,
    cel,
    validating_policy,
    validation,
    variable,
)

NAME = "no-static-aws-credentials"
RULE = "R20"

CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
)
"""Environment variables the AWS SDKs read static credentials from (the last two are the
Java SDK's alternative names)."""


def build(settings: PolicySettings) -> dict[str, Any]:
    return validating_policy(
        NAME,
        settings,
        rule=RULE,
        title="No static AWS credentials in environment variables",
        subject="Pod",
        description="Containers do not set AWS credential environment variables (literal or "
        "from Secrets); workloads use EKS Pod Identity.",
        variables=[
            variable("containers", ALL_CONTAINERS),
            variable(
                "offending",
                "variables.containers.filter(c, c.?env.orValue([])"
                f".exists(e, e.name in {cel(CREDENTIAL_VARIABLES)}))",
            ),
        ],
        validations=[
            validation(
                "size(variables.offending) == 0",
                "Static AWS credentials in environment variables are not allowed; use EKS Pod "
                "Identity.",
                "'containers setting AWS credential variables (use EKS Pod Identity): ' + "
                "variables.offending.map(c, c.name).join(', ')",
            ),
        ],
    )
