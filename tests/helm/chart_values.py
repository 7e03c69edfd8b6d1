"""Which values keys a chart package reads, from the package itself: its ``values.yaml``, its
``values.schema.json`` and the ``.Values.<path>`` its templates mention (keys a chart documents
only in a comment, e.g. dcgm-exporter's ``customMetrics``), with every dependency's keys under its
alias (or name) and every chart's ``global`` merged, as Helm scopes subchart values.

Helm ignores a values key no template reads, so a typo'd key silently does nothing: the check is
that every key a release sets is one of these, or sits inside a map the chart takes whole
(a default of ``{}`` or a list, or one of the Kubernetes-object fields in ``FREE_FORM``).
"""

from __future__ import annotations

import functools
import json
import posixpath
import re
import tarfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

FREE_FORM = frozenset(
    {
        "affinity",
        "annotations",
        "extraArgs",
        "labels",
        "nodeSelector",
        "podAnnotations",
        "podLabels",
        "podSecurityContext",
        "resources",
        "securityContext",
    }
)
"""Keys charts pass to Kubernetes whole (maps of labels or args, or a Kubernetes object type):
their content is Kubernetes', not the chart's, so a default listing some entries lists no limit."""

_REFERENCE = re.compile(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
_LEAF = None


@functools.cache
def _files(package: Path) -> dict[str, bytes]:
    wanted = {"values.yaml", "Chart.yaml", "values.schema.json"}
    out = {}
    with tarfile.open(package) as tgz:
        for member in tgz.getmembers():
            name = member.name
            if not member.isfile():
                continue
            if posixpath.basename(name) in wanted or "/templates/" in name:
                data = tgz.extractfile(member)
                assert data is not None
                out[name] = data.read()
    return out


def _merge(base: Any, extra: Any) -> Any:
    if isinstance(base, dict) and isinstance(extra, dict):
        merged = dict(base)
        for key, value in extra.items():
            merged[key] = _merge(merged[key], value) if key in merged else value
        return merged
    return base if base not in (None, {}) else extra


def _schema_keys(schema: Any) -> Any:
    if isinstance(schema, dict) and isinstance(schema.get("properties"), dict):
        return {key: _schema_keys(sub) for key, sub in schema["properties"].items()}
    return _LEAF


def _referenced(files: Mapping[str, bytes], root: str) -> dict[str, Any]:
    """The `.Values.a.b.c` paths the chart's own templates mention, as a tree of leaves."""
    tree: dict[str, Any] = {}
    prefix = f"{root}/templates/"
    for name, data in files.items():
        if not name.startswith(prefix):
            continue
        for match in _REFERENCE.finditer(data.decode("utf-8", "replace")):
            node = tree
            for key in match.group(1).strip(".").split("."):
                node = node.setdefault(key, {})
    return tree


def _known(files: Mapping[str, bytes], root: str) -> dict[str, Any]:
    tree = yaml.safe_load(files.get(f"{root}/values.yaml", b"")) or {}
    schema = files.get(f"{root}/values.schema.json")
    if schema:
        tree = _merge(tree, _schema_keys(json.loads(schema)) or {})
    tree = _merge(tree, _referenced(files, root))
    chart = yaml.safe_load(files[f"{root}/Chart.yaml"])
    shared = tree.get("global") or {}
    for dependency in chart.get("dependencies") or []:
        sub = _known(files, f"{root}/charts/{dependency['name']}")
        key = dependency.get("alias") or dependency["name"]
        own = {k: v for k, v in sub.items() if k != "global"}
        tree[key] = _merge(tree.get(key) or {}, own)
        shared = _merge(shared, sub.get("global") or {})
    if shared:
        tree["global"] = shared
    return tree


@functools.cache
def _known_keys(package: Path, chart: str) -> dict[str, Any]:
    return _known(_files(package), chart)


def unread_keys(package: Path, chart: str, values: Mapping[str, Any]) -> list[str]:
    """The dotted paths among ``values`` that ``chart`` (in ``package``) never reads."""
    return sorted(_unread(values, _known_keys(package, chart), ""))


def _unread(ours: Mapping[str, Any], known: Any, path: str) -> Iterator[str]:
    for key, value in ours.items():
        where = f"{path}.{key}" if path else key
        if not isinstance(known, dict) or key not in known:
            yield where
            continue
        default = known[key]
        whole = key in FREE_FORM or not isinstance(default, dict) or not default
        if isinstance(value, dict) and not whole:
            yield from _unread(value, default, where)
