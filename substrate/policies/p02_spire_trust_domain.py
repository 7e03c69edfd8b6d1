"""P2: SPIRE runs with this environment's trust domain, never the chart's example.org.

Substrate rule (not in rules.md). The `spire` chart defaults `global.spire.trustDomain` to
`example.org`; every SVID it issues would then claim a domain anyone can also claim. The
optional policy config `trustDomain` pins an expected domain; Substrate's tier configs leave it
out, since the stack file is the one place an environment's identity lives (its config refuses a
trust domain that does not name the environment). ClusterSPIFFEIDs must mint IDs in the
deployment's trust domain (`{{ .TrustDomain }}`) or the configured one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from substrate.components.core.validators import CHART_DEFAULT_TRUST_DOMAIN, spiffe_trust_domain

from ._helm import chart_name, chart_value
from ._props import MISSING, UNKNOWN, value
from ._types import CLUSTER_SPIFFE_ID

SPIRE_CHART = "spire"
TEMPLATE_PREFIX = "spiffe://{{ .TrustDomain }}/"


def _release(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    domain = chart_value(props, "global", "spire", "trustDomain")
    if domain is UNKNOWN:
        return []
    if domain is MISSING or domain == "":
        return [
            "global.spire.trustDomain is unset, so SPIRE issues SVIDs in the chart default "
            f"{CHART_DEFAULT_TRUST_DOMAIN}; set substrate:identity.trustDomain"
        ]
    problem = spiffe_trust_domain(str(domain))
    if problem:
        return [f"global.spire.trustDomain {domain!r} {problem}"]
    expected = config.get("trustDomain")
    if expected and domain != expected:
        return [
            f"global.spire.trustDomain is {domain!r}, not this stack's configured trust domain "
            f"{expected!r} (changing it re-issues every SVID and breaks federation)"
        ]
    return []


def _spiffe_id(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    template = value(props, "spec", "spiffeIDTemplate")
    if template is UNKNOWN or template is MISSING:
        return []
    allowed = [TEMPLATE_PREFIX]
    if config.get("trustDomain"):
        allowed.append(f"spiffe://{config['trustDomain']}/")
    if any(str(template).startswith(prefix) for prefix in allowed):
        return []
    return [
        f"spiffeIDTemplate {template!r} is outside the trust domain; start it with "
        f"{' or '.join(allowed)}"
    ]


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    config = args.get_config() or {}
    if chart_name(args.resource_type, args.props) == SPIRE_CHART:
        messages = _release(args.props, config)
    elif args.resource_type == CLUSTER_SPIFFE_ID:
        messages = _spiffe_id(args.props, config)
    else:
        return
    for message in messages:
        report_violation(message, None)


POLICY = ResourceValidationPolicy(
    name="p2-spire-trust-domain",
    description="P2: the SPIRE release sets global.spire.trustDomain to this stack's trust "
    "domain (valid, never example.org) and ClusterSPIFFEIDs mint IDs inside it (Substrate "
    "identity rule).",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(properties={"trustDomain": {"type": "string"}}),
    validate=validate,
)
