"""R6: the cluster runs a Kubernetes version in EKS standard support (configurable list)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy

from substrate.components.core.validators import kubernetes_version
from substrate.components.core.versions import SUPPORTED_KUBERNETES_VERSIONS

from ._props import MISSING, UNKNOWN, by_type, value
from ._types import EKS_CLUSTER, EKS_COMPONENT


def _check(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    version = value(props, "version")
    if version is UNKNOWN:
        return []
    supported = list(config.get("supportedVersions") or SUPPORTED_KUBERNETES_VERSIONS)
    if version is MISSING:
        return [
            "no Kubernetes version is pinned, so EKS picks its default; set one of "
            + ", ".join(supported)
        ]
    problem = kubernetes_version(str(version), supported)
    return [f"version {version!r} {problem}"] if problem else []


POLICY = ResourceValidationPolicy(
    name="r6-supported-version",
    description="R6: the EKS cluster runs a Kubernetes version in standard support "
    "(CKV_AWS_339, Security Hub EKS.2).",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={
            "supportedVersions": {"type": "array", "items": {"type": "string"}},
        }
    ),
    validate=by_type({EKS_COMPONENT: _check, EKS_CLUSTER: _check}),
)
