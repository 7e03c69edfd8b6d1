"""One agent workload's access to Amazon Bedrock: an IAM role through EKS Pod Identity.

The role may call `bedrock:InvokeModel` and `bedrock:InvokeModelWithResponseStream` (Converse
and ConverseStream authorize as those) on exactly the models it was granted: a foundation
model in the stack's Region, or a cross-Region inference profile plus the foundation model in
every Region that profile routes to from here, reachable only through the profile (R22). With
a guardrail, every call must name its versioned ARN (R23). Trust: `pods.eks.amazonaws.com`
with `sts:AssumeRole` + `sts:TagSession`, only for this cluster's ARN, namespace and service
account (R20), one role per agent.

With `application_profiles` (the agent's own application inference profiles, created by the
Bedrock layer so the endpoint policy can name them), the role may invoke those models only through
them (User Guide, "Prerequisites for inference profiles"): cost and usage are attributable per
agent.
"""

from collections.abc import Mapping, Sequence
from typing import NotRequired, Required, TypedDict

import pulumi

from substrate.components.bedrock import bedrock_capabilities, bedrock_models, bedrock_policies
from substrate.components.bedrock.bedrock_models import ModelRef
from substrate.components.core import validators
from substrate.components.core._args import check_args
from substrate.components.core.aws_context import aws_context
from substrate.components.core.tokens import component_args
from substrate.components.identity.pod_identity import PodIdentityRole


class GuardrailArgs(TypedDict, total=False):
    id: Required[str]
    """Guardrail id (`[a-z0-9]+`), in the stack's account and Region."""
    version: Required[str]
    """Numeric guardrail version; the policy names the versioned ARN `.../guardrail/<id>:<v>`."""
    cross_region_profile: NotRequired[str | None]
    """System-defined guardrail profile the guardrail evaluates through (cross-Region guardrail
    inference, e.g. `us.guardrail.v1:0`): ApplyGuardrail is granted on it in every Region it
    routes to from the stack's Region."""


class BedrockAgentRoleArgs(TypedDict, total=False):
    cluster_name: Required[pulumi.Input[str]]
    """Cluster whose pods may assume the role."""
    cluster_arn: Required[pulumi.Input[str]]
    """Cluster ARN, required as the `eks-cluster-arn` session tag in the trust."""
    namespace: Required[str]
    """Namespace of the agent's service account."""
    service_account: Required[str]
    """The agent's service account (one role per agent)."""
    models: Required[Sequence[ModelRef]]
    """Catalog models the agent was granted (see `substrate:bedrock.models`)."""
    guardrail: NotRequired[GuardrailArgs | None]
    """Require this guardrail version on every call to a model that supports guardrails."""
    routes: NotRequired[Mapping[str, pulumi.Input[Sequence[str]]]]
    """Destination Regions of geographic inference profiles by profile id, as AWS reports them
    at deploy time (`aws.bedrock.getInferenceProfile`); a profile not given here is routed by
    the shipped table (`substrate/components/bedrock/data/bedrock_inference_profiles.json`)."""
    tags: NotRequired[Mapping[str, str]]
    """Tags for the role and its association; the agent tag is added."""
    application_profiles: NotRequired[Mapping[str, pulumi.Input[str]]]
    """ARN of the agent's own application inference profile by catalog model name
    (`substrate.components.bedrock.application_profiles`): the agent may invoke those models
    only through it."""


def _validate(args: BedrockAgentRoleArgs) -> None:
    models = list(args["models"])
    if not models:
        raise ValueError("BedrockAgentRoleArgs.models: empty; grant at least one model")
    seen: set[str] = set()
    for i, ref in enumerate(models):
        if ref.name in seen:
            raise ValueError(f"BedrockAgentRoleArgs.models[{i}]: {ref.name!r} is listed twice")
        seen.add(ref.name)
        if ref.kind == "foundation-model":
            problem = bedrock_models.check_foundation_model(ref.id)
        elif bedrock_models.profile_table().get(ref.id) is None:
            problem = validators.Problem(
                "is not in the inference profile routing table", "a listed profile id"
            )
        else:
            problem = None
        problem = problem or bedrock_capabilities.check(ref.foundation_model_id, ref.kind)
        if problem:
            raise ValueError(f"BedrockAgentRoleArgs.models[{i}]: {ref.id!r} {problem}")
    guardrail = args.get("guardrail")
    if guardrail:
        if not bedrock_models.GUARDRAIL_ID.match(guardrail["id"]):
            raise ValueError(
                f"BedrockAgentRoleArgs.guardrail.id: {guardrail['id']!r} is not a guardrail id"
            )
        if not bedrock_models.GUARDRAIL_VERSION.match(guardrail["version"]):
            raise ValueError(
                f"BedrockAgentRoleArgs.guardrail.version: {guardrail['version']!r} is not a "
                "numeric guardrail version (DRAFT changes under the agent)"
            )
        profile = guardrail.get("cross_region_profile")
        if profile and not bedrock_capabilities.GUARDRAIL_PROFILE_ID.match(profile):
            raise ValueError(
                f"BedrockAgentRoleArgs.guardrail.cross_region_profile: {profile!r} is not a "
                "guardrail profile id"
            )


class BedrockAgentRole(pulumi.ComponentResource):
    """A `PodIdentityRole` whose only permissions are invoking the agent's granted models."""

    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]
    policy_json: pulumi.Output[str]
    model_ids: dict[str, pulumi.Output[str]]
    """What the agent sends per catalog model: the model or profile id, or the ARN of its own
    application inference profile."""

    def __init__(
        self, name: str, args: BedrockAgentRoleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__(*component_args("substrate:bedrock:BedrockAgentRole", name, opts))
        _validate(args)
        ctx = aws_context(self)
        models = list(args["models"])
        guardrail = args.get("guardrail")

        routes = dict(args.get("routes", {}))
        profiles = sorted(m.id for m in models if m.kind == "inference-profile" and m.id in routes)
        apps = {
            k: pulumi.Output.from_input(v) for k, v in args.get("application_profiles", {}).items()
        }
        names = sorted(apps)
        self.model_ids = {m.name: apps.get(m.name, pulumi.Output.from_input(m.id)) for m in models}

        def render(values: list) -> str:
            partition, region, account, *rest = values
            regions = dict(zip(profiles, rest[: len(profiles)], strict=True))
            arns = dict(zip(names, rest[len(profiles) :], strict=True))
            resolved = [
                bedrock_models.resolve(
                    m,
                    partition,
                    region,
                    account,
                    regions.get(m.id),
                    application_profile=arns.get(m.name),
                )
                for m in models
            ]
            grant = None
            if guardrail:
                grant = bedrock_policies.guardrail_grant(
                    partition,
                    region,
                    account,
                    guardrail["id"],
                    guardrail["version"],
                    profile=guardrail.get("cross_region_profile"),
                )
            return bedrock_policies.agent_policy(resolved, region, grant)

        policy = pulumi.Output.all(
            ctx.partition,
            ctx.region,
            ctx.account_id,
            *(routes[p] for p in profiles),
            *(apps[n] for n in names),
        ).apply(render)
        role = PodIdentityRole(
            f"{name}-identity",
            {
                "cluster_name": args["cluster_name"],
                "cluster_arn": args["cluster_arn"],
                "namespace": args["namespace"],
                "service_account": args["service_account"],
                "policy_json": policy,
                "tags": {**args.get("tags", {}), bedrock_policies.AGENT_TAG: "true"},
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.role_arn = role.role_arn
        self.role_name = role.role_name
        self.policy_json = policy
        self.register_outputs({"roleArn": role.role_arn, "roleName": role.role_name})
