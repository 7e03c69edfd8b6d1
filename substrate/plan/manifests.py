"""Turn recorded Kubernetes resources back into manifests, and list Helm releases."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from substrate.plan.recorder import ResourceRecord

# Kubernetes types that are not objects of their own (they expand in the provider).
NOT_OBJECTS = {
    "kubernetes:helm.sh/v3:Release",
    "kubernetes:helm.sh/v4:Chart",
    "kubernetes:yaml/v2:ConfigFile",
    "kubernetes:yaml/v2:ConfigGroup",
    "kubernetes:kustomize/v2:Directory",
}
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
COMPONENT_PREFIX = "substrate:"
HEAD_KEYS = ("apiVersion", "kind", "metadata")


def is_kubernetes_object(record: ResourceRecord) -> bool:
    return (
        record.custom and record.type.startswith("kubernetes:") and record.type not in NOT_OBJECTS
    )


def owning_component(record: ResourceRecord, by_urn: Mapping[str, ResourceRecord]) -> str:
    """Name of the nearest enclosing Substrate component (or 'stack')."""
    parent = by_urn.get(record.parent or "")
    while parent is not None:
        if parent.type.startswith(COMPONENT_PREFIX):
            return parent.name
        parent = by_urn.get(parent.parent or "")
    return "stack"


def top_component(record: ResourceRecord, by_urn: Mapping[str, ResourceRecord]) -> str:
    """Name of the outermost Substrate component containing (or being) the record."""
    found, node = "stack", record
    while node is not None:
        if node.type.startswith(COMPONENT_PREFIX):
            found = node.name
        node = by_urn.get(node.parent or "")
    return found


def portable(name: str) -> str:
    """A Kubernetes name as a file name every OS accepts: `:` (RBAC names such as
    `substrate:tenant-admin`) becomes `_`."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def manifest(record: ResourceRecord) -> dict[str, Any]:
    body = record.inputs
    ordered = {k: body[k] for k in HEAD_KEYS if k in body}
    ordered.update({k: body[k] for k in sorted(body) if k not in HEAD_KEYS})
    return ordered


def render_manifests(records: Sequence[ResourceRecord]) -> dict[str, dict[str, Any]]:
    """Relative path (`<component>/<kind>-<name>.yaml`) -> manifest, for every object."""
    by_urn = {r.urn: r for r in records}
    located: list[tuple[str, str, str | None, dict[str, Any]]] = []
    for record in records:
        if not is_kubernetes_object(record):
            continue
        body = manifest(record)
        meta = body.get("metadata") or {}
        if not meta.get("name"):
            raise ValueError(
                f"{record.urn}: Kubernetes objects must set metadata.name so the "
                "plan renders the name the cluster will see"
            )
        base = f"{owning_component(record, by_urn)}/{str(body['kind']).lower()}"
        located.append((base, portable(meta["name"]), meta.get("namespace"), body))
    counts: dict[str, int] = {}
    for base, name, _, _ in located:
        counts[f"{base}-{name}"] = counts.get(f"{base}-{name}", 0) + 1
    out: dict[str, dict[str, Any]] = {}
    for base, name, namespace, body in located:
        stem = f"{base}-{name}"
        if counts[stem] > 1:
            stem = f"{base}-{namespace or 'cluster'}-{name}"
        if f"{stem}.yaml" in out:
            raise ValueError(f"two objects render to {stem}.yaml")
        out[f"{stem}.yaml"] = body
    return dict(sorted(out.items()))


def helm_releases(records: Sequence[ResourceRecord]) -> list[dict[str, Any]]:
    releases = []
    for record in records:
        if record.type != HELM_RELEASE:
            continue
        inputs = record.inputs
        chart = str(inputs.get("chart", ""))
        repo = (inputs.get("repositoryOpts") or {}).get("repo") or (
            chart.rsplit("/", 1)[0] if chart.startswith("oci://") else None
        )
        releases.append(
            {
                "urn": record.urn,
                "name": inputs.get("name", record.name),
                "namespace": inputs.get("namespace", "default"),
                "chart": chart,
                "repository": repo,
                "version": inputs.get("version"),
                "values": inputs.get("values", {}),
            }
        )
    return releases
