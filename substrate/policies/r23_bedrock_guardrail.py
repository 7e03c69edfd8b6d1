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

Models that do not support guardrails (embedding models: `guardrails: false` in
`substrate/components/bedrock/data/bedrock_models.json`, from the User Guide's "Supported Regions
and models for
Amazon Bedrock Guardrails") cannot carry one, so they are accepted explicitly: an Allow whose
every resource is such a model needs no guardrail condition, and a guardrail Deny must not
cover them (it would refuse every call to them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy

from substrate.components.bedrock import bedrock_capabilities
from substrate.components.bedrock.bedrock_models import (
    APPLY_GUARDRAIL,
    GUARDRAIL_ARN,
    GUARDRAIL_KEY,
    INVOKE_ACTIONS,
    parse_arn,
)

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


def exempt(arn: str) -> bool:
    """A foundation model or system inference profile ARN whose model does not support
    guardrails (per the capability table)."""
    parts = parse_arn(arn)
    if parts is None or parts["kind"] not in ("foundation-model", "inference-profile"):
        return False
    model = parts["id"] if parts["kind"] == "foundation-model" else parts["id"].split(".", 1)[-1]
    found = bedrock_capabilities.table().get(model)
    return found is not None and not found.guardrails


def _exempt_statement(stmt: Mapping[str, Any]) -> bool:
    arns = resources(stmt)
    return bool(arns) and all(exempt(a) for a in arns)


def _denies_exempt(where: str, doc: Mapping[str, Any]) -> list[str]:
    found = sorted(
        {
            a
            for s in denies(doc)
            if condition_values(s, "StringNotEquals", GUARDRAIL_KEY)
            for a in resources(s)
            if exempt(a)
        }
    )
    if not found:
        return []
    return [
        f"{where} denies calls without the guardrail to {', '.join(found)}, which do not support "
        "guardrails: every call to them is refused"
    ]


def check_document(where: str, doc: Mapping[str, Any], required: bool) -> list[str]:
    invokes = [s for s in invoke_statements(doc) if not _exempt_statement(s)]
    mentioned = any(GUARDRAIL_KEY.lower() in condition_keys(s) for s in statements(doc))
    problems = _denies_exempt(where, doc)
    if not invokes or not (mentioned or required):
        return problems
    return problems + _check_guarded(where, doc, invokes)


def _check_guarded(
    where: str, doc: Mapping[str, Any], invokes: list[Mapping[str, Any]]
) -> list[str]:
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
    "ApplyGuardrail on the guardrail ARN; required on every invoke grant of a model that "
    "supports guardrails when requireGuardrail is set, never denied to one that does not "
    "(Bedrock User Guide).",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={"requireGuardrail": {"type": "boolean", "default": False}}
    ),
    validate=by_type({t: _check(t) for t in BEDROCK_DOCUMENT_TYPES}),
)
