"""R5: customer managed keys rotate and no key policy statement trusts `*`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

from ._props import MISSING, UNKNOWN, as_list, by_type, policy_document, statements, value
from ._types import KMS_KEY


def _wildcard_principal(statement: Mapping[str, Any]) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return any("*" in as_list(v) for v in principal.values())
    return False


def _symmetric(props: Mapping[str, Any]) -> bool:
    """Automatic rotation exists only for symmetric encryption keys."""
    for key in ("keySpec", "customerMasterKeySpec"):
        spec = value(props, key)
        if spec not in (MISSING, UNKNOWN, None, "SYMMETRIC_DEFAULT"):
            return False
    return True


def _check(props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    problems = []
    rotation = value(props, "enableKeyRotation")
    if _symmetric(props) and rotation is not True and rotation is not UNKNOWN:
        problems.append("enableKeyRotation is not true; rotate customer managed keys yearly")
    doc = policy_document(value(props, "policy"))
    if doc is not None:
        for stmt in statements(doc):
            if stmt.get("Effect") == "Allow" and _wildcard_principal(stmt):
                problems.append(
                    f"key policy statement {stmt.get('Sid', '(no Sid)')!r} allows "
                    'Principal "*"; name the account or service principals'
                )
    return problems


POLICY = ResourceValidationPolicy(
    name="r5-kms-key-rotation",
    description="R5: KMS keys rotate automatically and their key policies grant no `*` "
    "principal (CKV_AWS_7, CKV_AWS_33).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=by_type({KMS_KEY: _check}),
)
