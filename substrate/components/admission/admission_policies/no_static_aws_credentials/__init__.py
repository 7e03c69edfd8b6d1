"""R20: pods get AWS credentials from EKS Pod Identity, never from static keys in environment
variables (long-lived keys leak through `kubectl describe`, logs and crash dumps, and bypass
per-service-account IAM roles).

`envFrom` imports every key of a Secret or ConfigMap as a variable, and Kyverno cannot read the
keys at admission. So an `envFrom` entry must set a `prefix` that no credential variable starts
with (`APP_`, not `AWS_` and not none): then no key can become `AWS_ACCESS_KEY_ID`.
"""

from __future__ import annotations

from typing import Any

from substrate.components.admission.admission_policies._base import (
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
            variable(
                "importing",
                "variables.containers.filter(c, c.?envFrom.orValue([]).exists(e, "
                f"{cel(CREDENTIAL_VARIABLES)}.exists(v, v.startsWith(e.?prefix.orValue('')))))",
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
            validation(
                "size(variables.importing) == 0",
                "envFrom must set a prefix that keeps AWS credential names out (e.g. APP_): the "
                "keys of a Secret or ConfigMap cannot be checked at admission.",
                "'containers importing a Secret or ConfigMap with envFrom without a prefix that "
                "keeps AWS credential names out (set envFrom[].prefix, e.g. APP_): ' + "
                "variables.importing.map(c, c.name).join(', ')",
            ),
        ],
    )
