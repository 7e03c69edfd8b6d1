"""Bedrock layer: invocation logging, and the facts agents need to get a Bedrock role.

`agent_role_args` is how the agent runtime (and tenants' grants) turn catalog names into a
`BedrockAgentRole`: it resolves names against the catalog and carries the cluster, the
guardrail, the profiles' routes and the platform tags, so every agent role is shaped the same
way.

Routes: the destination Regions of each geographic inference profile of the catalog are read
from AWS at deploy time (`aws.bedrock.getInferenceProfile` in the stack's Region: the model
ARNs the profile lists); the shipped table is what the offline plan's mock returns. Global
profiles need no lookup (their grant names the Region-less model).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from substrate.components.agents.bedrock_agent_role import BedrockAgentRoleArgs, GuardrailArgs
from substrate.components.bedrock import application_profiles, bedrock_models
from substrate.components.bedrock.bedrock_logging import BedrockInvocationLogging
from substrate.components.bedrock.bedrock_models import ModelRef
from substrate.config import PlatformConfig
from substrate.layers.foundation import Foundation


@dataclass(frozen=True)
class Bedrock:
    catalog: Mapping[str, ModelRef]
    """Catalog models by name (empty without `substrate:bedrock`)."""
    guardrail: GuardrailArgs | None
    cluster_name: pulumi.Output[str]
    cluster_arn: pulumi.Output[str]
    tags: Mapping[str, str]
    logging: BedrockInvocationLogging | None
    routes: Mapping[str, pulumi.Output[list[str]]]
    """Destination Regions of each geographic profile of the catalog, by profile id."""
    application_profiles: Mapping[str, Mapping[str, pulumi.Output[str]]] = field(
        default_factory=dict
    )
    """ARN of each agent's application inference profile by agent and catalog model name."""

    def agent_role_args(
        self,
        namespace: str,
        service_account: str,
        models: Sequence[str],
        application_profiles: Mapping[str, pulumi.Output[str]] | None = None,
    ) -> BedrockAgentRoleArgs:
        """Args of one agent's role; ``models`` must already be checked against the tenant's
        grants (``BedrockConfig.require_granted``)."""
        unknown = [m for m in models if m not in self.catalog]
        if unknown:
            raise ValueError(f"models {unknown} are not in substrate:bedrock.models")
        return {
            "cluster_name": self.cluster_name,
            "cluster_arn": self.cluster_arn,
            "namespace": namespace,
            "service_account": service_account,
            "models": [self.catalog[m] for m in models],
            "guardrail": self.guardrail,
            "routes": {
                m: self.routes[m] for m in (self.catalog[n].id for n in models) if m in self.routes
            },
            "tags": dict(self.tags),
            "application_profiles": dict(application_profiles or {}),
        }


def _regions(found: aws.bedrock.GetInferenceProfileResult) -> list[str]:
    regions = set()
    for model in found.models:
        parts = bedrock_models.parse_arn(model.model_arn)
        if parts is None or parts["kind"] != "foundation-model" or not parts["region"]:
            raise ValueError(f"{found.inference_profile_id} lists {model.model_arn!r}")
        regions.add(parts["region"])
    return sorted(regions)


def routes(catalog: Mapping[str, ModelRef]) -> dict[str, pulumi.Output[list[str]]]:
    """Each geographic profile's destinations, from AWS (deploy time) or the mock (plan)."""
    profiles = sorted({m.id for m in catalog.values() if m.kind == "inference-profile"})
    return {
        p: aws.bedrock.get_inference_profile_output(inference_profile_id=p).apply(_regions)
        for p in profiles
        if not p.startswith(f"{bedrock_models.GLOBAL}.")
    }


def build(cfg: PlatformConfig, base: Foundation) -> Bedrock:
    bedrock = cfg.bedrock
    logging = None
    if bedrock is not None and bedrock.invocation_logging.manage:
        settings = bedrock.invocation_logging
        logging = BedrockInvocationLogging(
            "bedrock-logging",
            {
                "log_group_name": settings.log_group_name
                or f"/aws/bedrock/{cfg.cluster_name}/model-invocations",
                "retention_days": settings.retention_days,
                "text_data": settings.text_data,
                "embedding_data": settings.embedding_data,
                "large_data_prefix": settings.large_data_prefix,
                "tags": base.tags,
            },
        )
    guardrail: GuardrailArgs | None = None
    if bedrock is not None and bedrock.guardrail is not None:
        guardrail = {
            "id": bedrock.guardrail.id,
            "version": bedrock.guardrail.version,
            "cross_region_profile": bedrock.guardrail.cross_region_profile,
        }
    catalog = bedrock.catalog(cfg.region) if bedrock is not None else {}
    return Bedrock(
        catalog=catalog,
        guardrail=guardrail,
        cluster_name=base.cluster.cluster_name,
        cluster_arn=base.cluster.cluster_arn,
        tags=base.tags,
        logging=logging,
        routes=routes(catalog),
        application_profiles=_application_profiles(cfg, base, catalog),
    )


class ApplicationProfiles(pulumi.ComponentResource):
    """The parent of the stack's agents' application inference profiles, created here, before
    the bedrock-runtime endpoint that names them (an internal grouping, not a public
    component)."""

    def __init__(self, name: str) -> None:
        super().__init__("substrate:index:ApplicationProfiles", name)
        self.register_outputs({})


def profiled(cfg: PlatformConfig, catalog: Mapping[str, ModelRef], agent: str) -> list[str]:
    """The models an agent with `applicationProfiles` calls through its own profiles: all it is
    granted, except, under a guardrail, the models that cannot carry one (their calls need no
    guardrail, and an application profile's ARN does not tell R23 that its model is exempt)."""
    config = cfg.agents[agent]
    if not config.application_profiles or cfg.bedrock is None:
        return []
    guarded = cfg.bedrock.guardrail is not None
    return [m for m in config.models if not guarded or catalog[m].capabilities.guardrails]


def _application_profiles(
    cfg: PlatformConfig, base: Foundation, catalog: Mapping[str, ModelRef]
) -> dict[str, dict[str, pulumi.Output[str]]]:
    out: dict[str, dict[str, pulumi.Output[str]]] = {}
    wanted = [(a, m) for a in sorted(cfg.agents) for m in profiled(cfg, catalog, a)]
    if not wanted:
        return out
    parent = ApplicationProfiles("agent-profiles")
    where = base.cluster.cluster_arn.apply(
        lambda arn: [arn.split(":")[1], arn.split(":")[3], arn.split(":")[4]]
    )
    for agent, model in wanted:
        profile = application_profiles.create(
            f"agent-profiles-{agent}-{model}",
            cluster_name=base.cluster.cluster_name,
            agent=agent,
            tenant=cfg.agents[agent].tenant,
            ref=catalog[model],
            where=where,
            tags=base.tags,
            opts=pulumi.ResourceOptions(parent=parent),
        )
        out.setdefault(agent, {})[model] = profile.arn
    return out
