"""R24: a cluster's VPC has private endpoints for the AWS APIs it depends on, each with private
DNS and a restrictive policy.

Required (configurable per stack, e.g. where the VPC and its endpoints predate Substrate):
interface endpoints `sts`, `ecr.api`, `ecr.dkr`, `ssm`, `bedrock-runtime` and a gateway
endpoint `s3` (Bedrock User Guide, "Use interface VPC endpoints"; EKS best practices for
Karpenter/private clusters); `bedrock-agent-runtime` as soon as any policy of the stack grants
an Agents for Amazon Bedrock Runtime action. Every endpoint has a policy (the default allows
everyone), and no Allow in it admits `*` principals without a condition on the principal
(`aws:PrincipalAccount`, `aws:PrincipalOrgID`, `aws:PrincipalArn`, `aws:PrincipalTag/...`),
with two exceptions (substrate.components.cluster.endpoint_policies): on the S3 gateway endpoint,
`s3:GetObject`
on exactly the Region's ECR layer bucket, which nodes read through presigned URLs signed by ECR's
own account (ECR User Guide, "Minimum Amazon S3 bucket permissions for Amazon ECR"); on the STS
endpoint, `sts:AssumeRoleWithWebIdentity` on named roles, whose federated callers carry no
principal keys (IAM User Guide, "Control access to AWS STS with VPC endpoint policies").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from substrate.components.bedrock.bedrock_policies import AGENT_RUNTIME_ACTIONS
from substrate.components.cluster.endpoint_policies import (
    aws_owned_buckets,
    aws_owned_read,
    web_identity_to_roles,
)

from ._endpoints import region_of, service_of
from ._iam import (
    IDENTITY_POLICY_TYPES,
    actions,
    allows,
    condition_keys,
    documents,
    grants_any,
    resources,
)
from ._props import MISSING, UNKNOWN, as_list, is_true, items, plain, policy_document, value
from ._types import EKS_CLUSTER, EKS_COMPONENT, VPC_ENDPOINT

INTERFACE = ["sts", "ecr.api", "ecr.dkr", "ssm", "bedrock-runtime"]
GATEWAY = ["s3"]


def _open_to_anyone(stmt: Mapping[str, Any]) -> bool:
    principal = plain(stmt.get("Principal"))
    anyone = principal == "*" or (
        isinstance(principal, dict) and "*" in as_list(principal.get("AWS", []))
    )
    return anyone and not any(k.startswith("aws:principal") for k in condition_keys(stmt))


def _reads_aws_owned_buckets(stmt: Mapping[str, Any], props: Mapping[str, Any]) -> bool:
    """An S3 endpoint statement limited to s3:GetObject on the Region's ECR layer bucket."""
    return service_of(props) == "s3" and aws_owned_read(
        actions(stmt), resources(stmt), region_of(props)
    )


def _web_identity_to_roles(stmt: Mapping[str, Any], props: Mapping[str, Any]) -> bool:
    """An STS endpoint statement limited to AssumeRoleWithWebIdentity on named roles."""
    return service_of(props) == "sts" and web_identity_to_roles(actions(stmt), resources(stmt))


def _open_problem(sid: str, props: Mapping[str, Any]) -> str:
    problem = (
        f"policy statement {sid} admits any principal; condition it on aws:PrincipalAccount, "
        "aws:PrincipalOrgID, aws:PrincipalArn or aws:PrincipalTag"
    )
    region = region_of(props)
    if service_of(props) == "s3" and region:
        problem += (
            " (or limit it to s3:GetObject on the AWS-owned buckets nodes read: "
            f"{', '.join(aws_owned_buckets('<partition>', region))})"
        )
    return problem


def policy_problems(props: Mapping[str, Any]) -> list[str]:
    raw = value(props, "policy")
    if raw is UNKNOWN:
        return []
    doc = policy_document(raw)
    if raw is MISSING or raw is None or doc is None:
        return ["has no endpoint policy (the default admits every principal and action)"]
    problems = []
    for stmt in allows(doc):
        sid = repr(stmt.get("Sid", "(no Sid)"))
        if any(k in stmt for k in ("NotPrincipal", "NotAction", "NotResource")):
            problems.append(
                f"policy statement {sid} allows with NotPrincipal/NotAction/NotResource"
            )
        elif (
            _open_to_anyone(stmt)
            and not _reads_aws_owned_buckets(stmt, props)
            and not _web_identity_to_roles(stmt, props)
        ):
            problems.append(_open_problem(sid, props))
    return problems


def _kind(props: Mapping[str, Any]) -> Any:
    """Interface, Gateway, ... (the provider defaults to Gateway) or UNKNOWN."""
    kind = value(props, "vpcEndpointType")
    return "Gateway" if kind is MISSING or kind is None else kind


def _endpoint_problems(r: PolicyResource) -> list[str]:
    problems = policy_problems(r.props)
    kind = _kind(r.props)
    if kind == "Gateway":
        tables = value(r.props, "routeTableIds")
        if tables is not UNKNOWN and not items(tables):
            problems.append("is a gateway endpoint on no route table")
    else:
        dns = value(r.props, "privateDnsEnabled")
        if dns is not UNKNOWN and not is_true(dns):
            problems.append("has private DNS off, so SDKs keep using the public endpoint")
    return problems


def _uses_agent_runtime(resources: list[PolicyResource]) -> bool:
    for r in resources:
        if r.resource_type in IDENTITY_POLICY_TYPES:
            for _, doc in documents(r.resource_type, r.props):
                for stmt in allows(doc):
                    if grants_any(actions(stmt), AGENT_RUNTIME_ACTIONS) and not any(
                        a in ("*", "bedrock:*") for a in actions(stmt)
                    ):
                        return True
    return False


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    clusters = [r for r in args.resources if r.resource_type in (EKS_COMPONENT, EKS_CLUSTER)]
    if not clusters:
        return
    config = args.get_config() or {}
    endpoints = [r for r in args.resources if r.resource_type == VPC_ENDPOINT]
    for r in endpoints:
        problems = _endpoint_problems(r)
        if problems:
            report_violation(
                f"VPC endpoint for {service_of(r.props)}: {'; '.join(problems)}", r.urn
            )
    present: dict[str | None, set[Any]] = {}
    for r in endpoints:
        present.setdefault(service_of(r.props), set()).add(_kind(r.props))
    interface = list(config.get("requiredInterfaceServices", INTERFACE))
    if _uses_agent_runtime(args.resources):
        interface.append("bedrock-agent-runtime")
    wanted = [(s, "Interface") for s in interface]
    wanted += [(s, "Gateway") for s in config.get("requiredGatewayServices", GATEWAY)]
    for service, kind in wanted:
        kinds = present.get(service, set())
        if kind not in kinds and UNKNOWN not in kinds:
            report_violation(
                f"the cluster's VPC has no {kind.lower()} endpoint for {service}",
                clusters[0].urn,
            )


POLICY = StackValidationPolicy(
    name="r24-vpc-endpoints",
    description="R24: the cluster's VPC has endpoints for bedrock-runtime (+ "
    "bedrock-agent-runtime if used), sts, ecr.api, ecr.dkr, ssm and an s3 gateway, with private "
    "DNS and restrictive endpoint policies (Bedrock docs, EKS best practices).",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={
            "requiredInterfaceServices": {
                "type": "array",
                "items": {"type": "string"},
                "default": INTERFACE,
            },
            "requiredGatewayServices": {
                "type": "array",
                "items": {"type": "string"},
                "default": GATEWAY,
            },
        }
    ),
    validate=validate,
)
