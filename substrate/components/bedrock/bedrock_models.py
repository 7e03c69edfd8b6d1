"""Amazon Bedrock model identifiers, ARNs and cross-Region routing, as plain data.

Pure Python (no Pulumi import): config validation, the agent-role component, the endpoint
policy and the pack policies (R22, R23) share these rules.

Sources:
- ARN formats: Service Authorization Reference, "Resource types defined by Amazon Bedrock"
  (foundation-model ``arn:${Partition}:bedrock:${Region}::foundation-model/${ResourceId}``,
  inference-profile ``arn:${Partition}:bedrock:${Region}:${Account}:inference-profile/${Id}``,
  guardrail ``arn:${Partition}:bedrock:${Region}:${Account}:guardrail/${GuardrailId}``).
- Identifier patterns: the Bedrock API model (``FoundationModelArn``, ``InferenceProfileId``,
  ``GuardrailId``, ``GuardrailNumericalVersion`` shapes of bedrock 2023-04-20).
- Routing: ``data/bedrock_inference_profiles.json`` (User Guide, "Supported Regions and models
  for inference profiles"; for models it no longer lists, their model cards' "Geo inference
  details" and "Global inference details"), the offline fallback of AWS's deploy-time
  GetInferenceProfile answer. A geographic profile's destination list never changes; a global
  profile routes to every commercial Region and is authorized on a Region-less model ARN
  (User Guide, "Global cross-Region inference": three-part policy).
"""

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

from substrate.components.bedrock import bedrock_capabilities
from substrate.components.bedrock.bedrock_capabilities import Capabilities
from substrate.components.core.validators import Problem, partition_of

INVOKE_ACTIONS = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")
"""What an agent may do with a model. Converse needs bedrock:InvokeModel and ConverseStream
bedrock:InvokeModelWithResponseStream (Bedrock API Reference, Converse/ConverseStream)."""
APPLY_GUARDRAIL = "bedrock:ApplyGuardrail"
GUARDRAIL_KEY = "bedrock:GuardrailIdentifier"
PROFILE_KEY = "bedrock:InferenceProfileArn"
GLOBAL = "global"
COMMERCIAL = "*"
"""Destination marker of global profiles in the routing table: every commercial Region."""

# Geography prefixes of system-defined (cross-Region) inference profiles, by partition.
PROFILE_GEOGRAPHIES = {
    "aws": ("us", "eu", "apac", "jp", "au", "ca", GLOBAL),
    "aws-us-gov": ("us-gov",),
}
_FM_ID = r"[a-z0-9-]{1,63}[.]([a-z0-9-]{1,63}[.]){0,2}[a-z0-9-]{1,63}([:][a-z0-9-]{1,63}){0,2}"
FOUNDATION_MODEL_ID = re.compile(rf"^{_FM_ID}$")
INFERENCE_PROFILE_ID = re.compile(r"^[a-zA-Z0-9-:.]{1,64}$")
GUARDRAIL_ID = re.compile(r"^[a-z0-9]{1,64}$")
GUARDRAIL_VERSION = re.compile(r"^[1-9][0-9]{0,7}$")
_ARN = re.compile(
    r"^arn:(?P<partition>aws(-[a-z-]+)?):bedrock:(?P<region>[a-z0-9-]*):(?P<account>\d{12})?:"
    r"(?P<kind>[a-z-]+)/(?P<id>.+)$"
)
GUARDRAIL_ARN = re.compile(
    r"^arn:aws(-[a-z-]+)?:bedrock:[a-z0-9-]+:\d{12}:guardrail/[a-z0-9]{1,64}(:(?P<v>[^:]+))?$"
)


class ModelKind(StrEnum):
    """What a catalog model's `id` names."""

    FOUNDATION_MODEL = "foundation-model"
    """A foundation model id (`amazon.nova-pro-v1:0`), called in the stack's Region."""
    INFERENCE_PROFILE = "inference-profile"
    """A system-defined (cross-Region) inference profile id (`us.amazon.nova-pro-v1:0`)."""


Kind = ModelKind


@cache
def profile_table() -> dict[str, dict[str, tuple[str, ...]]]:
    """Inference profile id -> source Region -> destination Regions."""
    path = Path(__file__).with_name("data") / "bedrock_inference_profiles.json"
    raw = json.loads(path.read_text())["profiles"]
    return {p: {s: tuple(d) for s, d in routes.items()} for p, routes in raw.items()}


