"""What AWS authorizes when an SDK calls Amazon Bedrock Runtime with a model or profile id.

Sources:
- Bedrock API Reference, Converse / ConverseStream / InvokeModel / InvokeModelWithResponseStream:
  Converse needs ``bedrock:InvokeModel``, ConverseStream ``bedrock:InvokeModelWithResponseStream``.
- Bedrock User Guide, "Geographic cross-Region inference" (IAM policy requirements): a call
  through a geographic profile is authorized on the profile in the source Region and on the
  foundation model in the destination Region Bedrock routes it to (any of the profile's
  destinations, the source included); the example grants the model with
  ``bedrock:InferenceProfileArn`` equal to the profile. The routed authorization is evaluated
  with ``aws:RequestedRegion`` = the destination (AWS's SCP example "Deny access to AWS based on
  the requested AWS region with Bedrock CRIS" carves CRIS out of Region denies for that reason).
- Bedrock User Guide, "Global cross-Region inference": the profile and the source-Region model
  with ``aws:RequestedRegion`` = the source, and the Region-less model
  ``arn:<p>:bedrock:::foundation-model/<id>`` with ``aws:RequestedRegion`` = ``unspecified``.
- Bedrock User Guide, "Enforce the use of specific guardrails in model inference requests":
  ``bedrock:GuardrailIdentifier`` carries the guardrail ARN with ``:<numeric version>`` (the
  bare ARN for DRAFT), and the role needs ``bedrock:ApplyGuardrail`` on the guardrail.
- Bedrock User Guide, "Supported Regions and models for Amazon Bedrock Guardrails": models the
  capability table marks ``guardrails: false`` do not support guardrails, so no call to them can
  carry one (``substrate.components.bedrock.bedrock_capabilities``, which also says which
  operations a model
  supports: embedding models answer InvokeModel only).
- Bedrock User Guide, "Permissions for using cross-Region inference with Amazon Bedrock
  Guardrails": a guardrail with a guardrail profile is applied with ``bedrock:ApplyGuardrail`` on
  the guardrail in the source Region and on the guardrail profile in the destination Region
  Bedrock evaluates it in (any of the profile's destinations).
- Bedrock API Reference, CountTokens: ``modelId`` is the foundation model (id or ARN); the call
  runs no inference, so it is authorized as ``bedrock:CountTokens`` on the foundation model in
  the caller's Region, with no guardrail and no routing (User Guide, "Monitor your token usage by
  counting tokens": the permission ``bedrock:CountTokens``).
- Service Authorization Reference, Amazon Bedrock: bedrock:GuardrailIdentifier and
  bedrock:InferenceProfileArn are condition keys of InvokeModel(WithResponseStream) on both
  foundation-model and inference-profile resources. AWS does not say whether the profile's own
  authorization carries bedrock:InferenceProfileArn; it is left out (no policy here tests it).
- Bedrock User Guide, "Create an application inference profile" and "Prerequisites for inference
  profiles": an application inference profile (``arn:<p>:bedrock:<r>:<account>:
  application-inference-profile/<id>``) copies a foundation model (one Region) or a system-defined
  cross-Region profile (its Regions); a caller names the application profile's ARN, which is
  authorized in the source Region, and the foundation model in each Region the profile is
  associated with, which a policy restricts to calls through the profile with
  ``bedrock:InferenceProfileArn`` naming "the inference profile that you want to filter access
  on": here the application profile the caller named.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from substrate.components.bedrock.bedrock_capabilities import (
    guardrail_destinations,
    guardrail_profile_arn,
)
from substrate.components.bedrock.bedrock_models import (
    COMMERCIAL,
    ModelRef,
    destinations,
    foundation_model_arn,
    guardrail_arn,
    inference_profile_arn,
)

OPERATIONS = {
    "Converse": "bedrock:InvokeModel",
    "ConverseStream": "bedrock:InvokeModelWithResponseStream",
    "InvokeModel": "bedrock:InvokeModel",
    "InvokeModelWithResponseStream": "bedrock:InvokeModelWithResponseStream",
    "CountTokens": "bedrock:CountTokens",
}


@dataclass(frozen=True)
class Guardrail:
    id: str
    version: str
    profile: str | None = None
    """The guardrail profile it is configured with (cross-Region guardrail inference)."""

    def identifier(self, partition: str, region: str, account: str) -> str:
        """The value of bedrock:GuardrailIdentifier for this id and version."""
        return guardrail_arn(partition, region, account, self.id, self.version)


@dataclass(frozen=True)
class Authorization:
    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Call:
    operation: str
    model: ModelRef
    destination: str
    guardrail: Guardrail | None
    authorizations: tuple[Authorization, ...]


def supports_guardrails(model: ModelRef) -> bool:
    return model.capabilities.guardrails


def operations(model: ModelRef) -> tuple[str, ...]:
    """The Bedrock Runtime operations an SDK can use on ``model``."""
    return model.capabilities.operations


def guardrail_routes(guardrail: Guardrail, region: str) -> tuple[str | None, ...]:
    """Regions a guardrail called from ``region`` may be evaluated in (None: no profile, the
    stack's Region only)."""
    if guardrail.profile is None:
        return (None,)
    found = guardrail_destinations(guardrail.profile, region)
    if found is None:
        raise ValueError(f"{guardrail.profile} cannot be used from {region}")
    return found


def routes(model: ModelRef, region: str) -> tuple[str, ...]:
    """Regions a call from ``region`` may run in: the stack's Region for a foundation model, the
    profile's destinations (a global profile: ``global``)."""
    if model.kind == "foundation-model":
        return (region,)
    if model.is_global:
        return ("global",)
    found = destinations(model.id, region)
    if found is None:
        raise ValueError(f"{model.id} cannot be called from {region}")
    return tuple(sorted(r for r in found if r != COMMERCIAL))


def call(
    operation: str,
    model: ModelRef,
    *,
    partition: str,
    region: str,
    account: str,
    destination: str | None = None,
    guardrail: Guardrail | None = None,
    guardrail_region: str | None = None,
    application_profile: str | None = None,
) -> Call:
    """The authorizations of one ``operation`` on ``model`` from ``region``, routed to
    ``destination`` (default: the first of ``routes``), with ``guardrail`` when given, evaluated
    in ``guardrail_region`` (default: the first of ``guardrail_routes``). With
    ``application_profile`` (the ARN of an application inference profile copied from ``model``),
    the caller names that ARN instead of ``model``."""
    action = OPERATIONS[operation]
    fm = model.foundation_model_id
    if operation == "CountTokens":
        counted = foundation_model_arn(partition, region, fm)
        count = Authorization(action, counted, {"aws:RequestedRegion": region})
        return Call(operation, model, region, None, (count,))
    destination = destination or routes(model, region)[0]
    guard: dict[str, str] = {}
    extra: list[Authorization] = []
    if guardrail is not None:
        guard["bedrock:GuardrailIdentifier"] = guardrail.identifier(partition, region, account)
        extra.append(
            Authorization(
                "bedrock:ApplyGuardrail",
                guardrail_arn(partition, region, account, guardrail.id),
                {"aws:RequestedRegion": region},
            )
        )
        if guardrail.profile is not None:
            where = guardrail_region or guardrail_routes(guardrail, region)[0] or region
            extra.append(
                Authorization(
                    "bedrock:ApplyGuardrail",
                    guardrail_profile_arn(partition, where, account, guardrail.profile),
                    {"aws:RequestedRegion": where},
                )
            )
    here = {"aws:RequestedRegion": region, **guard}
    if application_profile is not None:
        if model.is_global:
            raise ValueError("application profiles of global profiles are not modelled")
        through = {"bedrock:InferenceProfileArn": application_profile, **guard}
        steps = [
            Authorization(action, application_profile, here),
            Authorization(
                action,
                foundation_model_arn(partition, destination, fm),
                {**through, "aws:RequestedRegion": destination},
            ),
        ]
    elif model.kind == "foundation-model":
        steps = [Authorization(action, foundation_model_arn(partition, region, fm), here)]
    else:
        profile = inference_profile_arn(partition, region, account, model.id)
        through = {"bedrock:InferenceProfileArn": profile, **guard}
        steps = [Authorization(action, profile, here)]
        if model.is_global:
            steps += [
                Authorization(
                    action,
                    foundation_model_arn(partition, region, fm),
                    {**through, "aws:RequestedRegion": region},
                ),
                Authorization(
                    action,
                    f"arn:{partition}:bedrock:::foundation-model/{fm}",
                    {**through, "aws:RequestedRegion": "unspecified"},
                ),
            ]
        else:
            steps.append(
                Authorization(
                    action,
                    foundation_model_arn(partition, destination, fm),
                    {**through, "aws:RequestedRegion": destination},
                )
            )
    return Call(operation, model, destination, guardrail, (*steps, *extra))
