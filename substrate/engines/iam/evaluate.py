"""Whether AWS allows one request, following the IAM User Guide's "Policy evaluation logic".

Order (IAM User Guide, "How AWS enforcement code logic evaluates requests to allow or deny
access", "Cross-account policy evaluation logic", "Troubleshoot access denied error messages"):

1. An explicit Deny in any applicable policy (SCP, VPC endpoint, resource-based, identity-based,
   permissions boundary, session) is final.
2. SCPs, when the principal's account has them, must allow (service principals are not
   governed by SCPs).
3. When the request enters through a VPC endpoint, the endpoint policy must allow it ("because
   no VPC endpoint policy allows"); an endpoint policy never grants by itself.
4. Resource-based policy: role trust policies and KMS key policies must allow the principal
   explicitly. Within one account an Allow that names the session, the user, a service
   principal or "*" is final; one that names the role is still limited by the permissions
   boundary and the session policy; one that names only the account delegates to the account's
   identity-based policies. Across accounts the resource-based policy must allow AND the
   principal's own account must allow (identity, boundary, session policy). Service principals,
   federated callers (AssumeRoleWithWebIdentity) and anonymous callers have no identity-based
   policies: only a resource-based policy grants.
5. Identity-based policies must allow (the account root user needs none), then the permissions
   boundary and the session policy, when present, must allow too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from substrate.engines.iam.conditions import conditions_hold
from substrate.engines.iam.matching import Context, action_matches, resource_matches
from substrate.engines.iam.model import Kind, Policy, Request, Statement, UndocumentedError
from substrate.engines.iam.principals import how_named, not_principal_applies


@dataclass(frozen=True)
class Policies:
    """Every policy that applies to one request."""

    identity: Sequence[Policy] = ()
    """Inline and managed policies of the principal's user or role."""
    resource: Policy | None = None
    """The resource's policy: bucket/queue/key policy, or the role trust policy for sts:*."""
    endpoint: Policy | None = None
    """The VPC endpoint policy, when the request goes through an endpoint."""
    boundary: Policy | None = None
    session: Policy | None = None
    scps: Sequence[Policy] = ()
    resource_must_allow: bool = False
    """The resource policy must name the principal (role trust policies, KMS key policies)."""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    """``allowed`` or the access denied phrase AWS uses, e.g. "with an explicit deny in a VPC
    endpoint policy" or "because no identity-based policy allows the s3:GetObject action"."""
    statements: tuple[str, ...] = ()
    """The deciding statements (``<policy>#<Sid or index>``): the Denies of an explicit deny,
    the Allows of an allow."""

    @property
    def explicit_deny(self) -> bool:
        return self.reason.startswith("with an explicit deny")

    def __bool__(self) -> bool:
        return self.allowed


def _matches(stmt: Statement, request: Request, context: Context) -> bool:
    if any(action_matches(a, request.action) for a in stmt.actions) == stmt.not_action:
        return False
    if stmt.resources is not None:
        ctx = context if stmt.variables else None
        hit = any(resource_matches(r, request.resource, ctx) for r in stmt.resources)
        if hit == stmt.not_resource:
            return False
    if stmt.principals is not None:
        if stmt.not_principal:
            if not not_principal_applies(stmt.principals, request.principal):
                return False
        elif how_named(stmt.principals, request.principal) is None:
            return False
    return conditions_hold(stmt.condition, context, stmt.variables)


def _matching(
    policies: Iterable[Policy], effect: str, request: Request, context: Context
) -> list[Statement]:
    return [
        s
        for p in policies
        for s in p.statements
        if s.effect == effect and _matches(s, request, context)
    ]


def _refs(statements: Iterable[Statement]) -> tuple[str, ...]:
    return tuple(s.ref for s in statements)


def _no(kind: Kind, action: str) -> Decision:
    return Decision(False, f"because no {kind.value} allows the {action} action")


