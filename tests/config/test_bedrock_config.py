"""substrate:bedrock and substrate:network.endpoints: exact one-line errors, the catalog, grants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from substrate.components.bedrock.bedrock_models import ModelKind, ModelRef
from substrate.config import ConfigError
from substrate.config.bedrock import ModelNotGrantedError, UnknownModelError
from tests.helpers import stack_yaml, typed_config

Mutation = Callable[[dict[str, Any]], None]
PROFILE = "us.anthropic.claude-sonnet-4-6"


def _model(name: str, **model: str) -> Mutation:
    return lambda c: c["substrate:bedrock"]["models"].update({name: model})


def _bedrock(**values: Any) -> Mutation:
    return lambda c: c["substrate:bedrock"].update(values)


CASES: list[tuple[str, str, Mutation, str]] = [
    (
        "both model keys",
        "prod",
        _model(
            "m", foundationModel="amazon.nova-pro-v1:0", inferenceProfile="us.amazon.nova-pro-v1:0"
        ),
        'substrate:bedrock.models.m = {"foundationModel": "amazon.nova-pro-v1:0", '
        '"inferenceProfile": "us.amazon.nova-pro-v1:0"}: must set exactly one of foundationModel '
        "and inferenceProfile (allowed: foundationModel: <model id> or inferenceProfile: "
        "<profile id>)",
    ),
    (
        "malformed foundation model id",
        "prod",
        _model("m", foundationModel="Claude 3"),
        'substrate:bedrock.models.m.foundationModel = "Claude 3": is not a Bedrock foundation '
        'model id (allowed: an id such as "amazon.nova-pro-v1:0" or '
        '"anthropic.claude-sonnet-4-5-20250929-v1:0")',
    ),
    (
        "profile of another geography",
        "prod",
        _model("m", inferenceProfile="eu.anthropic.claude-sonnet-4-5-20250929-v1:0"),
        'substrate:bedrock.models.m.inferenceProfile = "eu.anthropic.claude-sonnet-4-5-20250929-'
        'v1:0": cannot be called from us-east-1 (allowed: a Region the profile lists as a '
        "source: eu-central-1, eu-central-2, eu-north-1, eu-south-1, eu-south-2, eu-west-1, "
        "eu-west-2, eu-west-3)",
    ),
    (
        "profile missing from the routing table",
        "prod",
        _model("m", inferenceProfile="us.example.model-v9:0"),
        'substrate:bedrock.models.m.inferenceProfile = "us.example.model-v9:0": is not in '
        "Substrate's inference profile routing table "
        "(substrate/components/bedrock/data/bedrock_inference_profiles.json) (allowed: a listed "
        "profile; add its Regions from the Bedrock User Guide first)",
    ),
    (
        "GovCloud profile in a commercial Region",
        "prod",
        _model("m", inferenceProfile="us-gov.anthropic.claude-3-haiku-20240307-v1:0"),
        'substrate:bedrock.models.m.inferenceProfile = "us-gov.anthropic.claude-3-haiku-20240307-'
        'v1:0": is not a cross-Region inference profile id of the aws partition (allowed: '
        '<us|eu|apac|jp|au|ca|global>.<foundation model id>, e.g. "us.anthropic.claude-sonnet-4-5'
        '-20250929-v1:0")',
    ),
    (
        "ARN of another Region",
        "prod",
        _model(
            "m", foundationModel="arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-pro-v1:0"
        ),
        'substrate:bedrock.models.m.foundationModel = "arn:aws:bedrock:us-west-2::foundation-model/'
        "amazon.nova-pro-v1:0\": is in aws/us-west-2, not the stack's aws/us-east-1 (allowed: an "
        "ARN of us-east-1 (the Region the agents call Bedrock in))",
    ),
    (
        "profile ARN under foundationModel",
        "prod",
        _model(
            "m",
            foundationModel=f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/{PROFILE}",
        ),
        f'substrate:bedrock.models.m.foundationModel = "arn:aws:bedrock:us-east-1:123456789012:'
        f'inference-profile/{PROFILE}": is the ARN of a inference-profile (allowed: a '
        "foundation-model ARN or id under foundationModel)",
    ),
    (
        "profile-only model as a foundation model",
        "prod",
        _model("m", foundationModel="anthropic.claude-sonnet-4-5-20250929-v1:0"),
        'substrate:bedrock.models.m.foundationModel = "anthropic.claude-sonnet-4-5-20250929-v1:0"'
        ": is offered only through inference profiles: Bedrock refuses on-demand calls with its "
        "bare id (allowed: inferenceProfile: global.anthropic.claude-sonnet-4-5-20250929-v1:0 or "
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0)",
    ),
    (
        "current profile-only model as a foundation model",
        "staging",
        _model("m", foundationModel="anthropic.claude-opus-4-8"),
        'substrate:bedrock.models.m.foundationModel = "anthropic.claude-opus-4-8": is offered '
        "only through inference profiles: Bedrock refuses on-demand calls with its bare id "
        "(allowed: inferenceProfile: global.anthropic.claude-opus-4-8 or "
        "us.anthropic.claude-opus-4-8)",
    ),
    (
        "model served on demand only in another Region",
        "prod",
        _model("m", foundationModel="anthropic.claude-sonnet-4-6"),
        'substrate:bedrock.models.m.foundationModel = "anthropic.claude-sonnet-4-6": is offered '
        "only through inference profiles in us-east-1: Bedrock refuses on-demand calls with its "
        "bare id (allowed: inferenceProfile: global.anthropic.claude-sonnet-4-6 or "
        "us.anthropic.claude-sonnet-4-6)",
    ),
    (
        "geographic profile of another geography",
        "prod",
        _model("m", inferenceProfile="eu.anthropic.claude-sonnet-4-6"),
        'substrate:bedrock.models.m.inferenceProfile = "eu.anthropic.claude-sonnet-4-6": cannot '
        "be called from us-east-1 (allowed: a Region the profile lists as a source: "
        "eu-central-1, eu-central-2, eu-north-1, eu-south-1, eu-south-2, eu-west-1, eu-west-2, "
        "eu-west-3)",
    ),
    (
        "model without recorded capabilities",
        "prod",
        _model("m", foundationModel="example.model-v9:0"),
        'substrate:bedrock.models.m.foundationModel = "example.model-v9:0": is not in '
        "Substrate's model capability table "
        "(substrate/components/bedrock/data/bedrock_models.json) (allowed: a "
        "listed model; add its guardrail support, on-demand availability, modalities and "
        "streaming from its Bedrock model card first)",
    ),
    (
        "guardrail profile of another geography",
        "prod",
        _bedrock(
            guardrail={
                "id": "pr0dguard01x",
                "version": "3",
                "crossRegionProfile": "eu.guardrail.v1:0",
            }
        ),
        'substrate:bedrock.guardrail.crossRegionProfile = "eu.guardrail.v1:0": is not in '
        "Substrate's guardrail profile table "
        "(substrate/components/bedrock/data/bedrock_guardrail_profiles.json) "
        "(allowed: us-gov.guardrail.v1:0, us.guardrail.v1:0, or add its Regions from the User "
        "Guide)",
    ),
    (
        "guardrail profile id",
        "prod",
        _bedrock(guardrail={"id": "pr0dguard01x", "version": "3", "crossRegionProfile": "us"}),
        'substrate:bedrock.guardrail.crossRegionProfile = "us": is not a guardrail profile id '
        '(allowed: <geography>.guardrail.v<n>:<m>, e.g. "us.guardrail.v1:0")',
    ),
    (
        "GovCloud guardrail profile in a commercial Region",
        "prod",
        _bedrock(
            guardrail={
                "id": "pr0dguard01x",
                "version": "3",
                "crossRegionProfile": "us-gov.guardrail.v1:0",
            }
        ),
        'substrate:bedrock.guardrail.crossRegionProfile = "us-gov.guardrail.v1:0": cannot be '
        "used from us-east-1 (allowed: a guardrail profile whose source Regions include it: "
        "us-gov-east-1, us-gov-west-1)",
    ),
    (
        "an agent runtime endpoint no role may use",
        "prod",
        _bedrock(agentRuntime=True),
        "substrate:bedrock.agentRuntime = true: would create a bedrock-agent-runtime endpoint no "
        "role may use: it admits only agent roles, and they are granted model invocation only "
        "(bedrock:InvokeModel*) (allowed: false (R24 asks for the endpoint only where some role "
        "may call it))",
    ),
    (
        "model name not a DNS label",
        "prod",
        _model("Claude_Big", foundationModel="amazon.nova-pro-v1:0"),
        'substrate:bedrock.models.Claude_Big = "Claude_Big": is not a DNS label (allowed: '
        "lowercase letters, digits and '-', at most 63 characters)",
    ),
    (
        "draft guardrail",
        "prod",
        _bedrock(guardrail={"id": "pr0dguard01x", "version": "DRAFT"}),
        'substrate:bedrock.guardrail.version = "DRAFT": is not a numeric guardrail version '
        '(allowed: a published version such as "1" (quoted); DRAFT can change under running '
        "agents)",
    ),
    (
        "guardrail id",
        "prod",
        _bedrock(guardrail={"id": "Prod-Guard", "version": "1"}),
        'substrate:bedrock.guardrail.id = "Prod-Guard": is not a guardrail id (allowed: 1-64 '
        'lowercase letters and digits, e.g. "gr5x8abc1d2e")',
    ),
    (
        "empty catalog",
        "dev",
        _bedrock(models={}),
        "substrate:bedrock.models = {}: is empty (allowed: at least one model, e.g. "
        "{claude: {...}})",
    ),
    (
        "invocation log retention",
        "prod",
        _bedrock(invocationLogging={"retentionDays": 42}),
        "substrate:bedrock.invocationLogging.retentionDays = 42: is not a retention period "
        "CloudWatch Logs accepts (allowed: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, "
        "545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)",
    ),
    (
        "endpoint service suffix",
        "prod",
        lambda c: c["substrate:network"].update({"endpoints": {"additional": ["Logs!"]}}),
        'substrate:network.endpoints.additional[0] = "Logs!": is not an AWS service endpoint '
        'suffix (allowed: e.g. "logs", "ec2", "eks-auth")',
    ),
    (
        "existing VPC with baseline endpoints but no route tables",
        "prod",
        lambda c: c["substrate:network"].update(
            {
                "vpcCidr": None,
                "privateSubnetCidrs": [],
                "publicSubnetCidrs": [],
                "endpoints": {"baseline": True},
                "existing": {
                    "vpcId": "vpc-0123456789abcdef0",
                    "privateSubnetIds": [f"subnet-0123456789abcdef{i}" for i in range(3)],
                },
            }
        ),
        "substrate:network.existing.privateRouteTableIds = []: is empty while endpoints.baseline "
        "is true (the S3 gateway endpoint needs them) (allowed: the private subnets' route table "
        "ids, or endpoints.baseline: false)",
    ),
]


@pytest.mark.parametrize(("name", "stack", "mutate", "message"), CASES, ids=[c[0] for c in CASES])
def test_invalid_bedrock_config_gives_exact_one_line_error(
    name: str, stack: str, mutate: Mutation, message: str
) -> None:
    del name
    raw = stack_yaml(stack)
    mutate(raw)
    with pytest.raises(ConfigError) as err:
        typed_config(raw)
    assert str(err.value) == message


def test_china_regions_get_neither_bedrock_nor_derived_endpoints() -> None:
    raw = stack_yaml("dev")
    raw["aws:region"] = "cn-north-1"
    raw["substrate:network"]["availabilityZones"] = ["cn-north-1a", "cn-north-1b"]
    with pytest.raises(ConfigError, match="Substrate does not manage Amazon Bedrock in the aws-cn"):
        typed_config(raw)
    del raw["substrate:bedrock"], raw["substrate:agents"]
    for tenant in raw["substrate:tenants"].values():
        tenant.pop("models", None)
    with pytest.raises(ConfigError) as err:
        typed_config(raw)
    assert str(err.value).startswith(
        "substrate:network.endpoints.baseline = true: derives endpoint service names"
    )


def test_catalog_resolves_ids_and_arns_for_the_stack_region() -> None:
    raw = stack_yaml("prod")
    raw["substrate:bedrock"]["models"]["nova-arn"] = {
        "inferenceProfile": "arn:aws:bedrock:us-east-1:999999999999:inference-profile/"
        "us.amazon.nova-pro-v1:0"
    }
    cfg = typed_config(raw)
    assert cfg.bedrock is not None
    catalog = cfg.bedrock.catalog(cfg.region)
    assert catalog["claude-sonnet"] == ModelRef(
        "claude-sonnet", ModelKind.INFERENCE_PROFILE, PROFILE
    )
    assert catalog["titan-embed"] == ModelRef(
        "titan-embed", ModelKind.FOUNDATION_MODEL, "amazon.titan-embed-text-v2:0"
    )
    assert catalog["nova-arn"].id == "us.amazon.nova-pro-v1:0"


def test_agents_may_name_only_models_granted_to_their_tenant() -> None:
    cfg = typed_config(stack_yaml("prod"))
    assert cfg.bedrock is not None
    cfg.bedrock.require_granted(
        "substrate:agents.planner.models", "research", ["nova-pro"], ["nova-pro", "titan-embed"]
    )
    with pytest.raises(ModelNotGrantedError) as err:
        cfg.bedrock.require_granted(
            "substrate:agents.planner.models",
            "research",
            ["nova-pro", "claude-sonnet"],
            ["nova-pro"],
        )
    assert str(err.value) == (
        'substrate:agents.planner.models[1] = "claude-sonnet": is not granted to tenant '
        "'research' (allowed: models granted to research: nova-pro)"
    )
    with pytest.raises(UnknownModelError) as unknown:
        cfg.bedrock.check_grants("substrate:tenants.research.models", ["nova-pro", "gpt-9"])
    assert str(unknown.value) == (
        'substrate:tenants.research.models[1] = "gpt-9": is not a model of '
        "substrate:bedrock.models (allowed: claude-sonnet, nova-pro, titan-embed)"
    )