@dataclass(frozen=True)
class ModelRef:
    """A catalog entry: the name agents and tenants use, and what it points at."""

    name: str
    """Catalog name agents and tenants use (`substrate:bedrock.models` key)."""
    kind: ModelKind
    """`foundation-model` or `inference-profile`: what `id` names."""
    id: str
    """Foundation model id (``amazon.nova-pro-v1:0``) or system inference profile id
    (``us.amazon.nova-pro-v1:0``)."""

    @property
    def foundation_model_id(self) -> str:
        if self.kind == "foundation-model":
            return self.id
        return self.id.split(".", 1)[1]

    @property
    def is_global(self) -> bool:
        return self.kind == "inference-profile" and self.id.startswith(f"{GLOBAL}.")

    @property
    def capabilities(self) -> Capabilities:
        """What the model behind this entry supports (ValueError if the table lacks it)."""
        return bedrock_capabilities.of(self.foundation_model_id)


@dataclass(frozen=True)
class ResolvedModel:
    """The ARNs a caller needs for one catalog model from one Region."""

    name: str
    invoke_arn: str
    """The resource the caller names: the foundation model ARN or the inference profile ARN."""
    direct_model_arns: tuple[str, ...]
    """Foundation model ARNs callable directly (a foundation-model entry)."""
    profile_arn: str | None
    routed_model_arns: tuple[str, ...]
    """Foundation model ARNs reachable only through ``profile_arn`` (source and destination
    Regions), granted with ``bedrock:InferenceProfileArn`` equal to it."""
    global_model_arn: str | None
    """Region-less model ARN of a global profile (``aws:RequestedRegion`` is ``unspecified``)."""
    actions: tuple[str, ...]
    """What a caller needs: InvokeModel, plus InvokeModelWithResponseStream for a streaming
    model."""
    guardrails: bool
    """The model supports guardrails (a stack's guardrail is required on its calls)."""
    count_tokens_arn: str | None = None
    """The foundation model in the caller's Region, for bedrock:CountTokens (only a model whose
    tokens bedrock-runtime counts; CountTokens names a foundation model, never a profile)."""

    @property
    def all_arns(self) -> tuple[str, ...]:
        arns = [self.invoke_arn, *self.direct_model_arns, *self.routed_model_arns]
        if self.global_model_arn:
            arns.append(self.global_model_arn)
        return tuple(dict.fromkeys(arns))


def foundation_model_arn(partition: str, region: str, model_id: str) -> str:
    return f"arn:{partition}:bedrock:{region}::foundation-model/{model_id}"


def inference_profile_arn(partition: str, region: str, account: str, profile_id: str) -> str:
    return f"arn:{partition}:bedrock:{region}:{account}:inference-profile/{profile_id}"


def application_profile_arn(partition: str, region: str, account: str, profile_id: str) -> str:
    """``arn:${Partition}:bedrock:${Region}:${Account}:application-inference-profile/${Id}``
    (Service Authorization Reference, resource type application-inference-profile); ``*`` as
    ``profile_id`` names every application profile of the account in the Region."""
    return f"arn:{partition}:bedrock:{region}:{account}:application-inference-profile/{profile_id}"


def guardrail_arn(
    partition: str, region: str, account: str, guardrail_id: str, version: str | None = None
) -> str:
    """The guardrail ARN; with ``version``, the versioned form `bedrock:GuardrailIdentifier`
    carries (User Guide, "Enforce the use of specific guardrails in model inference requests")."""
    arn = f"arn:{partition}:bedrock:{region}:{account}:guardrail/{guardrail_id}"
    return f"{arn}:{version}" if version else arn


def parse_arn(arn: str) -> dict[str, str] | None:
    """partition, region, account, kind and id of a Bedrock ARN (None if not one)."""
    match = _ARN.match(arn)
    return None if match is None else {k: v or "" for k, v in match.groupdict().items()}


def destinations(profile_id: str, region: str) -> tuple[str, ...] | None:
    """Regions ``profile_id`` routes to when called from ``region`` (None: not a source)."""
    return profile_table().get(profile_id, {}).get(region)


def check_foundation_model(model_id: str) -> Problem | None:
    if FOUNDATION_MODEL_ID.match(model_id):
        return None
    return Problem(
        "is not a Bedrock foundation model id",
        'an id such as "amazon.nova-pro-v1:0" or "anthropic.claude-sonnet-4-5-20250929-v1:0"',
    )


