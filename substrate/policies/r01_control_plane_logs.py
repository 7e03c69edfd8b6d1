"""R1: all five EKS control-plane log types are enabled (CKV_AWS_37, CIS 2.1.1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

from substrate.components.core.validators import missing_log_types

from ._props import UNKNOWN, by_type, items, value
from ._types import EKS_CLUSTER, EKS_COMPONENT


def _check(props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    enabled = value(props, "enabledClusterLogTypes")
    if enabled is UNKNOWN:
        return []
    missing = missing_log_types(str(t) for t in items(enabled))
    if missing:
        return [
            f"enabledClusterLogTypes lacks {', '.join(missing)}; enable api, audit, "
            "authenticator, controllerManager and scheduler"
        ]
    return []


POLICY = ResourceValidationPolicy(
    name="r1-control-plane-logs",
    description="R1: EKS control-plane logging covers api, audit, authenticator, "
    "controllerManager and scheduler (CKV_AWS_37, CIS 2.1.1).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=by_type({EKS_COMPONENT: _check, EKS_CLUSTER: _check}),
)
