"""R2: the EKS API private endpoint is enabled (CIS 5.4.1/5.4.2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

from ._props import UNKNOWN, by_type, value
from ._types import EKS_CLUSTER, EKS_COMPONENT

MESSAGE = (
    "the private API endpoint is off; nodes and pods would reach the API server over "
    "the internet: set endpointPrivateAccess to true"
)


def _component(props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    private = value(props, "endpointPrivateAccess")
    return [] if private is True or private is UNKNOWN else [MESSAGE]


def _cluster(props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    private = value(props, "vpcConfig", "endpointPrivateAccess")
    return [] if private is True or private is UNKNOWN else [MESSAGE]


POLICY = ResourceValidationPolicy(
    name="r2-private-endpoint",
    description="R2: the EKS API server has its private endpoint enabled (CIS 5.4.1, 5.4.2).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=by_type({EKS_COMPONENT: _component, EKS_CLUSTER: _cluster}),
)
