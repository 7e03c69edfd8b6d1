"""Small builders for the IAM evaluator tests: a document, a user, a decision in one line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from substrate.engines.iam import Decision, Kind, Policies, Policy, Principal, Request, evaluate

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
