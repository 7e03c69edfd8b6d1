"""Load an admission policy's fixtures (`components/admission_policies/<module>.fixtures.yaml`).

A fixture file holds `namespaces` (name -> labels), optional `cluster` objects (what Kyverno's
`resource.List` returns) and `cases`: a full manifest with its namespace and expected verdict
(`pass`, `fail` with a message substring, or `skip`), plus `variants` that change one thing of
it (`set: [[path, value], ...]`, `delete: [path, ...]`, or another `namespace`/`operation`) and
state their own verdict. Paths are lists of keys and list indexes, so label keys with dots and
slashes need no escaping.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from tests.admission.kyverno_cel import namespace_object


@dataclass(frozen=True)
class Example:
    name: str
    resource: dict[str, Any]
    namespace: dict[str, Any] | None
    operation: str
    expect: str
    message: str


@dataclass(frozen=True)
class Fixtures:
    cluster: list[dict[str, Any]]
    examples: list[Example]


def fixture_path(module: ModuleType) -> Path:
    return Path(str(module.__file__)).with_suffix(".fixtures.yaml")


def _apply(resource: dict[str, Any], variant: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(resource)
    for path in variant.get("delete", []):
        node = out
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    for path, value in variant.get("set", []):
        node = out
        for key in path[:-1]:
            node = node.setdefault(key, {}) if isinstance(node, dict) else node[key]
        if isinstance(node, list) and path[-1] == len(node):
            node.append(value)
        else:
            node[path[-1]] = value
    return out


def load(module: ModuleType) -> Fixtures:
    data = yaml.safe_load(fixture_path(module).read_text())
    labels = data.get("namespaces", {})

    def ns(name: str | None) -> dict[str, Any] | None:
        return None if name is None else namespace_object(name, labels[name])

    examples = []
    for case in data["cases"]:
        base = case["resource"]
        examples.append(
            Example(
                case["name"],
                base,
                ns(case.get("namespace")),
                case.get("operation", "CREATE"),
                case["expect"],
                case.get("message", ""),
            )
        )
        for variant in case.get("variants", []):
            examples.append(
                Example(
                    f"{case['name']} / {variant['name']}",
                    _apply(base, variant),
                    ns(variant.get("namespace", case.get("namespace"))),
                    variant.get("operation", case.get("operation", "CREATE")),
                    variant["expect"],
                    variant.get("message", ""),
                )
            )
    return Fixtures(data.get("cluster", []), examples)
