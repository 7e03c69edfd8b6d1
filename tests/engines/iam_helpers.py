"""Small builders for tests that ask the IAM evaluator: a document, a user, a decision in one
line, and the calls of a pod whose role comes from recorded resources."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from substrate.components.bedrock.bedrock_models import ModelRef
from substrate.components.core.validators import partition_of
from substrate.engines import aws_plan, bedrock_calls
from substrate.engines.aws_plan import AwsPlan
from substrate.engines.bedrock_calls import Guardrail
from substrate.engines.iam import Decision, Kind, Policies, Policy, Principal, Request, evaluate
from substrate.plan.mocks import ACCOUNT_ID as MOCK_ACCOUNT

ACCOUNT = "123456789012"
USER = Principal.user(f"arn:aws:iam::{ACCOUNT}:user/carlossalazar")


def doc(*statements: Mapping[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    out: dict[str, Any] = {"Statement": list(statements)}
    if version:
        out["Version"] = version
    return out


def identity(*statements: Mapping[str, Any], name: str = "identity", **kw: Any) -> Policy:
    return Policy.parse(name, Kind.IDENTITY, doc(*statements, **kw))


def decide(
    action: str,
    resource: str,
    *statements: Mapping[str, Any],
    principal: Principal = USER,
    context: Mapping[str, str | Sequence[str]] | None = None,
    version: str | None = "2012-10-17",
) -> Decision:
    """One identity policy made of ``statements``, one request."""
    policies = Policies(identity=[identity(*statements, version=version)])
    return evaluate(Request(principal, action, resource, dict(context or {})), policies)


def holds(condition: Mapping[str, Any], context: Mapping[str, str | Sequence[str]]) -> bool:
    """Does a condition block hold? (An Allow statement with that block decides.)"""
    stmt = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*", "Condition": condition}
    return decide("s3:ListBucket", "arn:aws:s3:::b", stmt, context=context).allowed


def plan_of(records: Sequence[Any], region: str) -> AwsPlan:
    """The IAM side of recorded resources (a plan or a component run under the mocks)."""
    return aws_plan.from_records(
        records, partition=partition_of(region), region=region, account=MOCK_ACCOUNT
    )


def invoke(
    plan: AwsPlan,
    namespace: str,
    service_account: str,
    operation: str,
    model: ModelRef,
    *,
    destination: str | None = None,
    guardrail: Guardrail | None = None,
    guardrail_region: str | None = None,
) -> list[Decision]:
    """Each authorization of one SDK call by the pod of ``namespace/service_account``, judged
    on its role's policies (and the bedrock-runtime endpoint policy when the plan has one)."""
    association = plan.association(namespace, service_account)
    pod = plan.pod_principal(association, f"{service_account}-0", "uid")
    made = bedrock_calls.call(
        operation,
        model,
        partition=plan.partition,
        region=plan.region,
        account=plan.account,
        destination=destination,
        guardrail=guardrail,
        guardrail_region=guardrail_region,
    )
    endpoint = plan.endpoints.get("bedrock-runtime")
    policies = Policies(
        identity=plan.identity_policies(plan.role(association.role_arn)),
        endpoint=endpoint.policy if endpoint else None,
    )
    return [
        evaluate(Request(pod, a.action, a.resource, a.context), policies)
        for a in made.authorizations
    ]


def assume(plan: AwsPlan, namespace: str, service_account: str, **tags: str) -> list[str]:
    """EKS Pod Identity assuming the role of ``namespace/service_account`` for a pod whose
    session tags are overridden by ``tags`` (keys with ``_`` for ``-``)."""
    association = plan.association(namespace, service_account)
    role = plan.role(association.role_arn)
    session = plan.pod_session_tags(association, "pod-0", "uid")
    session.update({k.replace("_", "-"): v for k, v in tags.items()})
    trust = Policies(resource=role.trust, resource_must_allow=True)
    return [evaluate(r, trust).reason for r in plan.assume_role_requests(role, session)]
