"""Bedrock layer: invocation logging, and the facts agents need to get a Bedrock role.

`agent_role_args` is how the agent runtime (and tenants' grants) turn catalog names into a
`BedrockAgentRole`: it resolves names against the catalog and carries the cluster, the
guardrail and the platform tags, so every agent role is shaped the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from components.bedrock_agent_role import BedrockAgentRoleArgs, GuardrailArgs
from components.bedrock_logging import BedrockInvocationLogging
from components.bedrock_models import ModelRef
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

    def agent_role_args(
        self, namespace: str, service_account: str, models: Sequence[str]
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
            "tags": dict(self.tags),
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
                "tags": base.tags,
            },
        )
    guardrail: GuardrailArgs | None = None
    if bedrock is not None and bedrock.guardrail is not None:
        guardrail = {"id": bedrock.guardrail.id, "version": bedrock.guardrail.version}
    return Bedrock(
        catalog=bedrock.catalog(cfg.region) if bedrock is not None else {},
        guardrail=guardrail,
        cluster_name=base.cluster.cluster_name,
        cluster_arn=base.cluster.cluster_arn,
        tags=base.tags,
        logging=logging,
    )
