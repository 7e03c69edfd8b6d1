"""R34: admission webhooks are scoped, time out in under 30 s, never see system namespaces, and
Kyverno's admission controller runs with at least the configured number of replicas.

Checks what the plan declares: the Kyverno Helm release's values (the webhooks Kyverno
registers itself are built from them), every Kyverno ValidatingPolicy, and any
Validating/MutatingWebhookConfiguration a stack declares directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy

from substrate.components.core.labels import SYSTEM_NAMESPACES

from ._props import MISSING, UNKNOWN, by_type, items, plain, value
from ._types import HELM_RELEASE, VALIDATING_POLICIES, WEBHOOK_CONFIGURATIONS
from ._webhooks import is_kyverno_release, timeout_problem, unexcluded, values, wildcards


def _system(config: Mapping[str, Any]) -> list[str]:
    return list(config.get("systemNamespaces") or SYSTEM_NAMESPACES)


def _release(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    if not is_kyverno_release(props):
        return []
    vals = values(props)
    out = []
    replicas = value(vals, "admissionController", "replicas")
    minimum = int(config.get("minAdmissionReplicas", 1))
    count = 1 if replicas is MISSING or replicas is None else replicas
    if count is not UNKNOWN and (not isinstance(count, int | float) or count < minimum):
        out.append(
            f"admissionController.replicas is {count!r}; this stack requires at least {minimum} "
            "Kyverno admission controllers"
        )
    problem = timeout_problem(
        value(vals, "admissionController", "container", "extraArgs", "webhookTimeout"),
        "admissionController.container.extraArgs.webhookTimeout",
    )
    if problem:
        out.append(problem)
    selector = value(vals, "config", "webhooks", "namespaceSelector")
    missing = unexcluded(selector, _system(config))
    if missing:
        out.append(
            "config.webhooks.namespaceSelector does not exclude "
            + ", ".join(missing)
            + "; Kyverno's webhooks must never intercept system namespaces"
        )
    if value(vals, "config", "excludeKyvernoNamespace") is False:
        out.append("config.excludeKyvernoNamespace is false; Kyverno would admit its own pods")
    return out


def _policy(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    out = []
    problem = timeout_problem(
        value(props, "spec", "webhookConfiguration", "timeoutSeconds"),
        "spec.webhookConfiguration.timeoutSeconds",
    )
    if problem:
        out.append(problem)
    rules = plain(value(props, "spec", "matchConstraints", "resourceRules"))
    for key in wildcards(rules):
        out.append(f"spec.matchConstraints.resourceRules match every {key} ('*'); scope them")
    selector = plain(value(props, "spec", "matchConstraints", "namespaceSelector"))
    missing = unexcluded(selector, _system(config))
    if missing:
        out.append("spec.matchConstraints.namespaceSelector does not exclude " + ", ".join(missing))
    return out


def _webhooks(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    out = []
    for i, raw in enumerate(items(value(props, "webhooks"))):
        hook = plain(raw)
        if not isinstance(hook, Mapping):
            continue
        name = hook.get("name", f"webhooks[{i}]")
        timeout = hook.get("timeoutSeconds", MISSING)
        problem = timeout_problem(timeout, f"webhook {name} timeoutSeconds")
        if problem:
            out.append(problem)
        for key in wildcards(hook.get("rules")):
            out.append(f"webhook {name} rules match every {key} ('*'); scope them")
        missing = unexcluded(hook.get("namespaceSelector"), _system(config))
        if missing:
            out.append(f"webhook {name} namespaceSelector does not exclude " + ", ".join(missing))
    return out


POLICY = ResourceValidationPolicy(
    name="r34-webhook-scope",
    description="R34: admission webhooks (Kyverno's and any declared directly) are scoped, "
    "time out in under 30 s, exclude system namespaces; Kyverno runs enough replicas "
    "(EKS Best Practices, control plane).",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={
            "minAdmissionReplicas": {"type": "integer", "minimum": 1, "default": 1},
            "systemNamespaces": {"type": "array", "items": {"type": "string"}},
        }
    ),
    validate=by_type(
        {
            HELM_RELEASE: _release,
            **dict.fromkeys(VALIDATING_POLICIES, _policy),
            **dict.fromkeys(WEBHOOK_CONFIGURATIONS, _webhooks),
        }
    ),
)
