"""Compare two plans (plan.json documents): resources added, removed, changed, and policy
violations introduced or fixed. Pure data in, pure data out."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from substrate.jsonvalues import decode_json_string
from substrate.plan.manifests import COMPONENT_PREFIX

Path = str


@dataclass(frozen=True)
class Change:
    path: Path
    """Dotted input path, list indexes in brackets: `spec.limits.cpu`, `tags["team"]`."""
    old: Any
    new: Any


@dataclass(frozen=True)
class ResourceDiff:
    urn: str
    type: str
    name: str
    changes: list[Change] = field(default_factory=list)


@dataclass(frozen=True)
class PlanDiff:
    stack: str
    added: list[ResourceDiff]
    removed: list[ResourceDiff]
    changed: list[ResourceDiff]
    introduced: list[dict[str, str]]
    fixed: list[dict[str, str]]

    @property
    def identical(self) -> bool:
        return not (self.added or self.removed or self.changed or self.introduced or self.fixed)


_MISSING = object()


def _key(path: Path, key: str) -> Path:
    if key.replace("_", "").replace("-", "").isalnum() and not key[:1].isdigit():
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def changes(old: Any, new: Any, path: Path = "") -> list[Change]:
    old, new = decode_json_string(old), decode_json_string(new)
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        out: list[Change] = []
        for key in sorted(set(old) | set(new)):
            out += changes(old.get(key, _MISSING), new.get(key, _MISSING), _key(path, key))
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        out = []
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            out += changes(a, b, f"{path}[{i}]")
        return out
    if old == new:
        return []
    return [
        Change(path or "<root>", None if old is _MISSING else old, None if new is _MISSING else new)
    ]


def _violation_key(v: Mapping[str, str]) -> tuple[str, str, str, str]:
    return (v["policy"], v["urn"], v["enforcement"], v["message"])


def _resources(plan: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Resources by URN, counted as `substrate plan` counts them: components (which hold no
    inputs of their own) are left out; their children carry every change."""
    return {r["urn"]: r for r in plan["resources"] if not r["type"].startswith(COMPONENT_PREFIX)}


def compare(base: Mapping[str, Any], head: Mapping[str, Any]) -> PlanDiff:
    before = _resources(base)
    after = _resources(head)

    def entry(r: Mapping[str, Any], diffs: list[Change] | None = None) -> ResourceDiff:
        return ResourceDiff(r["urn"], r["type"], r["name"], diffs or [])

    changed = []
    for urn in sorted(set(before) & set(after)):
        diffs = changes(before[urn]["inputs"], after[urn]["inputs"])
        for key in ("parent", "provider"):
            if before[urn].get(key) != after[urn].get(key):
                diffs.append(Change(f"<{key}>", before[urn].get(key), after[urn].get(key)))
        if diffs:
            changed.append(entry(after[urn], diffs))
    old_v = {_violation_key(v): v for v in base["policy"]["violations"]}
    new_v = {_violation_key(v): v for v in head["policy"]["violations"]}
    return PlanDiff(
        stack=str(head.get("stack", "")),
        added=[entry(after[u]) for u in sorted(set(after) - set(before))],
        removed=[entry(before[u]) for u in sorted(set(before) - set(after))],
        changed=changed,
        introduced=[new_v[k] for k in sorted(set(new_v) - set(old_v))],
        fixed=[old_v[k] for k in sorted(set(old_v) - set(new_v))],
    )