def evaluate(request: Request, policies: Policies) -> Decision:
    context = request.values()
    who = request.principal
    every = [
        *policies.scps,
        *([policies.endpoint] if policies.endpoint else []),
        *([policies.resource] if policies.resource else []),
        *policies.identity,
        *([policies.boundary] if policies.boundary else []),
        *([policies.session] if policies.session else []),
    ]
    denies = _matching(every, "Deny", request, context)
    if denies:
        return Decision(False, f"with an explicit deny in {denies[0].kind.phrase}", _refs(denies))
    allows: list[Statement] = []
    if policies.scps and who.kind == "federated":
        raise UndocumentedError("how SCPs apply to a federated caller is not modelled")
    if policies.scps and who.kind not in ("service", "anonymous"):
        scp = _matching(policies.scps, "Allow", request, context)
        if not scp:
            return _no(Kind.SCP, request.action)
        allows += scp
    if policies.endpoint is not None:
        through = _matching([policies.endpoint], "Allow", request, context)
        if not through:
            return _no(Kind.ENDPOINT, request.action)
        allows += through
    return _resource_and_identity(request, policies, context, allows)


def through_endpoint(request: Request, endpoint: Policy) -> Decision:
    """The VPC endpoint's part of a decision alone (steps 1 and 3 for the endpoint policy): an
    explicit Deny in it refuses, and it must allow. For requests whose other policies are not
    the account's to know: a presigned URL signed by an AWS service's own account on an
    AWS-owned bucket is authorized by that service's policies, but still enters through the
    endpoint and is refused there unless the endpoint policy allows it (PrivateLink Guide,
    "Control access to VPC endpoints using endpoint policies")."""
    context = request.values()
    denies = _matching([endpoint], "Deny", request, context)
    if denies:
        return Decision(False, f"with an explicit deny in {denies[0].kind.phrase}", _refs(denies))
    allows = _matching([endpoint], "Allow", request, context)
    if not allows:
        return _no(Kind.ENDPOINT, request.action)
    return Decision(True, "allowed", _refs(allows))


def _limits(request: Request, policies: Policies, context: Context) -> Decision | list[Statement]:
    """Permissions boundary and session policy: each, when present, must allow."""
    found: list[Statement] = []
    for policy in (policies.boundary, policies.session):
        if policy is None:
            continue
        allows = _matching([policy], "Allow", request, context)
        if not allows:
            return _no(policy.kind, request.action)
        found += allows
    return found


def _identity(request: Request, policies: Policies, context: Context) -> Decision | list[Statement]:
    if request.principal.kind == "root":
        found: list[Statement] = []
    else:
        found = _matching(policies.identity, "Allow", request, context)
        if not found:
            return _no(Kind.IDENTITY, request.action)
    limits = _limits(request, policies, context)
    return limits if isinstance(limits, Decision) else found + limits


def _resource_and_identity(
    request: Request, policies: Policies, context: Context, gates: list[Statement]
) -> Decision:
    who = request.principal
    resource = policies.resource
    granted = _matching([resource], "Allow", request, context) if resource else []
    named = {how_named(s.principals or {}, who) for s in granted}
    cross = (
        who.kind not in ("service", "federated")
        and request.owner is not None
        and who.account != request.owner
    )
    # Service principals, federated and anonymous callers have no identity-based policies.
    outside = who.kind in ("service", "anonymous", "federated")
    if not granted and (policies.resource_must_allow or cross or outside):
        return _no(resource.kind if resource else Kind.RESOURCE, request.action)
    if cross:
        side = _identity(request, policies, context)
        if isinstance(side, Decision):
            return side
        return Decision(True, "allowed", _refs([*gates, *granted, *side]))
    if named & {"self", "any"}:
        return Decision(True, "allowed", _refs([*gates, *granted]))
    if "role" in named:
        limits = _limits(request, policies, context)
        if isinstance(limits, Decision):
            return limits
        return Decision(True, "allowed", _refs([*gates, *granted, *limits]))
    side = _identity(request, policies, context)
    if isinstance(side, Decision):
        return side
    return Decision(True, "allowed", _refs([*gates, *granted, *side]))
