"""Policy documents for Bedrock access: agent roles, the Bedrock VPC endpoints, invocation logs.

Pure Python: components render these inside ``Output.apply`` once the account and cluster ARN
are known; tests and the pack policies (R22, R23) parse the same JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from substrate.components.bedrock import bedrock_capabilities
from substrate.components.bedrock.bedrock_capabilities import COUNT_TOKENS
from substrate.components.bedrock.bedrock_models import (
    APPLY_GUARDRAIL,
    GUARDRAIL_KEY,
    INVOKE_ACTIONS,
    PROFILE_KEY,
    ResolvedModel,
    guardrail_arn,
)
from substrate.components.core.iam import Statement, allow, to_json

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


def _merge(*conditions: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for condition in conditions:
        for operator, keys in condition.items():
            if keys:
                out.setdefault(operator, {}).update(keys)
    return out


@dataclass(frozen=True)
class GuardrailGrant:
    """The guardrail every call to a guardrail-capable model must carry."""

    identifier: str
    """The versioned guardrail ARN (`.../guardrail/<id>:<v>`) `bedrock:GuardrailIdentifier`
    carries."""
    arn: str
    """The guardrail ARN, which `bedrock:ApplyGuardrail` is authorized on."""
    profile_arns: tuple[str, ...] = ()
    """Guardrail profile ARNs in every Region a cross-Region guardrail is evaluated in (User
    Guide, "Permissions for using cross-Region inference with Amazon Bedrock Guardrails")."""


def guardrail_grant(
    partition: str,
    region: str,
    account: str,
    guardrail_id: str,
    version: str,
    *,
    profile: str | None = None,
) -> GuardrailGrant:
    """The grant for guardrail ``guardrail_id`` ``version`` of ``account`` in ``region``; with a
    cross-Region guardrail ``profile``, its ARN in every Region it evaluates in from here."""
    regions = bedrock_capabilities.guardrail_destinations(profile, region) if profile else ()
    if profile and regions is None:
        raise ValueError(f"guardrail profile {profile} cannot be used from {region}")
    return GuardrailGrant(
        guardrail_arn(partition, region, account, guardrail_id, version),
        guardrail_arn(partition, region, account, guardrail_id),
        tuple(
            bedrock_capabilities.guardrail_profile_arn(partition, r, account, profile or "")
            for r in regions or ()
        ),
    )


def guarded(
    models: Sequence[ResolvedModel], guardrail: GuardrailGrant | None
) -> list[ResolvedModel]:
    """The models whose calls must carry the guardrail: those that support guardrails."""
    return [m for m in models if guardrail is not None and m.guardrails]


def guardrail_statements(
    resources: Sequence[str], guardrail: GuardrailGrant, principal: bool = False
) -> list[Statement]:
    """The explicit Deny of invocations without the versioned guardrail (only on models that
    support guardrails: a call to any other cannot carry one), and ApplyGuardrail on the
    guardrail and its profile (User Guide, "Enforce the use of specific guardrails", example 1)."""
    statements: list[Statement] = []
    if resources:
        statements.append(
            {
                "Sid": "DenyInvokeWithoutGuardrail",
                "Effect": "Deny",
                "Action": sorted(INVOKE_ACTIONS),
                "Resource": list(resources),
                "Condition": {"StringNotEquals": {GUARDRAIL_KEY: guardrail.identifier}},
            }
        )
        statements.append(
            allow([APPLY_GUARDRAIL], [guardrail.arn, *guardrail.profile_arns], sid="ApplyGuardrail")
        )
    if principal:
        for stmt in statements:
            stmt["Principal"] = "*"
    return statements


def _direct_sid(actions: Sequence[str], exempt: bool) -> str:
    sid = "InvokeModelsWithoutGuardrailSupport" if exempt else "InvokeListedModels"
    return sid if tuple(sorted(actions)) == tuple(sorted(INVOKE_ACTIONS)) else f"{sid}NoStreaming"


def agent_statements(
    models: Sequence[ResolvedModel], region: str, guardrail: GuardrailGrant | None = None
) -> list[Statement]:
    """Invoke only the listed models, with only the actions each supports: foundation models and
    geographic profiles directly, the models a profile routes to only through that profile, a
    global profile with the documented three-part grant. With a guardrail, every Allow of a
    model that supports guardrails requires it and a Deny backs it up; models that do not
    support guardrails (embedding models) are granted without it and outside the Deny."""
    needs = {m.name for m in guarded(models, guardrail)}

    def guard(m: ResolvedModel) -> dict[str, dict[str, str]]:
        if guardrail is None or m.name not in needs:
            return {}
        return {"StringEquals": {GUARDRAIL_KEY: guardrail.identifier}}

    groups: dict[tuple[tuple[str, ...], bool], set[str]] = {}
    for m in models:
        arns = set(m.direct_model_arns)
        if m.profile_arn and not m.global_model_arn:
            arns.add(m.profile_arn)
        if arns:
            exempt = guardrail is not None and m.name not in needs
            groups.setdefault((tuple(sorted(m.actions)), exempt), set()).update(arns)
    statements: list[Statement] = []
    for (actions, exempt), arns in sorted(groups.items(), key=lambda g: _direct_sid(*g[0])):
        condition = (
            {"StringEquals": {GUARDRAIL_KEY: guardrail.identifier}}
            if guardrail and not exempt
            else {}
        )
        statements.append(
            allow(actions, sorted(arns), sid=_direct_sid(actions, exempt), condition=condition)
        )
    for i, m in enumerate(sorted(models, key=lambda m: m.name)):
        if m.profile_arn:
            statements += _profile_statements(i, m, region, guard(m))
    statements += count_tokens_statements(models)
    resources = sorted({a for m in models if m.name in needs for a in m.all_arns})
    if guardrail is not None:
        statements += guardrail_statements(resources, guardrail)
    return statements


def count_tokens_statements(
    models: Sequence[ResolvedModel], condition: Mapping[str, Any] | None = None
) -> list[Statement]:
    """bedrock:CountTokens on the foundation models (caller's Region) of the models whose tokens
    bedrock-runtime counts: no inference runs, so no guardrail condition applies."""
    arns = sorted({m.count_tokens_arn for m in models if m.count_tokens_arn})
    if not arns:
        return []
    return [allow([COUNT_TOKENS], arns, sid="CountTokens", condition=condition)]


def _profile_statements(
    i: int, m: ResolvedModel, region: str, guard: dict[str, dict[str, str]]
) -> list[Statement]:
    assert m.profile_arn is not None
    invoke = list(m.actions)
    through = {"StringEquals": {PROFILE_KEY: m.profile_arn}}
    if not m.global_model_arn:
        return [
            allow(
                invoke,
                list(m.routed_model_arns),
                sid=f"InvokeThroughProfile{i}",
                condition=_merge(through, guard),
            )
        ]
    here = {"StringEquals": {"aws:RequestedRegion": region}}
    anywhere = {"StringEquals": {"aws:RequestedRegion": "unspecified"}}
    return [
        allow(
            invoke, [m.profile_arn], sid=f"InvokeGlobalProfile{i}", condition=_merge(here, guard)
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


def agent_policy(
    models: Sequence[ResolvedModel], region: str, guardrail: GuardrailGrant | None = None
) -> str:
    return to_json(agent_statements(models, region, guardrail))


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
    guardrail: GuardrailGrant | None = None,
) -> str:
    """bedrock-runtime endpoint: the catalog's models, for agent roles of this cluster only.

    Agents do not exist yet when the endpoint is created, so the policy names them by what
    they all carry: the agent tag on the role and the cluster ARN session tag Pod Identity
    adds. Each agent's own role still limits it to its granted models. Models that support
    guardrails require the stack's guardrail; the others are admitted without it. The agents'
    application inference profiles come as resolved models of their own (the profile is their
    invoke ARN), so each is admitted like the model it copies."""
    who = _principals(account, cluster_arn)
    needs = {m.name for m in guarded(models, guardrail)}
    groups: dict[tuple[tuple[str, ...], bool], set[str]] = {}
    for m in models:
        exempt = guardrail is not None and m.name not in needs
        groups.setdefault((tuple(sorted(m.actions)), exempt), set()).update(m.all_arns)
    statements: list[Statement] = []
    for (actions, exempt), arns in sorted(groups.items(), key=lambda g: _direct_sid(*g[0])):
        guard = {GUARDRAIL_KEY: guardrail.identifier} if guardrail and not exempt else {}
        sid = _direct_sid(actions, exempt).replace("InvokeListedModels", "InvokeCatalogModels")
        statements.append(
            {
                "Sid": f"Agents{sid}",
                "Effect": "Allow",
                "Principal": "*",
                "Action": list(actions),
                "Resource": sorted(arns),
                "Condition": _merge(who, {"StringEquals": guard}),
            }
        )
    for stmt in count_tokens_statements(models, who):
        statements.append({**stmt, "Sid": "AgentsCountTokens", "Principal": "*"})
    if guardrail is not None:
        resources = sorted({a for m in models if m.name in needs for a in m.all_arns})
        found = guardrail_statements(resources, guardrail, principal=True)
        statements += [s if s["Effect"] == "Deny" else {**s, "Condition": who} for s in found]
    return to_json(statements)


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


def _bedrock_source(account: str, partition: str, region: str) -> dict[str, dict[str, str]]:
    """Confused-deputy conditions of Bedrock writing for this account and Region."""
    return {
        "StringEquals": {"aws:SourceAccount": account},
        "ArnLike": {"aws:SourceArn": f"arn:{partition}:bedrock:{region}:{account}:*"},
    }


def large_data_bucket_policy(
    bucket_arn: str, prefix: str, account: str, partition: str, region: str
) -> str:
    """Bedrock may put invocation data under `<prefix>/AWSLogs/<account>/
    BedrockModelInvocationLogs/` only, for this account and Region (User Guide, "Set up an Amazon
    S3 destination"); nobody reaches the bucket without TLS."""
    return to_json(
        [
            {
                "Sid": "AmazonBedrockLogsWrite",
                "Effect": "Allow",
                "Principal": {"Service": "bedrock.amazonaws.com"},
                "Action": ["s3:PutObject"],
                "Resource": [
                    f"{bucket_arn}/{prefix}/AWSLogs/{account}/BedrockModelInvocationLogs/*"
                ],
                "Condition": _bedrock_source(account, partition, region),
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ]
    )


def large_data_key_policy(account: str, partition: str, region: str) -> str:
    """The bucket's key: the account's IAM policies decide its use, and Bedrock may generate data
    keys to write invocation data for this account and Region (User Guide, SSE-KMS note)."""
    return to_json(
        [
            {
                "Sid": "EnableIamPolicies",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "BedrockWritesInvocationData",
                "Effect": "Allow",
                "Principal": {"Service": "bedrock.amazonaws.com"},
                "Action": "kms:GenerateDataKey",
                "Resource": "*",
                "Condition": _bedrock_source(account, partition, region),
            },
        ]
    )
