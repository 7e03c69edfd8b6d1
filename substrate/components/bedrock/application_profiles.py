"""One agent's Bedrock application inference profiles: cost and usage attributable per agent.

Bedrock User Guide, "Create an application inference profile": a profile copies a foundation model
(one Region) or a system-defined cross-Region profile (its Regions) (`modelSource.copyFrom`, the
pinned pulumi-aws `aws.bedrock.InferenceProfile`'s `model_source.copy_from`), and its tags are
cost allocation tags for on-demand invocations ("Set up a model invocation resource using
inference profiles": "Use tags to monitor costs"). Global profiles are not copied: Substrate does
not know the policy an application profile of one needs.
"""

import hashlib
import re
from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from substrate.components.bedrock import bedrock_models
from substrate.components.bedrock.bedrock_models import ModelRef

AGENT_TAG = "substrate.io/agent"
TENANT_TAG = "substrate.io/tenant"
MODEL_TAG = "substrate.io/model"
PROFILE_NAME = re.compile(r"^([0-9a-zA-Z:.][ _-]?)+$")
"""CreateInferenceProfile's inferenceProfileName pattern (1-64 characters)."""


def profile_name(cluster: str, agent: str, model: str) -> str:
    """`<cluster>-<agent>-<model>`: unique per account and Region; past 64 characters, cut with a
    hash of the whole so two long names stay apart."""
    name = f"{cluster}-{agent}-{model}"
    if len(name) > 64:
        name = f"{name[:55].rstrip('-_ ')}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
    if not PROFILE_NAME.match(name):
        raise ValueError(f"application inference profile name {name!r} is not valid")
    return name


def copy_from(ref: ModelRef, partition: str, region: str, account: str) -> str:
    """The ARN a profile of ``ref`` copies: the system-defined profile or the foundation model."""
    if ref.is_global:
        raise ValueError(f"{ref.name}: no application profile of a global profile")
    if ref.kind == "foundation-model":
        return bedrock_models.foundation_model_arn(partition, region, ref.id)
    return bedrock_models.inference_profile_arn(partition, region, account, ref.id)


def create(
    name: str,
    *,
    cluster_name: pulumi.Input[str],
    agent: str,
    tenant: str,
    ref: ModelRef,
    where: pulumi.Output[list[str]],
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions | None = None,
) -> aws.bedrock.InferenceProfile:
    """The profile of ``agent``'s calls to ``ref``; ``where``: [partition, Region, account]."""
    return aws.bedrock.InferenceProfile(
        name,
        name=pulumi.Output.from_input(cluster_name).apply(
            lambda c: profile_name(c, agent, ref.name)
        ),
        description=f"{tenant}/{agent}: {ref.id}",
        model_source={"copy_from": where.apply(lambda v: copy_from(ref, v[0], v[1], v[2]))},
        tags={**tags, AGENT_TAG: agent, TENANT_TAG: tenant, MODEL_TAG: ref.name},
        opts=opts,
    )
