"""What each Amazon Bedrock foundation model can do, and where a guardrail is evaluated, as data.

Pure Python (no Pulumi import): config validation, the agent role, the endpoint policy, the pack
policies (R22, R23) and the IAM journeys read the same facts.

- ``data/bedrock_models.json``: per foundation model id, whether it supports guardrails, whether
  it can be called on demand with its bare id (``false``: only through an inference profile;
  ``inRegion``: the Regions that still serve the bare id of such a model), its input and
  output modalities, whether it streams and whether bedrock-runtime counts its tokens
  (Bedrock User Guide, "Supported foundation models in Amazon Bedrock", the model cards,
  "Supported Regions and models for Amazon Bedrock Guardrails" and "Monitor your token usage by
  counting tokens before running inference").
- ``data/bedrock_guardrail_profiles.json``: system-defined guardrail profiles (cross-Region
  guardrail inference, which the Standard tier requires) and the Regions each routes to from
  each source Region (User Guide, "Supported Regions for cross-Region guardrail inference").

What an SDK may send follows from the capabilities (Bedrock API Reference): InvokeModel always;
InvokeModelWithResponseStream only for a streaming model; Converse and ConverseStream only for
models that answer in text (embedding models are not supported by Converse). Converse authorizes
as bedrock:InvokeModel, ConverseStream as bedrock:InvokeModelWithResponseStream. CountTokens
(bedrock:CountTokens) names a foundation model and only works for the models the token-counting
page lists; it runs no inference, so it carries no guardrail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from substrate.components.core.validators import Problem

INVOKE = "bedrock:InvokeModel"
STREAM = "bedrock:InvokeModelWithResponseStream"
COUNT_TOKENS = "bedrock:CountTokens"
DATA = Path(__file__).with_name("data")
GUARDRAIL_PROFILE_ID = re.compile(r"^[a-z0-9-]+[.]guardrail[.]v[0-9:]+$")
"""GuardrailCrossRegionConfig.guardrailProfileIdentifier (Bedrock API Reference)."""


@dataclass(frozen=True)
class Capabilities:
    """What one foundation model supports."""

    model_id: str
    guardrails: bool
    """Bedrock applies a guardrail to calls of this model (false: a call cannot carry one)."""
    on_demand: bool | None
    """Callable with its bare id in a Region (false: only through an inference profile; None:
    not recorded, AWS decides at run time)."""
    input: tuple[str, ...]
    output: tuple[str, ...]
    streaming: bool
    count_tokens: bool = False
    """bedrock-runtime's CountTokens answers for this model."""
    in_region: tuple[str, ...] = ()
    """Regions whose bedrock-runtime serves the bare id of a model that is otherwise offered
    only through inference profiles (the model card's In-Region column)."""

    def callable_on_demand(self, region: str | None) -> bool:
        """The bare id may be called in ``region`` (None: in some Region)."""
        if self.on_demand is not False:
            return True
        return bool(self.in_region) if region is None else region in self.in_region

    @property
    def actions(self) -> tuple[str, ...]:
        """The IAM actions a caller of this model needs, and no more."""
        return (INVOKE, STREAM) if self.streaming else (INVOKE,)

    @property
    def operations(self) -> tuple[str, ...]:
        """The Bedrock Runtime operations that work on this model."""
        ops = ["InvokeModel"]
        if self.streaming:
            ops.append("InvokeModelWithResponseStream")
        if "TEXT" in self.output:
            ops.append("Converse")
            if self.streaming:
                ops.append("ConverseStream")
        if self.count_tokens:
            ops.append("CountTokens")
        return tuple(ops)


@cache
def table() -> dict[str, Capabilities]:
    raw = json.loads((DATA / "bedrock_models.json").read_text())["models"]
    return {
        model: Capabilities(
            model,
            bool(c["guardrails"]),
            c["onDemand"],
            tuple(c["input"]),
            tuple(c["output"]),
            bool(c["streaming"]),
            bool(c["countTokens"]),
            tuple(c.get("inRegion", ())),
        )
        for model, c in raw.items()
    }


def of(model_id: str) -> Capabilities:
    """The capabilities of ``model_id``; ValueError when the table does not list it."""
    found = table().get(model_id)
    if found is None:
        raise ValueError(
            f"{model_id} is not in substrate/components/bedrock/data/bedrock_models.json"
        )
    return found


def check(
    model_id: str, kind: str, region: str | None = None, profiles: Sequence[str] = ()
) -> Problem | None:
    """A catalog entry's model must be listed, and a foundation-model entry callable on demand
    in ``region`` (None: in some Region); ``profiles``: the profile ids to name instead."""
    found = table().get(model_id)
    if found is None:
        return Problem(
            "is not in Substrate's model capability table "
            "(substrate/components/bedrock/data/bedrock_models.json)",
            "a listed model; add its guardrail support, on-demand availability, modalities and "
            "streaming from its Bedrock model card first",
        )
    if kind == "foundation-model" and not found.callable_on_demand(region):
        where = f" in {region}" if region and found.in_region else ""
        named = " or ".join(sorted(profiles)) or f"<geography>.{model_id}, e.g. us.{model_id}"
        return Problem(
            f"is offered only through inference profiles{where}: Bedrock refuses on-demand "
            "calls with its bare id",
            f"inferenceProfile: {named}",
        )
    return None


@cache
def guardrail_profiles() -> dict[str, dict[str, tuple[str, ...]]]:
    raw = json.loads((DATA / "bedrock_guardrail_profiles.json").read_text())["profiles"]
    return {p: {s: tuple(d) for s, d in routes.items()} for p, routes in raw.items()}


def guardrail_destinations(profile_id: str, region: str) -> tuple[str, ...] | None:
    """Regions guardrail profile ``profile_id`` evaluates in when called from ``region``."""
    return guardrail_profiles().get(profile_id, {}).get(region)


def check_guardrail_profile(profile_id: str, region: str) -> Problem | None:
    if not GUARDRAIL_PROFILE_ID.match(profile_id):
        return Problem(
            "is not a guardrail profile id",
            '<geography>.guardrail.v<n>:<m>, e.g. "us.guardrail.v1:0"',
        )
    routes = guardrail_profiles().get(profile_id)
    if routes is None:
        return Problem(
            "is not in Substrate's guardrail profile table "
            "(substrate/components/bedrock/data/bedrock_guardrail_profiles.json)",
            ", ".join(sorted(guardrail_profiles())) + ", or add its Regions from the User Guide",
        )
    if region not in routes:
        return Problem(
            f"cannot be used from {region}",
            "a guardrail profile whose source Regions include it: " + ", ".join(sorted(routes)),
        )
    return None


def guardrail_profile_arn(partition: str, region: str, account: str, profile_id: str) -> str:
    """``arn:${Partition}:bedrock:${Region}:${Account}:guardrail-profile/${Id}`` (Service
    Authorization Reference; the permissions page's example)."""
    return f"arn:{partition}:bedrock:{region}:{account}:guardrail-profile/{profile_id}"
