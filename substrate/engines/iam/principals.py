"""The Principal and NotPrincipal elements.

Sources (IAM User Guide):
- "AWS JSON policy elements: Principal": ``"*"`` and ``{"AWS": "*"}`` are every principal,
  anonymous ones included; an account id and ``arn:<p>:iam::<id>:root`` are the same and stand
  for the whole account (not only its root user); a role ARN stands for the role, whose sessions
  it grants; an assumed-role session ARN and a user ARN (case sensitive) name exactly one
  principal; ``{"Service": ...}`` names AWS service principals and ``{"Federated": ...}`` an
  identity provider (the callers of AssumeRoleWithWebIdentity / AssumeRoleWithSAML, IAM User
  Guide "Create a role for OpenID Connect federation"); several values are OR.
- "AWS JSON policy elements: NotPrincipal": with Deny, every principal except those listed; AWS
  may validate the account first, then the role, then the session, so a principal is spared
  only when its account, its role (for a session) and itself are all listed; a principal with a
  permissions boundary is always denied by a NotPrincipal Deny.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from substrate.engines.iam.model import Principal

_ACCOUNT = re.compile(r"^\d{12}$")
_ROOT = re.compile(r"^arn:[\w-]+:iam::(?P<a>\d{12}):root$")


def _account_of(value: str) -> str | None:
    if _ACCOUNT.match(value):
        return value
    match = _ROOT.match(value)
    return match["a"] if match else None


def _naming(kind: str, value: str, who: Principal) -> str | None:
    if value == "*":
        return "any"
    if kind == "Service":
        return "self" if who.kind == "service" and who.arn == value else None
    if kind == "Federated":
        return "self" if who.kind == "federated" and who.arn == value else None
    if kind != "AWS" or who.kind in ("service", "anonymous", "federated"):
        return None
    account = _account_of(value)
    if account is not None:
        return "account" if account == who.account else None
    if value == who.arn:
        return "self"
    if who.role_arn is not None and value == who.role_arn:
        return "role"
    return None


def how_named(principals: Mapping[str, tuple[str, ...]], who: Principal) -> str | None:
    """How the statement's Principal names ``who``: ``any`` ("*"), ``self`` (the session or
    user ARN itself, or a service name), ``role`` (the role of a session), ``account``; None
    when it does not. The most direct naming wins."""
    found = {_naming(kind, value, who) for kind, values in principals.items() for value in values}
    for how in ("self", "any", "role", "account"):
        if how in found:
            return how
    return None


def _chain(who: Principal) -> list[str]:
    if who.kind in ("service", "federated"):
        return [who.arn]
    if who.kind == "anonymous":
        return ["*"]
    chain = []
    if who.account:
        chain.append(who.account)
    if who.role_arn:
        chain.append(who.role_arn)
    if who.kind != "root":
        chain.append(who.arn)
    return chain


def not_principal_applies(principals: Mapping[str, tuple[str, ...]], who: Principal) -> bool:
    """Does a NotPrincipal Deny statement reach ``who``?"""
    if who.has_boundary and who.kind != "service":
        return True
    listed: set[str] = set()
    for values in principals.values():
        for value in values:
            listed.add(_account_of(value) or value)
    if "*" in listed:
        return False
    return not all(identity in listed for identity in _chain(who))
