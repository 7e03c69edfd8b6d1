"""R25: Bedrock model calls are auditable: invocation logging is configured, to an encrypted,
retained log group, and any trail of the stack records Bedrock's data events.

- A stack that uses Bedrock (a `bedrock-runtime` endpoint or a policy granting model
  invocation) declares `aws:bedrockmodel/invocationLoggingConfiguration` unless
  `requireInvocationLogging` is false for it: the configuration is one per account and Region,
  so only the stack that owns it declares it (Bedrock User Guide, model invocation logging).
- The configuration delivers somewhere (CloudWatch Logs or S3) and logs text; a CloudWatch
  group of the stack has a KMS key and a retention period.
- InvokeModel and Converse are CloudTrail *management* events, recorded by every trail; agent,
  knowledge base and guardrail calls are *data* events (User Guide, "Monitor Amazon Bedrock API
  calls using CloudTrail"). A trail declared in the stack has advanced event selectors for the
  `bedrockDataEventTypes`. Trails are usually account- or organization-wide and Substrate
  creates none; this keeps a stack that adds one honest.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._endpoints import service_of
from ._iam import BEDROCK_DOCUMENT_TYPES, documents, invoke_statements
from ._props import MISSING, UNKNOWN, is_true, items, value
from ._types import CLOUDTRAIL, INVOCATION_LOGGING, LOG_GROUP, VPC_ENDPOINT

DATA_EVENT_TYPES = [
    "AWS::Bedrock::AgentAlias",
    "AWS::Bedrock::Guardrail",
    "AWS::Bedrock::KnowledgeBase",
]


def _uses_bedrock(resources: list[PolicyResource]) -> PolicyResource | None:
    for r in resources:
        if r.resource_type == VPC_ENDPOINT and service_of(r.props) == "bedrock-runtime":
            return r
        if r.resource_type in BEDROCK_DOCUMENT_TYPES and any(
            invoke_statements(doc) for _, doc in documents(r.resource_type, r.props)
        ):
            return r
    return None


def _logging_problems(config: PolicyResource, groups: dict[Any, PolicyResource]) -> list[str]:
    cloudwatch = value(config.props, "loggingConfig", "cloudwatchConfig")
    s3 = value(config.props, "loggingConfig", "s3Config")
    if cloudwatch in (MISSING, None) and s3 in (MISSING, None):
        return ["invocation logging delivers to neither CloudWatch Logs nor S3"]
    problems = []
    text = value(config.props, "loggingConfig", "textDataDeliveryEnabled")
    if text is not UNKNOWN and text is not MISSING and not is_true(text):
        problems.append("invocation logging leaves out prompts and completions (text delivery off)")
    group = groups.get(value(config.props, "loggingConfig", "cloudwatchConfig", "logGroupName"))
    if group is not None:
        if value(group.props, "kmsKeyId") in (MISSING, None):
            problems.append(f"invocation log group {group.name!r} is not encrypted with a KMS key")
        if value(group.props, "retentionInDays") in (MISSING, None, 0):
            problems.append(f"invocation log group {group.name!r} has no retention period")
    return problems


def _trail_problems(trail: PolicyResource, wanted: list[str]) -> list[str]:
    covered: set[str] = set()
    for selector in items(value(trail.props, "advancedEventSelectors")):
        fields = {
            value(f, "field"): [str(x) for x in items(value(f, "equals"))]
            for f in items(value(selector, "fieldSelectors"))
        }
        if fields.get("eventCategory") == ["Data"]:
            covered.update(fields.get("resources.type", []))
    missing = [t for t in wanted if t not in covered]
    return (
        [f"trail {trail.name!r} records no Bedrock data events for {', '.join(missing)}"]
        if missing
        else []
    )


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    config = args.get_config() or {}
    resources = list(args.resources)
    configs = [r for r in resources if r.resource_type == INVOCATION_LOGGING]
    groups = {value(r.props, "name"): r for r in resources if r.resource_type == LOG_GROUP}
    user = _uses_bedrock(resources)
    if user is not None and not configs and config.get("requireInvocationLogging", True):
        report_violation(
            "the stack uses Bedrock but declares no model invocation logging configuration; "
            "declare it here or set requireInvocationLogging: false where another stack owns it",
            user.urn,
        )
    for r in configs:
        problems = _logging_problems(r, groups)
        if problems:
            report_violation("; ".join(problems), r.urn)
    for trail in (r for r in resources if r.resource_type == CLOUDTRAIL):
        for problem in _trail_problems(
            trail, list(config.get("bedrockDataEventTypes", DATA_EVENT_TYPES))
        ):
            report_violation(problem, trail.urn)


POLICY = StackValidationPolicy(
    name="r25-bedrock-invocation-logging",
    description="R25: a stack using Bedrock has model invocation logging (per Region) to an "
    "encrypted, retained destination, and its CloudTrail trails select Bedrock data events "
    "(Bedrock User Guide).",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={
            "requireInvocationLogging": {"type": "boolean", "default": True},
            "bedrockDataEventTypes": {
                "type": "array",
                "items": {"type": "string"},
                "default": DATA_EVENT_TYPES,
            },
        }
    ),
    validate=validate,
)
