"""R4: Kubernetes Secrets are envelope-encrypted with a customer managed KMS key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

from substrate.components.core.validators import is_customer_kms_key_arn

from ._props import MISSING, UNKNOWN, by_type, items, value
from ._types import EKS_CLUSTER, EKS_COMPONENT


def _key_problem(key_arn: Any) -> list[str]:
    if key_arn is MISSING:
        return [
            "Secrets are not envelope-encrypted: set a customer managed KMS key "
            "(encryptionConfigKeyArn)"
        ]
    if key_arn is UNKNOWN:  # the ARN of a key created in this update: a customer key
        return []
    if not is_customer_kms_key_arn(key_arn):
        return [
            f"Secrets key {key_arn!r} is not a customer managed KMS key ARN "
            "(arn:aws:kms:<region>:<account>:key/<id>)"
        ]
    return []


def _component(props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    return _key_problem(value(props, "encryptionConfigKeyArn"))


def _cluster(props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    resources = value(props, "encryptionConfig", "resources")
    if resources is not UNKNOWN and "secrets" not in [str(r) for r in items(resources)]:
        return ['encryptionConfig.resources does not include "secrets"']
    return _key_problem(value(props, "encryptionConfig", "provider", "keyArn"))


POLICY = ResourceValidationPolicy(
    name="r4-secrets-encryption",
    description="R4: EKS encrypts Kubernetes Secrets with a customer managed KMS key "
    "(CKV_AWS_58, CIS 5.3.1, CT.EKS.PR.2).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=by_type({EKS_COMPONENT: _component, EKS_CLUSTER: _cluster}),
)
