"""R34 (production): Kyverno enforces. Where the stack's policy config sets `requireDeny`,
every Kyverno ValidatingPolicy rejects violations (validationActions contains Deny, failurePolicy
Fail) and the Kyverno release does not force failurePolicy Ignore on every policy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy

from ._props import MISSING, UNKNOWN, by_type, items, value
from ._types import HELM_RELEASE, VALIDATING_POLICIES
from ._webhooks import is_kyverno_release, values


def _policy(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    if not config.get("requireDeny"):
        return []
    out = []
    raw = value(props, "spec", "validationActions")
    if raw is not UNKNOWN:
        actions = [a for a in items(raw) if isinstance(a, str)]
        if "Deny" not in actions:
            out.append(
                f"validationActions is {actions}; this stack enforces admission policies, so it "
                "must contain Deny"
            )
    failure = value(props, "spec", "failurePolicy")
    if failure not in (MISSING, UNKNOWN, "Fail"):
        out.append(
            f"failurePolicy is {failure!r}; an enforcing stack uses Fail so requests are not "
            "admitted unchecked while Kyverno is unavailable"
        )
    return out


def _release(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    if not config.get("requireDeny") or not is_kyverno_release(props):
        return []
    if value(values(props), "features", "forceFailurePolicyIgnore", "enabled") is True:
        return [
            "features.forceFailurePolicyIgnore.enabled is true; it turns every policy's "
            "failurePolicy into Ignore"
        ]
    return []


POLICY = ResourceValidationPolicy(
    name="r34-admission-enforce",
    description="R34: in stacks that enforce admission (requireDeny, production), Kyverno "
    "ValidatingPolicies deny violations and fail closed.",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={"requireDeny": {"type": "boolean", "default": False}}
    ),
    validate=by_type({HELM_RELEASE: _release, **dict.fromkeys(VALIDATING_POLICIES, _policy)}),
)
