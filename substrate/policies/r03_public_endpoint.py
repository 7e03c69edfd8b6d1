"""R3: no public API endpoint in prod; elsewhere only CIDR-restricted, never 0.0.0.0/0."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy

from substrate.components.core.validators import public_access_cidr

from ._props import MISSING, UNKNOWN, by_type, items, value
from ._types import EKS_CLUSTER, EKS_COMPONENT


def _evaluate(public: Any, cidrs: Any, config: Mapping[str, Any]) -> list[str]:
    # EKS (and pulumi-eks) default the public endpoint to on and its CIDRs to 0.0.0.0/0.
    public_on = public is not False and public is not UNKNOWN
    if not public_on:
        return []
    if config.get("requirePrivateEndpoint", False):
        return [
            "the API endpoint is public; this stack requires a private-only endpoint "
            "(set endpointPublicAccess to false)"
        ]
    if cidrs is UNKNOWN:
        return []
    listed = [str(c) for c in items(cidrs)] if cidrs is not MISSING else []
    if not listed:
        return [
            "the public API endpoint has no publicAccessCidrs, so EKS opens it to "
            "0.0.0.0/0; list the networks that may reach it"
        ]
    return [
        f"publicAccessCidrs contains {cidr}: {problem.problem}"
        for cidr in listed
        if (problem := public_access_cidr(cidr))
    ]


def _component(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    return _evaluate(
        value(props, "endpointPublicAccess"), value(props, "publicAccessCidrs"), config
    )


def _cluster(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    return _evaluate(
        value(props, "vpcConfig", "endpointPublicAccess"),
        value(props, "vpcConfig", "publicAccessCidrs"),
        config,
    )


POLICY = ResourceValidationPolicy(
    name="r3-public-endpoint",
    description="R3: the EKS API endpoint is private in production, and elsewhere public only "
    "to listed CIDRs, never 0.0.0.0/0 or ::/0 (CKV_AWS_38/39, EKS.1, CT.EKS.PR.1).",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={
            "requirePrivateEndpoint": {"type": "boolean", "default": False},
        }
    ),
    validate=by_type({EKS_COMPONENT: _component, EKS_CLUSTER: _cluster}),
)
