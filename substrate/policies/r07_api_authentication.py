"""R7: cluster access is managed with EKS access entries (authentication mode API)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy

from ._props import MISSING, UNKNOWN, by_type, value
from ._types import EKS_CLUSTER, EKS_COMPONENT


def _evaluate(mode: Any, config: Mapping[str, Any]) -> list[str]:
    if mode is UNKNOWN or mode == "API":
        return []
    if mode == "API_AND_CONFIG_MAP" and config.get("allowApiAndConfigMap", False):
        return []
    shown = "unset (CONFIG_MAP)" if mode is MISSING else repr(mode)
    return [
        f"authenticationMode is {shown}; use API so access is granted only through access "
        "entries (API_AND_CONFIG_MAP only while migrating, with allowApiAndConfigMap)"
    ]


def _component(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    return _evaluate(value(props, "authenticationMode"), config)


def _cluster(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    return _evaluate(value(props, "accessConfig", "authenticationMode"), config)


POLICY = ResourceValidationPolicy(
    name="r7-api-authentication",
    description="R7: EKS authentication mode is API: access entries, no aws-auth ConfigMap "
    "(CIS 4.1.7, EKS best practices: cluster access management).",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={
            "allowApiAndConfigMap": {"type": "boolean", "default": False},
        }
    ),
    validate=by_type({EKS_COMPONENT: _component, EKS_CLUSTER: _cluster}),
)
