"""Policies, principals and requests as the IAM evaluator reads them.

A policy document is parsed once into statements with normalized elements; a request carries
the principal, the action, the resource and the request context (any key, one or many values).
Rules and their sources are in the docstrings; anything AWS does not document is refused with
``UndocumentedError`` rather than guessed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

Value = str | Sequence[str]
"""A request context value: one string, or several for a multivalued key."""

VARIABLES_VERSION = "2012-10-17"
"""Policy variables are read only in documents of this language version (IAM JSON policy
elements: Version; IAM policy elements: Variables and tags)."""


class PolicyError(ValueError):
    """A policy document IAM refuses (or that this model cannot read)."""


class UndocumentedError(ValueError):
    """AWS documents no outcome for this combination: refused instead of guessed."""


class Kind(Enum):
    """Policy types; the value is how AWS names the type in access denied messages (IAM User
    Guide, "Troubleshoot access denied error messages")."""

    IDENTITY = "identity-based policy"
    RESOURCE = "resource-based policy"
    TRUST = "role trust policy"
    ENDPOINT = "VPC endpoint policy"
    BOUNDARY = "permissions boundary"
    SESSION = "session policy"
    SCP = "service control policy"

    @property
    def phrase(self) -> str:
        """The type with its article, as in "with an explicit deny in an identity-based
        policy"."""
        return f"{'an' if self.value[0] in 'aeiou' else 'a'} {self.value}"


WITH_PRINCIPAL = {Kind.RESOURCE, Kind.TRUST, Kind.ENDPOINT}
"""Types whose statements name a Principal (IAM JSON policy elements: Principal)."""


@dataclass(frozen=True)
class Statement:
    policy: str
    kind: Kind
    index: int
    sid: str | None
    effect: str
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...] | None
    """None: the statement has no Resource element (role trust policies)."""
    not_resource: bool
    principals: Mapping[str, tuple[str, ...]] | None
    not_principal: bool
    condition: Mapping[str, Mapping[str, tuple[str, ...]]]
    variables: bool
    """The document's Version supports policy variables."""

    @property
    def ref(self) -> str:
        """`<policy>#<Sid>` or `<policy>#<index>`: how a decision names this statement."""
        return f"{self.policy}#{self.sid if self.sid else self.index}"


@dataclass(frozen=True)
class Policy:
    name: str
    kind: Kind
    statements: tuple[Statement, ...]

    @classmethod
    def parse(cls, name: str, kind: Kind, document: str | Mapping[str, Any]) -> Policy:
        doc = json.loads(document) if isinstance(document, str) else dict(document)
        if not isinstance(doc, dict):
            raise PolicyError(f"{name}: a policy document is a JSON object")
        variables = doc.get("Version") == VARIABLES_VERSION
        raw = doc.get("Statement")
        items = [raw] if isinstance(raw, dict) else raw
        if not isinstance(items, list) or not items:
            raise PolicyError(f"{name}: Statement is required")
        statements = tuple(_statement(name, kind, i, s, variables) for i, s in enumerate(items))
        return cls(name, kind, statements)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    out = []
    for v in values:
        if isinstance(v, bool):
            out.append("true" if v else "false")
        elif isinstance(v, int | float | str):
            out.append(str(v))
        else:
            raise PolicyError(f"{where}: {v!r} is not a string")
    return tuple(out)


def _one_of(stmt: Mapping[str, Any], a: str, b: str, where: str) -> tuple[Any, bool] | None:
    if a in stmt and b in stmt:
        raise PolicyError(f"{where}: {a} and {b} cannot both be present")
    if a in stmt:
        return stmt[a], False
    if b in stmt:
        return stmt[b], True
    return None


def _principals(value: Any, where: str) -> dict[str, tuple[str, ...]]:
    if value == "*":
        return {"AWS": ("*",)}
    if not isinstance(value, dict) or not value:
        raise PolicyError(f'{where}: Principal is "*" or an object of principal types')
    out = {str(k): _strings(v, f"{where}.{k}") for k, v in value.items()}
    for values in out.values():
        for v in values:
            if "*" in v and v != "*":
                raise PolicyError(
                    f"{where}: {v!r}: a wildcard cannot match part of a principal name or ARN"
                )
    return out


