"""``substrate:bedrock``: the models this stack may call, guardrail, endpoints, invocation logs.

The model catalog is the contract with tenants and agents: a tenant is granted catalog names,
an agent names catalog models its tenant was granted (``require_granted``), and ARNs are
derived for the stack's Region and partition (``catalog`` ->
``substrate.components.bedrock.bedrock_models``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from substrate.components.bedrock import bedrock_capabilities, bedrock_models
from substrate.components.bedrock.bedrock_models import ModelKind, ModelRef
from substrate.components.core import validators
from substrate.config.checks import rule
from substrate.config.schema import ConfigError, Invalid, doc, key_path

if TYPE_CHECKING:
    from substrate.config.platform import PlatformConfig


class UnknownModelError(ConfigError):
    """A grant or an agent names a model that is not in ``substrate:bedrock.models``."""


class ModelNotGrantedError(ConfigError):
    """An agent names a catalog model that its tenant was not granted."""


def _guardrail_id(value: str) -> None:
    if not bedrock_models.GUARDRAIL_ID.match(value):
        raise Invalid(
            "is not a guardrail id", '1-64 lowercase letters and digits, e.g. "gr5x8abc1d2e"'
        )


def _guardrail_version(value: str) -> None:
    if not bedrock_models.GUARDRAIL_VERSION.match(value):
        raise Invalid(
            "is not a numeric guardrail version",
            'a published version such as "1" (quoted); DRAFT can change under running agents',
        )


@dataclass(frozen=True)
class ModelConfig:
    """One model the stack may call: set exactly one of the two keys."""

    foundation_model: str | None = doc(
        "Foundation model id (or its ARN in the stack's Region), called on demand in the "
        "stack's Region, e.g. `amazon.titan-embed-text-v2:0`. Models Bedrock offers only "
        "through inference profiles (e.g. Claude 4.x) are refused: use `inferenceProfile`.",
        default=None,
    )
    inference_profile: str | None = doc(
        "System-defined cross-Region inference profile id (or its ARN in the stack's Region), "
        "e.g. `us.anthropic.claude-sonnet-4-5-20250929-v1:0`. The agent role also gets the "
        "model in every Region the profile routes to from this Region.",
        default=None,
    )

    def check(self, path: str) -> None:
        if (self.foundation_model is None) == (self.inference_profile is None):
            raise ConfigError(
                path,
                {
                    k: v
                    for k, v in (
                        ("foundationModel", self.foundation_model),
                        ("inferenceProfile", self.inference_profile),
                    )
                    if v
                },
                "must set exactly one of foundationModel and inferenceProfile",
                "foundationModel: <model id> or inferenceProfile: <profile id>",
            )


@dataclass(frozen=True)
class GuardrailConfig:
    """A guardrail every model call must apply (an existing guardrail of this account/Region)."""

    id: Annotated[str, _guardrail_id] = doc("Guardrail id, as `aws bedrock list-guardrails` shows.")
    version: Annotated[str, _guardrail_version] = doc(
        "Published numeric version; policies name the versioned ARN `.../guardrail/<id>:<v>`."
    )
    cross_region_profile: str | None = doc(
        "The system-defined guardrail profile the guardrail is configured with (cross-Region "
        "guardrail inference, which the Standard tier requires), e.g. `us.guardrail.v1:0`: "
        "agents may then apply the guardrail through that profile in every Region it routes "
        "to from the stack's Region. None: the guardrail is evaluated in the stack's Region.",
        default=None,
    )


@dataclass(frozen=True)
class InvocationLoggingConfig:
    """Model invocation logging to CloudWatch Logs (one configuration per account and Region)."""

    manage: bool = doc(
        "This stack owns the account's Bedrock logging configuration in its Region. Exactly "
        "one stack per account and Region may (they would overwrite each other); set false "
        "where another stack or the account baseline owns it.",
        default=True,
    )
    log_group_name: str | None = doc(
        "Log group; default `/aws/bedrock/<cluster>/model-invocations`.", default=None
    )
    retention_days: Annotated[int, rule(validators.log_retention_days)] = doc(
        "How long CloudWatch keeps invocation records.", default=365
    )
    text_data: bool = doc("Log prompts and completions (not only metadata).", default=True)
    embedding_data: bool = doc("Log embedding vectors.", default=False)
    large_data_prefix: str | None = doc(
        "Deliver request and response bodies over 100 KB (and binary data) to an S3 bucket "
        "this stack creates (KMS-encrypted, private, kept retentionDays), under this key "
        "prefix; CloudWatch Logs keeps a reference. None: such bodies are not delivered.",
        default=None,
    )


@dataclass(frozen=True)
class BedrockConfig:
    """Amazon Bedrock access for agents: catalog, guardrail, private endpoints, audit logs."""

    models: dict[Annotated[str, rule(validators.dns_label)], ModelConfig] = doc(
        "Catalog of models this stack may call, by name (DNS label). Tenants are granted names "
        "from it; agents name models their tenant was granted."
    )
    guardrail: GuardrailConfig | None = doc(
        "Guardrail every agent call must use (R23); none when null.", default=None
    )
    agent_runtime: bool = doc(
        "Also create the `bedrock-agent-runtime` interface endpoint (Agents, Knowledge Bases). "
        "Refused today: the endpoint admits only agent roles, which are granted model "
        "invocation only, so no role could use it.",
        default=False,
    )
    invocation_logging: InvocationLoggingConfig = doc(
        "Model invocation logging (R25).", factory=InvocationLoggingConfig
    )

    def check(self, path: str) -> None:
        if not self.models:
            raise ConfigError(
                f"{path}.models", {}, "is empty", "at least one model, e.g. {claude: {...}}"
            )
        if self.agent_runtime:
            raise ConfigError(
                f"{path}.agentRuntime",
                True,
                "would create a bedrock-agent-runtime endpoint no role may use: it admits only "
                "agent roles, and they are granted model invocation only (bedrock:InvokeModel*)",
                "false (R24 asks for the endpoint only where some role may call it)",
            )

    def catalog(self, region: str) -> dict[str, ModelRef]:
        """Every catalog model as a ``ModelRef`` for ``region``; ConfigError if one is invalid
        there (malformed id, ARN of another Region/partition, profile not callable here)."""
        out = {}
        for name, model in sorted(self.models.items()):
            key = "foundationModel" if model.foundation_model else "inferenceProfile"
            value = model.foundation_model or model.inference_profile or ""
            where = f"{key_path('substrate:bedrock.models', name)}.{key}"
            ref = self._ref(name, key, value, region, where)
            problem = bedrock_models.check_model(ref, region)
            if problem:
                raise ConfigError(where, value, problem.problem, problem.allowed)
            out[name] = ref
        return out

    @staticmethod
    def _ref(name: str, key: str, value: str, region: str, where: str) -> ModelRef:
        kind = (
            ModelKind.FOUNDATION_MODEL if key == "foundationModel" else ModelKind.INFERENCE_PROFILE
        )
        if value.startswith("arn:"):
            parsed = bedrock_models.model_from_arn(value, region)
            if isinstance(parsed, validators.Problem):
                raise ConfigError(where, value, parsed.problem, parsed.allowed)
            if parsed[0] != kind:
                raise ConfigError(
                    where, value, f"is the ARN of a {parsed[0]}", f"a {kind} ARN or id under {key}"
                )
            value = parsed[1]
        return ModelRef(name=name, kind=kind, id=value)

    def check_grants(self, path: str, granted: Sequence[str]) -> None:
        """A tenant's grants name catalog models (UnknownModelError otherwise)."""
        for i, name in enumerate(granted):
            if name not in self.models:
                raise UnknownModelError(
                    f"{path}[{i}]",
                    name,
                    "is not a model of substrate:bedrock.models",
                    ", ".join(sorted(self.models)),
                )

    def require_granted(
        self, path: str, tenant: str, requested: Sequence[str], granted: Sequence[str]
    ) -> None:
        """An agent names only models its tenant was granted (ModelNotGrantedError)."""
        self.check_grants(path, requested)
        for i, name in enumerate(requested):
            if name not in granted:
                raise ModelNotGrantedError(
                    f"{path}[{i}]",
                    name,
                    f"is not granted to tenant {tenant!r}",
                    f"models granted to {tenant}: " + (", ".join(sorted(granted)) or "none"),
                )


