"""R22: Bedrock model invocation is granted only on named models, never `bedrock:*` or `*`.

Checked in identity policies and VPC endpoint policies, for every Allow statement that names a
`bedrock:` action covering InvokeModel or InvokeModelWithResponseStream:
- the actions are named (no `bedrock:*`, `bedrock:Invoke*`: wildcards grow with the service);
- every resource is an explicit foundation-model or inference-profile ARN (no `*`, no
  wildcard in the ARN);
- a document that grants a cross-Region inference profile also grants the foundation model in
  the source Region and every Region the profile routes to (the Region-less model ARN for a
  global profile) (Bedrock User Guide, "Prerequisites for inference profiles": "you must also
  specify the foundation model in each Region associated with it"). Routing comes from
  `substrate/components/bedrock/data/bedrock_inference_profiles.json`; a profile missing from it is
  not judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

from substrate.components.bedrock.bedrock_models import (
    COMMERCIAL,
    destinations,
    foundation_model_arn,
    parse_arn,
)

from ._iam import BEDROCK_DOCUMENT_TYPES, actions, documents, invoke_statements, resources
from ._props import by_type

MODEL_KINDS = ("foundation-model", "inference-profile", "application-inference-profile")


def _statement(where: str, stmt: Mapping[str, Any]) -> list[str]:
    sid = f"{where} statement {stmt.get('Sid', '(no Sid)')!r}"
    problems = []
    wild = [a for a in actions(stmt) if a.lower().startswith("bedrock:") and "*" in a]
    if wild:
        problems.append(
            f"{sid} grants {', '.join(wild)}; name bedrock:InvokeModel and "
            "bedrock:InvokeModelWithResponseStream"
        )
    for arn in resources(stmt):
        parts = parse_arn(arn)
        if "*" in arn or parts is None or parts["kind"] not in MODEL_KINDS:
            problems.append(
                f"{sid} allows model invocation on {arn!r}; list foundation-model and "
                "inference-profile ARNs without wildcards"
            )
    return problems


def _routing(where: str, stmts: list[Mapping[str, Any]]) -> list[str]:
    granted = {r for s in stmts for r in resources(s)}
    problems = []
    for arn in sorted(granted):
        parts = parse_arn(arn)
        if parts is None or parts["kind"] != "inference-profile":
            continue
        routed = destinations(parts["id"], parts["region"])
        if routed is None:
            continue
        model = parts["id"].split(".", 1)[1]
        regions = sorted({parts["region"], *(r for r in routed if r != COMMERCIAL)})
        needed = [foundation_model_arn(parts["partition"], r, model) for r in regions]
        if COMMERCIAL in routed:
            needed.append(f"arn:{parts['partition']}:bedrock:::foundation-model/{model}")
        missing = [n for n in needed if n not in granted]
        if missing:
            problems.append(
                f"{where} grants inference profile {parts['id']} from {parts['region']} but not "
                f"the model in the Regions it routes to: {', '.join(missing)}"
            )
    return problems


def check_document(where: str, doc: Mapping[str, Any]) -> list[str]:
    stmts = invoke_statements(doc)
    problems = [p for s in stmts for p in _statement(where, s)]
    return problems + _routing(where, stmts)


def _check(resource_type: str):
    def check(props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
        return [
            p for where, doc in documents(resource_type, props) for p in check_document(where, doc)
        ]

    return check


POLICY = ResourceValidationPolicy(
    name="r22-bedrock-invoke-scope",
    description="R22: Bedrock InvokeModel* only on named foundation-model and inference-profile "
    "ARNs, with the model in every Region a granted profile routes to; never bedrock:* or "
    "Resource * (Bedrock User Guide, inference profile prerequisites).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=by_type({t: _check(t) for t in BEDROCK_DOCUMENT_TYPES}),
)