def _condition(value: Any, where: str) -> dict[str, dict[str, tuple[str, ...]]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PolicyError(f"{where}: Condition is an object of operators")
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for operator, keys in value.items():
        if not isinstance(keys, dict):
            raise PolicyError(f"{where}.{operator}: an object of context keys")
        out[str(operator)] = {
            str(k): _strings(v, f"{where}.{operator}.{k}") for k, v in keys.items()
        }
    return out


def _statement(name: str, kind: Kind, index: int, stmt: Any, variables: bool) -> Statement:
    where = f"{name}.Statement[{index}]"
    if not isinstance(stmt, dict):
        raise PolicyError(f"{where}: a statement is an object")
    effect = stmt.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"{where}: Effect is Allow or Deny (case sensitive), not {effect!r}")
    action = _one_of(stmt, "Action", "NotAction", where)
    if action is None:
        raise PolicyError(f"{where}: a statement includes Action or NotAction")
    resource = _one_of(stmt, "Resource", "NotResource", where)
    if resource is None and kind is not Kind.TRUST:
        raise PolicyError(f"{where}: a statement includes Resource or NotResource")
    principal = _one_of(stmt, "Principal", "NotPrincipal", where)
    if kind in WITH_PRINCIPAL and principal is None:
        raise PolicyError(f"{where}: a {kind.value} names a Principal")
    if kind not in WITH_PRINCIPAL and principal is not None:
        raise PolicyError(f"{where}: a {kind.value} cannot name a Principal")
    if principal is not None and principal[1]:
        if kind is Kind.TRUST:
            raise PolicyError(f"{where}: NotPrincipal is not allowed in a role trust policy")
        if effect != "Deny":
            raise PolicyError(f'{where}: NotPrincipal is supported only with "Effect": "Deny"')
    sid = stmt.get("Sid")
    return Statement(
        policy=name,
        kind=kind,
        index=index,
        sid=str(sid) if sid is not None else None,
        effect=effect,
        actions=_strings(action[0], f"{where}.Action"),
        not_action=action[1],
        resources=None if resource is None else _strings(resource[0], f"{where}.Resource"),
        not_resource=bool(resource and resource[1]),
        principals=None if principal is None else _principals(principal[0], where),
        not_principal=bool(principal and principal[1]),
        condition=_condition(stmt.get("Condition"), f"{where}.Condition"),
        variables=variables,
    )


_ROLE_ARN = re.compile(r"^arn:(?P<p>[\w-]+):iam::(?P<a>\d{12}):role/(?:.*/)?(?P<n>[^/]+)$")