def check_bedrock(cfg: PlatformConfig) -> None:
    """Rules spanning sections: models and endpoints for the stack's Region and partition."""
    china = bedrock_models.partition_of(cfg.region) == "aws-cn"
    if cfg.bedrock is not None:
        cfg.bedrock.catalog(cfg.region)
        guardrail = cfg.bedrock.guardrail
        profile = guardrail.cross_region_profile if guardrail else None
        problem = (
            bedrock_capabilities.check_guardrail_profile(profile, cfg.region) if profile else None
        )
        if problem:
            raise ConfigError(
                "substrate:bedrock.guardrail.crossRegionProfile",
                profile,
                problem.problem,
                problem.allowed,
            )
    for name, tenant in cfg.tenants.items():
        if not tenant.models:
            continue
        where = f"{key_path('substrate:tenants', name)}.models"
        if cfg.bedrock is None:
            raise ConfigError(
                where,
                tenant.models,
                "grants Bedrock models but substrate:bedrock is not set",
                "a substrate:bedrock section with these models, or no grants",
            )
        cfg.bedrock.check_grants(where, tenant.models)
    if china and cfg.network.endpoints.creates(cfg.network.creates_vpc):
        raise ConfigError(
            "substrate:network.endpoints.baseline",
            True,
            f"derives endpoint service names Substrate does not know in {cfg.region} (aws-cn)",
            "false in China Regions (create the endpoints outside Substrate)",
        )
