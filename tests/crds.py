"""Validate rendered custom resources against the upstream CRD schemas (../shared/crds).

The schema is the served version's `openAPIV3Schema`, checked with jsonschema (Draft 7 keeps
OpenAPI v3's `type`/`properties`/`required`/`enum`/`pattern`/... semantics). Kubernetes-only
extensions are honoured where they change what is valid: `x-kubernetes-int-or-string` and
`x-kubernetes-preserve-unknown-fields`. `x-kubernetes-validations` (CEL) rules are listed by
`cel_rules()` for tests that want to evaluate them; jsonschema ignores them.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml


@functools.cache
def _load(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=yaml.CSafeLoader)


def _crd(crd_dir: Path, group: str, kind: str) -> dict[str, Any] | None:
    """Upstream CRD files are named `<group>_<plural>.yaml`; parse only that group's files."""
    for path in sorted(crd_dir.rglob(f"{group}_*.yaml")):
        doc = _load(path)
        if (
            isinstance(doc, dict)
            and doc.get("kind") == "CustomResourceDefinition"
            and doc["spec"]["group"] == group
            and doc["spec"]["names"]["kind"] == kind
        ):
            return doc
    return None


def schema_for(crd_dir: Path, api_version: str, kind: str) -> dict[str, Any]:
    group = api_version.rpartition("/")[0]
    crd = _crd(crd_dir, group, kind)
    if crd is None:
        raise LookupError(f"no CRD for {kind}.{group} under {crd_dir}")
    return served_schema(crd, api_version)


def served_schema(crd: Mapping[str, Any], api_version: str) -> dict[str, Any]:
    """The `openAPIV3Schema` of ``crd``'s served version ``api_version`` (adapted for
    jsonschema); LookupError when that version is not served."""
    version = api_version.rpartition("/")[2]
    kind = crd["spec"]["names"]["kind"]
    for entry in crd["spec"]["versions"]:
        if entry["name"] == version:
            if not entry.get("served", False):
                raise LookupError(f"{api_version} {kind} is not served by its CRD")
            return _adapt(copy.deepcopy(entry["schema"]["openAPIV3Schema"]))
    served = [v["name"] for v in crd["spec"]["versions"] if v.get("served")]
    raise LookupError(f"{kind}.{crd['spec']['group']} has no version {version} (served: {served})")


def _adapt(node: Any) -> Any:
    if isinstance(node, dict):
        if node.get("x-kubernetes-int-or-string"):
            node.pop("type", None)
            node["anyOf"] = [{"type": "integer"}, {"type": "string"}]
        if node.get("nullable"):
            kind = node.get("type")
            if isinstance(kind, str):
                node["type"] = [kind, "null"]
        for key, value in list(node.items()):
            if key not in ("enum", "default", "example"):
                node[key] = _adapt(value)
    elif isinstance(node, list):
        return [_adapt(v) for v in node]
    return node


def validation_errors(crd_dir: Path, manifest: Mapping[str, Any]) -> list[str]:
    return _errors(schema_for(crd_dir, manifest["apiVersion"], manifest["kind"]), manifest)


def errors_against(crd: Mapping[str, Any], manifest: Mapping[str, Any]) -> list[str]:
    """``manifest`` checked against a CRD object (e.g. the one a chart installs)."""
    return _errors(served_schema(crd, manifest["apiVersion"]), manifest)


def _errors(schema: dict[str, Any], manifest: Mapping[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(schema)
    return sorted(
        f"{'/'.join(str(p) for p in err.absolute_path) or '<root>'}: {err.message}"
        for err in validator.iter_errors(dict(manifest))
    )


def cel_rules(crd_dir: Path, api_version: str, kind: str) -> Iterator[tuple[str, str]]:
    """(schema path, rule) for every x-kubernetes-validations rule of the served version."""

    def walk(node: Any, path: str) -> Iterator[tuple[str, str]]:
        if isinstance(node, dict):
            for rule in node.get("x-kubernetes-validations", []):
                yield path, rule["rule"]
            for key, value in node.items():
                yield from walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from walk(value, f"{path}/{i}")

    yield from walk(schema_for(crd_dir, api_version, kind), "")
