"""R23: a Bedrock guardrail is enforced the documented way, on a published version.

For a document (identity or VPC endpoint policy) that grants model invocation and either
mentions `bedrock:GuardrailIdentifier` or is required to (`requireGuardrail`):
- every Allow of InvokeModel* has `StringEquals` `bedrock:GuardrailIdentifier` = a versioned
  guardrail ARN (`arn:...:guardrail/<id>:<number>`; DRAFT changes under running agents);
- a Deny of InvokeModel and InvokeModelWithResponseStream with `StringNotEquals` on the same
  ARN backs it up (it holds whatever else the principal is granted);
- `bedrock:ApplyGuardrail` is allowed on the guardrail's ARN.
(Bedrock User Guide, "Enforce the use of specific guardrails in model inference requests",
example 1.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy

from components.bedrock_models import APPLY_GUARDRAIL, GUARDRAIL_ARN, GUARDRAIL_KEY, INVOKE_ACTIONS

from ._iam import (
    BEDROCK_DOCUMENT_TYPES,
    actions,
    allows,
    condition_keys,
    condition_values,
    denies,
    documents,
    invoke_statements,
    matches,
    resources,
)
from ._props import by_type, statements


def _versioned(arn: str) -> bool:
    match = GUARDRAIL_ARN.match(arn)
    return match is not None and bool(match.group("v")) and match.group("v").isdigit()


def check_document(where: str, doc: Mapping[str, Any], required: bool) -> list[str]:
    invokes = invoke_statements(doc)
    mentioned = any(GUARDRAIL_KEY.lower() in condition_keys(s) for s in statements(doc))
    if not invokes or not (mentioned or required):
        return []
    wanted: set[str] = set()
    for stmt in invokes:
        values = condition_values(stmt, "StringEquals", GUARDRAIL_KEY)
        sid = f"{where} statement {stmt.get('Sid', '(no Sid)')!r}"
        if len(values) != 1 or not _versioned(values[0]):
            return [
                f"{sid} allows model invocation without StringEquals {GUARDRAIL_KEY} = one "
                "versioned guardrail ARN (arn:...:guardrail/<id>:<version>)"
            ]
        wanted.add(values[0])
    if len(wanted) != 1:
        return [f"{where} allows invocation under different guardrails: {sorted(wanted)}"]
    guardrail = wanted.pop()
    backed = any(
        condition_values(s, "StringNotEquals", GUARDRAIL_KEY) == [guardrail]
        and all(any(matches(a, i) for a in actions(s)) for i in INVOKE_ACTIONS)
        for s in denies(doc)
    )
    if not backed:
        return [
            f"{where} has no Deny of {', '.join(INVOKE_ACTIONS)} with StringNotEquals "
            f"{GUARDRAIL_KEY} = {guardrail}; other grants could skip the guardrail"
        ]
    base = guardrail.rsplit(":", 1)[0]
    applies = any(
        any(matches(a, APPLY_GUARDRAIL) for a in actions(s)) and base in resources(s)
        for s in allows(doc)
    )
    if not applies:
        return [f"{where} does not allow {APPLY_GUARDRAIL} on {base}"]
    return []


def _check(resource_type: str):
    def check(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
        required = bool(config.get("requireGuardrail", False))
        return [
            p
            for where, doc in documents(resource_type, props)
            for p in check_document(where, doc, required)
        ]

    return check


POLICY = ResourceValidationPolicy(
    name="r23-bedrock-guardrail",
    description="R23: Bedrock guardrail enforcement: Allow with StringEquals and Deny with "
    "StringNotEquals on bedrock:GuardrailIdentifier (a versioned guardrail ARN) and "
    "ApplyGuardrail on the guardrail ARN; required on every invoke grant when "
    "requireGuardrail is set (Bedrock User Guide).",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={"requireGuardrail": {"type": "boolean", "default": False}}
    ),
    validate=by_type({t: _check(t) for t in BEDROCK_DOCUMENT_TYPES}),
)
