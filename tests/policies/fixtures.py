"""Load a policy's fixtures and execute the policy on them, exactly as `substrate plan` does."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from substrate.plan.policy import Violation, effective_policies, evaluate
from substrate.plan.recorder import UNKNOWN, ResourceRecord

UNKNOWN_TOKEN = "<unknown>"
STACK = "stack"
"""Case type of multi-resource fixtures: props are {"resources": [{type, name, props,
propertyDependencies?: {input: [names of other resources]}}, ...]}."""


@dataclass(frozen=True)
class Break:
    set: dict[str, Any] = field(default_factory=dict)
    delete: str | None = None
    violation: str = ""
    drop: int | None = None
    """Stack policies: remove `others[drop]` from the stack instead of changing a field."""

    def describe(self) -> str:
        if self.drop is not None:
            return f"drop others[{self.drop}]"
        return f"delete {self.delete}" if self.delete else f"set {self.set}"


@dataclass(frozen=True)
class Case:
    name: str
    type: str
    props: dict[str, Any]
    config: dict[str, Any]
    breaks: list[Break]
    others: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """Stack policies: further resources (type, props) in the stack besides the case's own."""

    def stack_props(self) -> dict[str, Any]:
        """Every case as the general stack form: {"resources": [{type, name, props}, ...]}.
        A single-resource case (plus `others`) is the resource list [case, *others]."""
        if self.type == STACK:
            return copy.deepcopy(self.props)
        own = {"type": self.type, "name": "fixture", "props": self.props}
        others = [
            {"type": t, "name": f"other-{i}", "props": p} for i, (t, p) in enumerate(self.others)
        ]
        return copy.deepcopy({"resources": [own, *others]})

    def stack_break(self, change: Break) -> Break:
        """A break on the case's own fields (or `drop` of another resource) in stack form."""
        if self.type == STACK:
            return change
        if change.drop is not None:
            return Break(delete=f"resources.{change.drop + 1}", violation=change.violation)
        return Break(
            set={f"resources.0.props.{k}": v for k, v in change.set.items()},
            delete=f"resources.0.props.{change.delete}" if change.delete else None,
            violation=change.violation,
        )


def fixture_path(module: ModuleType) -> Path:
    return Path(str(module.__file__)).with_suffix(".fixtures.yaml")


def load_cases(module: ModuleType) -> list[Case]:
    data = yaml.safe_load(fixture_path(module).read_text())
    return [
        Case(
            c["name"],
            c["type"],
            c.get("props") or {},
            c.get("config") or {},
            [Break(**b) for b in c.get("breaks", [])],
            [(o["type"], o.get("props") or {}) for o in c.get("others", [])],
        )
        for c in data["cases"]
    ]


def _engine_value(value: Any) -> Any:
    """Fixture values in the engine's wire shape: numbers as floats, unknown sentinels."""
    if value == UNKNOWN_TOKEN:
        return UNKNOWN
    if isinstance(value, dict):
        return {k: _engine_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_engine_value(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _walk(props: Any, path: str) -> tuple[Any, str | int]:
    *parents, last = path.split(".")
    node = props
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    return node, int(last) if isinstance(node, list) else last


def broken(props: dict[str, Any], change: Break) -> dict[str, Any]:
    out = copy.deepcopy(props)
    if change.delete:
        node, key = _walk(out, change.delete)
        del node[key]
    for path, value in change.set.items():
        node, key = _walk(out, path)
        node[key] = value
    return out


def _urn(resource_type: str, name: str) -> str:
    return f"urn:pulumi:test::substrate::{resource_type}::{name}"


def _record(resource: dict[str, Any], names: dict[str, str]) -> ResourceRecord:
    """A recorded resource from a fixture entry; `propertyDependencies` name other entries."""
    deps = {
        key: [names[n] for n in listed]
        for key, listed in (resource.get("propertyDependencies") or {}).items()
    }
    return ResourceRecord(
        urn=_urn(resource["type"], resource["name"]),
        type=resource["type"],
        name=resource["name"],
        parent=None,
        custom=True,
        remote=False,
        dependencies=sorted({u for urns in deps.values() for u in urns}),
        property_dependencies=deps,
        provider=None,
        raw_inputs=_engine_value(resource.get("props") or {}),
    )


def run_case(module: ModuleType, case: Case, change: Break | None = None) -> list[Violation]:
    """Execute the case's policy on the case's resources, with ``change`` applied if given."""
    props = case.stack_props()
    if change is not None:
        props = broken(props, case.stack_break(change))
    names = {r["name"]: _urn(r["type"], r["name"]) for r in props["resources"]}
    records = [_record(r, names) for r in props["resources"]]
    policies = effective_policies([module.POLICY], {module.POLICY.name: case.config})
    return evaluate(records, policies)
