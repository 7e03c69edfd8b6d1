"""R27: every namespace carries Pod Security Admission labels for all three modes (enforce,
audit, warn) at `restricted`; only namespaces on the stack's exempt list (node agents that need
host access: SPIRE agents, the DCGM exporter, the NVIDIA and EFA device plugins) may use
`baseline` or `privileged`, and a tenant namespace (`substrate.io/tenant`) never may, whatever
the list says (BPG pods, CIS 4.2.x)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy

from substrate.components.core.labels import PSA_LEVEL_LABELS, TENANT_LABEL

from ._props import UNKNOWN, by_type, value
from ._tenancy import labels
from ._types import NAMESPACE

DEFAULT_EXEMPT = (
    "aws-efa-k8s-device-plugin",
    "dcgm-exporter",
    "nvidia-device-plugin",
    "spire-system",
)
LEVELS = ("restricted", "baseline", "privileged")


def _check(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    if value(props, "metadata", "labels") is UNKNOWN:
        return []
    name = value(props, "metadata", "name")
    found = labels(props)
    tenant = found.get(TENANT_LABEL)
    exempt = set(config.get("exemptNamespaces", DEFAULT_EXEMPT))
    allowed = ("restricted",) if tenant or name not in exempt else LEVELS
    who = f"tenant {tenant!r} namespace {name!r}" if tenant else f"namespace {name!r}"
    problems = []
    for key in PSA_LEVEL_LABELS:
        level = found.get(key)
        if level is UNKNOWN:
            continue
        if level is None:
            problems.append(f"lacks the {key} label")
        elif level not in allowed:
            problems.append(
                f"sets {key}={level} (allowed: {', '.join(allowed)}"
                + (")" if tenant or name in exempt else "; not on the exempt list)")
            )
    return [f"{who}: {'; '.join(problems)}"] if problems else []


POLICY = ResourceValidationPolicy(
    name="r27-pod-security-labels",
    description="R27: namespaces carry PSA enforce/audit/warn labels at restricted; only the "
    "exempt list (exemptNamespaces) may use baseline/privileged, tenant namespaces never "
    "(BPG pods, CIS 4.2.x).",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={
            "exemptNamespaces": {
                "type": "array",
                "items": {"type": "string"},
                "default": list(DEFAULT_EXEMPT),
            }
        }
    ),
    validate=by_type({NAMESPACE: _check}),
)
