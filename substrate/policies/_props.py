"""Reading resource properties the way the engine hands them to a policy.

Props are Mappings (the SDK's unknown-checking proxy), numbers may be floats, and any value
computed from another resource of the same update is unknown during `pulumi preview`: reading
it raises UnknownValueError. Policies read through ``value()`` so they can tell missing from
unknown and decide explicitly what an unknown value means.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs
from pulumi_policy.proxy import UnknownValueError


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


MISSING = _Marker("MISSING")
UNKNOWN = _Marker("UNKNOWN")

Check = Callable[[Mapping[str, Any], Mapping[str, Any]], list[str]]
"""(props, policy config) -> violation messages."""


def value(props: Any, *path: str | int) -> Any:
    """The value at ``path``, or MISSING, or UNKNOWN (computed at deploy time)."""
    current = props
    try:
        for key in path:
            if isinstance(key, int):
                if (
                    not isinstance(current, Sequence)
                    or isinstance(current, str)
                    or key >= len(current)
                ):
                    return MISSING
                current = current[key]
            else:
                if not isinstance(current, Mapping) or key not in current:
                    return MISSING
                current = current[key]
    except UnknownValueError:
        return UNKNOWN
    return current


def is_true(v: Any) -> bool:
    """Booleans arrive as bools or, in launch templates, as the strings "true"/"false"."""
    return v is True or (isinstance(v, str) and v.lower() == "true")


def items(v: Any) -> list[Any]:
    """A list-valued property as a plain list (empty when missing or unknown)."""
    if isinstance(v, Sequence) and not isinstance(v, str):
        out = []
        for i in range(len(v)):
            try:
                out.append(v[i])
            except UnknownValueError:
                out.append(UNKNOWN)
        return out
    return []


def policy_document(v: Any) -> dict[str, Any] | None:
    """A JSON policy document input (string or object); None when unknown or unparsable."""
    if v is MISSING or v is UNKNOWN or v is None:
        return None
    if isinstance(v, str):
        try:
            doc = json.loads(v)
        except json.JSONDecodeError:
            return None
        return doc if isinstance(doc, dict) else None
    return plain(v)


def plain(v: Any) -> Any:
    """Copy a proxied value into plain dicts/lists (unknowns become UNKNOWN)."""
    if isinstance(v, Mapping):
        out = {}
        for k in v:
            try:
                out[k] = plain(v[k])
            except UnknownValueError:
                out[k] = UNKNOWN
        return out
    if isinstance(v, Sequence) and not isinstance(v, str):
        return [plain(x) for x in items(v)]
    return v


def statements(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    stmts = doc.get("Statement", [])
    return [stmts] if isinstance(stmts, Mapping) else [s for s in stmts if isinstance(s, Mapping)]


def as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def by_type(
    checks: Mapping[str, Check],
) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    """A validate function dispatching on resource type; unlisted types are not inspected."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        check = checks.get(args.resource_type)
        if check is None:
            return
        for message in check(args.props, args.get_config() or {}):
            report_violation(message, None)

    return validate