@dataclass(frozen=True)
class Principal:
    """Who sends the request. ``kind``: ``assumed-role`` (a role session), ``user``, ``root``,
    ``service`` (an AWS service principal such as ``pods.eks.amazonaws.com``), ``federated``
    (an OIDC or SAML caller of AssumeRoleWithWebIdentity / AssumeRoleWithSAML, named by its
    identity provider's ARN) or ``anonymous``."""

    kind: str
    arn: str
    account: str | None = None
    role_arn: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the IAM user or role."""
    session_tags: Mapping[str, str] = field(default_factory=dict)
    org_id: str | None = None
    has_boundary: bool = False

    @classmethod
    def role_session(
        cls,
        role_arn: str,
        session_name: str,
        *,
        role_tags: Mapping[str, str] | None = None,
        session_tags: Mapping[str, str] | None = None,
        org_id: str | None = None,
        has_boundary: bool = False,
    ) -> Principal:
        match = _ROLE_ARN.match(role_arn)
        if match is None:
            raise ValueError(f"{role_arn!r} is not an IAM role ARN")
        p, a, n = match["p"], match["a"], match["n"]
        return cls(
            "assumed-role",
            f"arn:{p}:sts::{a}:assumed-role/{n}/{session_name}",
            a,
            role_arn,
            dict(role_tags or {}),
            dict(session_tags or {}),
            org_id,
            has_boundary,
        )

    @classmethod
    def user(
        cls, arn: str, *, tags: Mapping[str, str] | None = None, has_boundary: bool = False
    ) -> Principal:
        account = arn.split(":")[4]
        return cls("user", arn, account, None, dict(tags or {}), {}, None, has_boundary)

    @classmethod
    def root(cls, account: str, partition: str = "aws") -> Principal:
        return cls("root", f"arn:{partition}:iam::{account}:root", account)

    @classmethod
    def service(cls, name: str) -> Principal:
        return cls("service", name)

    @classmethod
    def anonymous(cls) -> Principal:
        return cls("anonymous", "*")

    @classmethod
    def web_identity(cls, provider_arn: str) -> Principal:
        """A caller of AssumeRoleWithWebIdentity holding a token of ``provider_arn`` (an IAM
        OIDC provider, ``arn:<p>:iam::<account>:oidc-provider/<host>``)."""
        return cls("federated", provider_arn)

    @property
    def principal_tags(self) -> dict[str, str]:
        """Role or user tags, overridden by session tags of the same key regardless of case
        (IAM User Guide, "Passing session tags in AWS STS")."""
        tags = {k: v for k, v in self.tags.items()}
        for key, value in self.session_tags.items():
            for old in [k for k in tags if k.lower() == key.lower()]:
                del tags[old]
            tags[key] = value
        return tags

    def context(self) -> dict[str, Value]:
        """Global keys AWS adds for this principal (IAM User Guide, "AWS global condition
        context keys": aws:PrincipalArn is the role's ARN for a role session;
        aws:PrincipalTag/<key> one per tag; aws:PrincipalType; aws:PrincipalServiceName)."""
        if self.kind == "anonymous":
            return {"aws:PrincipalType": "Anonymous"}
        if self.kind == "federated":
            # "Because there is no AWS identity at the time of the request, the request context
            # doesn't include principal-based condition keys such as aws:PrincipalOrgID,
            # aws:PrincipalAccount, or aws:PrincipalArn" (IAM User Guide, "Control access to
            # AWS STS with VPC endpoint policies"). The token's claims arrive as request keys.
            return {}
        if self.kind == "service":
            return {"aws:PrincipalServiceName": self.arn, "aws:PrincipalIsAWSService": "true"}
        out: dict[str, Value] = {
            "aws:PrincipalArn": self.role_arn or self.arn,
            "aws:PrincipalIsAWSService": "false",
            "aws:PrincipalType": {
                "assumed-role": "AssumedRole",
                "user": "User",
                "root": "Account",
            }.get(self.kind, self.kind),
        }
        if self.account:
            out["aws:PrincipalAccount"] = self.account
        if self.org_id:
            out["aws:PrincipalOrgID"] = self.org_id
        if self.kind == "user":
            out["aws:username"] = self.arn.rsplit("/", 1)[1]
        for key, value in self.principal_tags.items():
            out[f"aws:PrincipalTag/{key}"] = value
        return out


@dataclass(frozen=True)
class Request:
    """One authorization: AWS evaluates a request once per (action, resource) it authorizes."""

    principal: Principal
    action: str
    resource: str
    context: Mapping[str, Value] = field(default_factory=dict)
    resource_account: str | None = None
    """Account that owns the resource; defaults to the account field of the resource ARN."""

    @property
    def owner(self) -> str | None:
        if self.resource_account:
            return self.resource_account
        parts = self.resource.split(":", 5)
        return parts[4] if len(parts) == 6 and parts[4] else None

    def values(self) -> dict[str, tuple[str, ...]]:
        """Request context with lower-cased key names (key names are not case sensitive:
        IAM JSON policy elements: Condition); the request's own keys win over principal keys."""
        merged: dict[str, tuple[str, ...]] = {}
        for source in (self.principal.context(), self.context):
            for key, value in source.items():
                merged[key.lower()] = (value,) if isinstance(value, str) else tuple(value)
        return merged
