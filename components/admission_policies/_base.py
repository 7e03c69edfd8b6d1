"""What every Substrate ValidatingPolicy shares: settings, metadata, scope and CEL helpers.

Policies are Kyverno CEL ``ValidatingPolicy`` objects (``policies.kyverno.io/v1``). Their CEL is
written in the subset that both Kyverno (cel-go with the Kubernetes libraries) and the offline
test evaluator (cel-expr-python: core CEL, the strings and optional extensions) support: macros
(``all``, ``exists``, ``filter``, ``map``), ``has()``, optional field selection
(``x.?field.orValue(default)``), ``in``, ``startsWith``/``endsWith``/``contains``/``matches``
(RE2) and ``join``. Kyverno's ``resource.List`` is the only Kyverno library function used (R31);
the tests bind it to fixture cluster state, as the Kyverno CLI's ``context.yaml`` does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from components.labels import GPU_RESOURCE, NAMESPACE_NAME_LABEL, SYSTEM_NAMESPACES

API_VERSION = "policies.kyverno.io/v1"
KIND = "ValidatingPolicy"
PART_OF = {"app.kubernetes.io/part-of": "substrate"}
RULE_ANNOTATION = "substrate.io/rule"

POD_RULE = {
    "apiGroups": [""],
    "apiVersions": ["v1"],
    "operations": ["CREATE", "UPDATE"],
    "resources": ["pods"],
}


@dataclass(frozen=True)
class PolicySettings:
    """Everything about the policy set that differs between stacks (data from the stack file)."""

    validation_actions: Sequence[str] = ("Audit", "Warn")
    """Deny (Enforce) or Audit+Warn (Audit)."""
    failure_policy: str = "Fail"
    """What the API server does when Kyverno cannot answer."""
    excluded_namespaces: Sequence[str] = field(default_factory=lambda: list(SYSTEM_NAMESPACES))
    """Namespaces no Substrate policy applies to (system, Kyverno, platform controllers)."""
    pod_security_exempt_namespaces: Sequence[str] = ()
    """Namespaces exempt from the restricted Pod Security policy only (R27)."""
    allowed_registries: Sequence[str] = ("public.ecr.aws",)
    """Image prefixes tenants may pull from (R28)."""
    long_running_classes: Sequence[str] = ("training", "agent")
    """Workload classes that must not be disrupted by Karpenter (R33)."""


def cel(value: Any) -> str:
    """A CEL literal for a string or a list of strings (JSON string syntax is valid CEL)."""
    if isinstance(value, str):
        return json.dumps(value)
    return "[" + ", ".join(json.dumps(v) for v in value) + "]"


def not_in_namespaces(names: Iterable[str]) -> dict[str, Any]:
    return {
        "matchExpressions": [
            {"key": NAMESPACE_NAME_LABEL, "operator": "NotIn", "values": sorted(set(names))}
        ]
    }


def variable(name: str, expression: str) -> dict[str, str]:
    return {"name": name, "expression": expression}


def validation(
    expression: str, message: str, message_expression: str | None = None
) -> dict[str, str]:
    out = {"expression": expression, "message": message}
    if message_expression is not None:
        out["messageExpression"] = message_expression
    return out


def validating_policy(
    name: str,
    settings: PolicySettings,
    *,
    rule: str,
    title: str,
    description: str,
    subject: str,
    resource_rules: Sequence[Mapping[str, Any]] = (POD_RULE,),
    validations: Sequence[Mapping[str, str]],
    variables: Sequence[Mapping[str, str]] = (),
    match_conditions: Sequence[Mapping[str, str]] = (),
    extra_excluded: Iterable[str] = (),
) -> dict[str, Any]:
    """The full ValidatingPolicy manifest. The namespace selector repeats the webhook-level
    exclusion so background scans (which ignore webhook selectors) skip the same namespaces."""
    spec: dict[str, Any] = {
        "validationActions": list(settings.validation_actions),
        "failurePolicy": settings.failure_policy,
        "evaluation": {"background": {"enabled": True}},
        "matchConstraints": {
            "namespaceSelector": not_in_namespaces(
                [*settings.excluded_namespaces, *extra_excluded]
            ),
            "resourceRules": [dict(r) for r in resource_rules],
        },
    }
    if match_conditions:
        spec["matchConditions"] = [dict(c) for c in match_conditions]
    if variables:
        spec["variables"] = [dict(v) for v in variables]
    spec["validations"] = [dict(v) for v in validations]
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": f"substrate-{name}",
            "labels": dict(PART_OF),
            "annotations": {
                "policies.kyverno.io/title": title,
                "policies.kyverno.io/category": "Substrate",
                "policies.kyverno.io/subject": subject,
                "policies.kyverno.io/description": description,
                RULE_ANNOTATION: rule,
            },
        },
        "spec": spec,
    }


# -- Shared CEL fragments ---------------------------------------------------------------------
def containers(spec: str) -> str:
    """CEL list of the containers of pod spec ``spec`` that can request resources (ephemeral
    containers cannot)."""
    return f"{spec}.containers + {spec}.?initContainers.orValue([])"


def requests_gpu(spec: str) -> str:
    """CEL: some container of pod spec ``spec`` requests or limits a non-zero number of GPUs."""
    gpu = cel(GPU_RESOURCE)
    return (
        f"({containers(spec)}).exists(c, [c.?resources.?limits.orValue({{}}), "
        "c.?resources.?requests.orValue({})].exists(m, "
        f"{gpu} in m && string(m[{gpu}]) != '0'))"
    )


CONTAINERS = containers("object.spec")
"""Containers of the admitted pod that can request resources."""
ALL_CONTAINERS = CONTAINERS + " + object.spec.?ephemeralContainers.orValue([])"
"""Every container of the pod, including `kubectl debug` ephemeral containers."""
