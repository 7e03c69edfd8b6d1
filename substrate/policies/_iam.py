"""Reading IAM policy documents out of resource props, for R19-R25.

A document may arrive as a JSON string or an object, and may be unknown during a preview (then
there is nothing to inspect: the resource is checked again by `pulumi up`'s own preview once the
value is known, and by `substrate plan`, which always knows it).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import Any

from substrate.components.bedrock.bedrock_models import INVOKE_ACTIONS

from ._props import as_list, items, plain, policy_document, statements, value
from ._types import (
    IAM_GROUP_POLICY,
    IAM_POLICY,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    IAM_USER_POLICY,
    VPC_ENDPOINT,
)

IDENTITY_POLICY_TYPES = (IAM_ROLE_POLICY, IAM_POLICY, IAM_USER_POLICY, IAM_GROUP_POLICY, IAM_ROLE)
"""Resources that carry identity policy documents (a Role through `inlinePolicies`)."""
BEDROCK_DOCUMENT_TYPES = (*IDENTITY_POLICY_TYPES, VPC_ENDPOINT)


def documents(resource_type: str, props: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(where, document) pairs: `policy`, or a Role's `inlinePolicies[i].policy`."""
    if resource_type == IAM_ROLE:
        found = []
        for i, inline in enumerate(items(value(props, "inlinePolicies"))):
            doc = policy_document(value(inline, "policy")) if isinstance(inline, Mapping) else None
            if doc is not None:
                found.append((f"inlinePolicies[{i}]", doc))
        return found
    doc = policy_document(value(props, "policy"))
    return [] if doc is None else [("policy", doc)]


def allows(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [s for s in statements(doc) if s.get("Effect") == "Allow"]


def denies(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [s for s in statements(doc) if s.get("Effect") == "Deny"]


def actions(stmt: Mapping[str, Any]) -> list[str]:
    return [str(a) for a in as_list(plain(stmt.get("Action", [])))]


def resources(stmt: Mapping[str, Any]) -> list[str]:
    return [str(r) for r in as_list(plain(stmt.get("Resource", [])))]


def condition(stmt: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    cond = plain(stmt.get("Condition", {}))
    return cond if isinstance(cond, dict) else {}


def condition_values(stmt: Mapping[str, Any], operator: str, key: str) -> list[str]:
    """Values of ``key`` under ``operator`` (keys compare case-insensitively, as IAM does)."""
    block = condition(stmt).get(operator, {})
    for k, v in block.items() if isinstance(block, dict) else []:
        if k.lower() == key.lower():
            return [str(x) for x in as_list(v)]
    return []


def condition_keys(stmt: Mapping[str, Any]) -> set[str]:
    return {
        k.lower() for block in condition(stmt).values() if isinstance(block, dict) for k in block
    }


def matches(pattern: str, action: str) -> bool:
    """Whether an Action pattern (`iam:Put*`, `*`) covers ``action`` (case-insensitive)."""
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def grants_any(patterns: Sequence[str], wanted: Sequence[str]) -> list[str]:
    """The ``wanted`` actions some pattern covers."""
    return [a for a in wanted if any(matches(p, a) for p in patterns)]


def principals(stmt: Mapping[str, Any], kind: str) -> list[str]:
    """The statement's principals of one kind (`Service`, `AWS`, `Federated`)."""
    principal = plain(stmt.get("Principal", {}))
    if not isinstance(principal, dict):
        return []
    return [str(p) for p in as_list(principal.get(kind, []))]


def invoke_statements(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Allow statements naming a bedrock action that covers model invocation."""
    return [
        s
        for s in allows(doc)
        if any(
            a.lower().startswith("bedrock:") and any(matches(a, i) for i in INVOKE_ACTIONS)
            for a in actions(s)
        )
    ]