def check_inference_profile(profile_id: str, region: str) -> Problem | None:
    """A system-defined cross-Region profile Substrate knows the routing of, callable here."""
    partition = partition_of(region)
    geos = PROFILE_GEOGRAPHIES.get(partition, ())
    geo, _, model = profile_id.partition(".")
    if not INFERENCE_PROFILE_ID.match(profile_id) or geo not in geos or not model:
        return Problem(
            f"is not a cross-Region inference profile id of the {partition} partition",
            f"<{'|'.join(geos) or 'none'}>.<foundation model id>, e.g. "
            '"us.anthropic.claude-sonnet-4-5-20250929-v1:0"',
        )
    routes = profile_table().get(profile_id)
    if routes is None:
        return Problem(
            "is not in Substrate's inference profile routing table "
            "(substrate/components/bedrock/data/bedrock_inference_profiles.json)",
            "a listed profile; add its Regions from the Bedrock User Guide first",
        )
    if region not in routes:
        return Problem(
            f"cannot be called from {region}",
            "a Region the profile lists as a source: " + ", ".join(sorted(routes)),
        )
    return None


def model_from_arn(arn: str, region: str) -> tuple[Kind, str] | Problem:
    """(kind, id) of a foundation model or inference profile ARN of this Region/partition."""
    parts = parse_arn(arn)
    partition = partition_of(region)
    if parts is None or parts["kind"] not in ("foundation-model", "inference-profile"):
        return Problem(
            "is not a Bedrock foundation model or inference profile ARN",
            f"arn:{partition}:bedrock:{region}::foundation-model/<id> or "
            f"arn:{partition}:bedrock:{region}:<account>:inference-profile/<id>",
        )
    if parts["partition"] != partition or parts["region"] != region:
        return Problem(
            f"is in {parts['partition']}/{parts['region'] or '<no Region>'}, not the stack's "
            f"{partition}/{region}",
            f"an ARN of {region} (the Region the agents call Bedrock in)",
        )
    return ModelKind(parts["kind"]), parts["id"]


def check_model(ref: ModelRef, region: str) -> Problem | None:
    if partition_of(region) == "aws-cn":
        return Problem(
            "cannot be used: Substrate does not manage Amazon Bedrock in the aws-cn partition",
            "a Region of the aws or aws-us-gov partition",
        )
    problem = (
        check_foundation_model(ref.id)
        if ref.kind == "foundation-model"
        else check_inference_profile(ref.id, region)
    )
    model = ref.foundation_model_id
    return problem or bedrock_capabilities.check(
        model, ref.kind, region, profiles_of(model, region)
    )


def profiles_of(model_id: str, region: str) -> tuple[str, ...]:
    """The routing table's profiles of ``model_id`` that ``region`` may call."""
    return tuple(
        p
        for p, routes in sorted(profile_table().items())
        if p.split(".", 1)[1] == model_id and region in routes
    )


def resolve(
    ref: ModelRef,
    partition: str,
    region: str,
    account: str,
    routed: Sequence[str] | None = None,
    *,
    application_profile: str | None = None,
) -> ResolvedModel:
    """The ARNs for ``ref`` called from ``region`` by principals of ``account``.

    A geographic profile needs the foundation model in the source Region and in every
    destination Region (User Guide, "IAM policy requirements for Geographic cross-Region
    inference"); a global profile the source-Region model and the Region-less model.
    ``routed``: the profile's destination Regions as AWS reports them at deploy time
    (``aws.bedrock.getInferenceProfile``); default: the shipped routing table.

    ``application_profile``: the ARN of an application inference profile copied from ``ref``
    (User Guide, "Create an application inference profile"). The caller names it, and the
    foundation model in each Region it is associated with (the stack's Region for a foundation
    model, the copied profile's Regions otherwise) is reachable only through it (User Guide,
    "Prerequisites for inference profiles"); the system-defined profile is not granted.
    """
    model = ref.foundation_model_id
    caps = ref.capabilities
    here = foundation_model_arn(partition, region, model)
    counted = here if caps.count_tokens else None
    if ref.kind == "foundation-model" and application_profile is None:
        return ResolvedModel(
            ref.name, here, (here,), None, (), None, caps.actions, caps.guardrails, counted
        )
    if ref.is_global and application_profile is not None:
        raise ValueError(f"{ref.id}: application profiles of global profiles are not supported")
    if ref.kind == "foundation-model":
        routed = (region,)
    profile = application_profile or inference_profile_arn(partition, region, account, ref.id)
    if routed is None:
        routed = destinations(ref.id, region)
    if routed is None:
        raise ValueError(f"{ref.id} cannot be called from {region}")
    regions = sorted({region, *(r for r in routed if r != COMMERCIAL)})
    models = tuple(foundation_model_arn(partition, r, model) for r in regions)
    global_arn = f"arn:{partition}:bedrock:::foundation-model/{model}" if ref.is_global else None
    return ResolvedModel(
        ref.name, profile, (), profile, models, global_arn, caps.actions, caps.guardrails, counted
    )
