"""Policy documents for Bedrock access: agent roles, the Bedrock VPC endpoints, invocation logs.

Pure Python: components render these inside ``Output.apply`` once the account and cluster ARN
are known; tests and the pack policies (R22, R23) parse the same JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from components.bedrock_models import (
    APPLY_GUARDRAIL,
    GUARDRAIL_KEY,
    INVOKE_ACTIONS,
    PROFILE_KEY,
    ResolvedModel,
)
from components.iam import Statement, allow, to_json

AGENT_TAG = "substrate.io/bedrock-agent"
"""Tag on every Bedrock agent role (value "true"). The Bedrock endpoint policy admits only
principals carrying it, so it covers agents added later without being edited."""
CLUSTER_ARN_TAG = "eks-cluster-arn"
"""Session tag EKS Pod Identity adds to every session it creates (EKS User Guide, "List of
session tags added by EKS Pod Identity"): proves the caller is a pod of this cluster."""
AGENT_RUNTIME_ACTIONS = (
    "bedrock:InvokeAgent",
    "bedrock:InvokeFlow",
    "bedrock:InvokeInlineAgent",
    "bedrock:Rerank",
    "bedrock:Retrieve",
    "bedrock:RetrieveAndGenerate",
)
"""Agents for Amazon Bedrock Runtime operations (Service Authorization Reference)."""
INVOCATION_LOG_STREAM = "aws/bedrock/modelinvocations"
"""The log stream Bedrock writes invocation logs to (User Guide, model invocation logging)."""


def _guard(guardrail: str | None) -> dict[str, str]:
    return {GUARDRAIL_KEY: guardrail} if guardrail else {}


def _merge(*conditions: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for condition in conditions:
        for operator, keys in condition.items():
            if keys:
                out.setdefault(operator, {}).update(keys)
    return out


def guardrail_statements(
    resources: Sequence[str], guardrail: str, guardrail_arn: str, principal: bool = False
) -> list[Statement]:
    """The explicit Deny of invocations without the versioned guardrail, and ApplyGuardrail on
    the guardrail (User Guide, "Enforce the use of specific guardrails", example 1)."""
    deny: Statement = {
        "Sid": "DenyInvokeWithoutGuardrail",
        "Effect": "Deny",
        "Action": sorted(INVOKE_ACTIONS),
        "Resource": list(resources),
        "Condition": {"StringNotEquals": {GUARDRAIL_KEY: guardrail}},
    }
    apply = allow([APPLY_GUARDRAIL], [guardrail_arn], sid="ApplyGuardrail")
    if principal:
        deny["Principal"] = "*"
    return [deny, apply]


def agent_statements(
    models: Sequence[ResolvedModel],
    region: str,
    guardrail: str | None = None,
    guardrail_arn: str | None = None,
) -> list[Statement]:
    """Invoke only the listed models: foundation models and geographic profiles directly, the
    models a profile routes to only through that profile, a global profile with the documented
    three-part grant. With a guardrail, every Allow requires it and a Deny backs it up."""
    guard = {"StringEquals": _guard(guardrail)}
    invoke = list(INVOKE_ACTIONS)
    direct = sorted(
        {a for m in models for a in m.direct_model_arns}
        | {m.profile_arn for m in models if m.profile_arn and not m.global_model_arn}
    )
    statements: list[Statement] = []
    if direct:
        statements.append(allow(invoke, direct, sid="InvokeListedModels", condition=_merge(guard)))
    for i, m in enumerate(sorted(models, key=lambda m: m.name)):
        if not m.profile_arn:
            continue
        through = {"StringEquals": {PROFILE_KEY: m.profile_arn}}
        if m.global_model_arn:
            here = {"StringEquals": {"aws:RequestedRegion": region}}
            anywhere = {"StringEquals": {"aws:RequestedRegion": "unspecified"}}
            statements += [
                allow(
                    invoke,
                    [m.profile_arn],
                    sid=f"InvokeGlobalProfile{i}",
                    condition=_merge(here, guard),
                ),
                allow(
                    invoke,
                    list(m.routed_model_arns),
                    sid=f"InvokeGlobalProfileRegionalModel{i}",
                    condition=_merge(here, through, guard),
                ),
                allow(
                    invoke,
                    [m.global_model_arn],
                    sid=f"InvokeGlobalProfileGlobalModel{i}",
                    condition=_merge(anywhere, through, guard),
                ),
            ]
        else:
            statements.append(
                allow(
                    invoke,
                    list(m.routed_model_arns),
                    sid=f"InvokeThroughProfile{i}",
                    condition=_merge(through, guard),
                )
            )
    if guardrail and guardrail_arn:
        everything = sorted({a for m in models for a in m.all_arns})
        statements += guardrail_statements(everything, guardrail, guardrail_arn)
    return statements


def agent_policy(
    models: Sequence[ResolvedModel],
    region: str,
    guardrail: str | None = None,
    guardrail_arn: str | None = None,
) -> str:
    return to_json(agent_statements(models, region, guardrail, guardrail_arn))


def _principals(account: str, cluster_arn: str) -> dict[str, dict[str, str]]:
    return {
        "StringEquals": {
            "aws:PrincipalAccount": account,
            f"aws:PrincipalTag/{CLUSTER_ARN_TAG}": cluster_arn,
            f"aws:PrincipalTag/{AGENT_TAG}": "true",
        }
    }


def runtime_endpoint_policy(
    models: Sequence[ResolvedModel],
    account: str,
    cluster_arn: str,
    guardrail: str | None = None,
    guardrail_arn: str | None = None,
) -> str:
    """bedrock-runtime endpoint: the catalog's models, for agent roles of this cluster only.

    Agents do not exist yet when the endpoint is created, so the policy names them by what
    they all carry: the agent tag on the role and the cluster ARN session tag Pod Identity
    adds. Each agent's own role still limits it to its granted models."""
    who = _principals(account, cluster_arn)
    everything = sorted({a for m in models for a in m.all_arns})
    invoke: Statement = {
        "Sid": "AgentsInvokeCatalogModels",
        "Effect": "Allow",
        "Principal": "*",
        "Action": sorted(INVOKE_ACTIONS),
        "Resource": everything,
        "Condition": _merge(who, {"StringEquals": _guard(guardrail)}),
    }
    statements = [invoke]
    if guardrail and guardrail_arn:
        deny, apply = guardrail_statements(everything, guardrail, guardrail_arn, principal=True)
        statements += [deny, {**apply, "Principal": "*", "Condition": who}]
    return to_json(statements)


def agent_runtime_endpoint_policy(account: str, cluster_arn: str) -> str:
    """bedrock-agent-runtime endpoint: the same principals, agent runtime operations only."""
    return to_json(
        [
            {
                "Sid": "AgentsUseAgentRuntime",
                "Effect": "Allow",
                "Principal": "*",
                "Action": sorted(AGENT_RUNTIME_ACTIONS),
                "Resource": "*",
                "Condition": _principals(account, cluster_arn),
            }
        ]
    )


def perimeter_endpoint_policy(account: str) -> str:
    """Baseline endpoints (STS, ECR, S3, SSM): any action, by principals of this account only.
    Anonymous requests and other accounts' credentials are refused at the endpoint."""
    return to_json(
        [
            {
                "Sid": "OnlyThisAccountsPrincipals",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalAccount": account}},
            }
        ]
    )


def invocation_logging_statements(log_group_arn: str) -> list[Statement]:
    """What Bedrock's logging role may do: write its one log stream, nothing else."""
    return [
        allow(
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [f"{log_group_arn}:log-stream:{INVOCATION_LOG_STREAM}"],
            sid="WriteModelInvocationLogs",
        )
    ]
