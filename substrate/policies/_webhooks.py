"""Reading admission scope (Kyverno chart values, ValidatingPolicies, webhook objects) for R34."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from substrate.components.core.labels import NAMESPACE_NAME_LABEL

from ._props import MISSING, UNKNOWN, plain, value

KYVERNO_CHARTS = ("kyverno", "kyverno/kyverno")


def is_kyverno_release(props: Mapping[str, Any]) -> bool:
    chart = value(props, "chart")
    return isinstance(chart, str) and chart in KYVERNO_CHARTS


def values(props: Mapping[str, Any]) -> dict[str, Any]:
    v = plain(value(props, "values"))
    return v if isinstance(v, dict) else {}


def unexcluded(selector: Any, system: Iterable[str]) -> list[str] | None:
    """System namespaces a namespace selector does not exclude (None: unknown at preview)."""
    if selector is UNKNOWN:
        return None
    excluded: set[str] = set()
    if isinstance(selector, Mapping):
        for expr in selector.get("matchExpressions") or []:
            if (
                isinstance(expr, Mapping)
                and expr.get("key") == NAMESPACE_NAME_LABEL
                and expr.get("operator") == "NotIn"
            ):
                excluded.update(v for v in expr.get("values") or [] if isinstance(v, str))
    return [ns for ns in system if ns not in excluded]


def wildcards(rules: Any) -> list[str]:
    """`*` entries in admission rules (resources or API groups) — unscoped rules."""
    found = []
    for rule in rules if isinstance(rules, Sequence) and not isinstance(rules, str) else []:
        if not isinstance(rule, Mapping):
            continue
        for key in ("apiGroups", "resources"):
            entries = rule.get(key) or []
            if any(isinstance(e, str) and (e == "*" or e.startswith("*/")) for e in entries):
                found.append(key)
    return found


def timeout_problem(timeout: Any, where: str) -> str | None:
    if timeout is MISSING or timeout is UNKNOWN or timeout is None:
        return None
    if not isinstance(timeout, int | float) or not 1 <= timeout < 30:
        return (
            f"{where} is {timeout!r}; keep it between 1 and 29 seconds so a slow webhook fails fast"
        )
    return None
