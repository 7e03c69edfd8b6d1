"""The manifests a tenant hands `substrate check`: multi-document YAML files of the kinds a tenant
may create, each placed in one of the tenant's namespaces. Anything else is refused with one
line naming the file and document (exit 2)."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

WORKLOAD_KINDS = {
    "Pod": "v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "JobSet": "jobset.x-k8s.io/v1alpha2",
    "LeaderWorkerSet": "leaderworkerset.x-k8s.io/v1",
    "RayJob": "ray.io/v1",
    "RayCluster": "ray.io/v1",
    "SparkApplication": "sparkoperator.k8s.io/v1beta2",
}
"""What a tenant runs; each gets a verdict."""
SUPPORTING_KINDS = {
    "ServiceAccount": "v1",
    "ConfigMap": "v1",
    "Secret": "v1",
    "Service": "v1",
    "PersistentVolumeClaim": "v1",
    "PodDisruptionBudget": "policy/v1",
}
"""What a tenant creates beside its workloads: judged by admission, no verdict of their own."""


class ManifestError(Exception):
    """A manifest `substrate check` cannot judge (exit 2)."""


@dataclass(frozen=True)
class Manifest:
    source: str
    """``<file>#<document number>`` (1-based), for messages."""
    obj: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.obj["kind"])

    @property
    def name(self) -> str:
        return str(self.obj["metadata"]["name"])

    @property
    def namespace(self) -> str:
        return str(self.obj["metadata"]["namespace"])

    @property
    def is_workload(self) -> bool:
        return self.kind in WORKLOAD_KINDS

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"


def _documents(path: Path) -> list[tuple[int, Any]]:
    try:
        text = path.read_text()
    except OSError as err:
        raise ManifestError(f"{path}: cannot read: {err.strerror or err}") from err
    except UnicodeDecodeError as err:
        raise ManifestError(f"{path}: not UTF-8 text") from err
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ManifestError(f"{path}:{where}: invalid YAML: {problem}") from err
    return [(i, d) for i, d in enumerate(docs, 1) if d is not None]


def _checked(source: str, doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise ManifestError(f"{source}: a manifest is a mapping, not {type(doc).__name__}")
    kind, api = doc.get("kind"), doc.get("apiVersion")
    if not isinstance(kind, str) or not isinstance(api, str):
        raise ManifestError(f"{source}: apiVersion and kind are required")
    if kind == "List":
        raise ManifestError(f"{source}: a List; give its items as separate documents")
    expected = {**WORKLOAD_KINDS, **SUPPORTING_KINDS}.get(kind)
    if expected is None:
        kinds = ", ".join(sorted(WORKLOAD_KINDS))
        raise ManifestError(f"{source}: {kind} is not a kind tenants create ({kinds}, ...)")
    if api != expected:
        raise ManifestError(f"{source}: {kind} is served as {expected}, not {api}")
    meta = doc.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta["name"]:
        raise ManifestError(f"{source}: metadata.name is required")
    if "namespace" in meta and not isinstance(meta["namespace"], str):
        raise ManifestError(f"{source}: metadata.namespace must be a string")
    return copy.deepcopy(doc)


def read(paths: Sequence[Path]) -> list[Manifest]:
    """Every document of ``paths`` in order; ManifestError (one line) on the first bad one."""
    out = []
    for path in paths:
        for number, doc in _documents(path):
            source = f"{path}#{number}"
            out.append(Manifest(source, _checked(source, doc)))
    if not out:
        raise ManifestError(f"no manifests in {', '.join(str(p) for p in paths)}")
    if not any(m.is_workload for m in out):
        raise ManifestError("no workload among the manifests (" + ", ".join(WORKLOAD_KINDS) + ")")
    return out


def place(
    manifests: Sequence[Manifest], tenants: Mapping[str, Sequence[str]], tenant: str | None
) -> list[tuple[str, Manifest]]:
    """(tenant, manifest) with every manifest in a tenant namespace: one without a namespace
    goes to ``tenant``'s first namespace; with ``tenant`` given, every namespace must be one of
    its own."""
    if tenant is not None and tenant not in tenants:
        raise ManifestError(f"no tenant {tenant!r} on this stack (tenants: {', '.join(tenants)})")
    out = []
    seen: set[tuple[str, str, str]] = set()
    for m in manifests:
        meta = m.obj["metadata"]
        if not meta.get("namespace"):
            if tenant is None:
                raise ManifestError(f"{m.source}: {m.ref} has no namespace; give --tenant")
            meta["namespace"] = tenants[tenant][0]
        owner = next((t for t, ns in tenants.items() if m.namespace in ns), None)
        if owner is None:
            raise ManifestError(
                f"{m.source}: namespace {m.namespace} belongs to no tenant of this stack"
            )
        if tenant is not None and owner != tenant:
            mine = ", ".join(tenants[tenant])
            raise ManifestError(
                f"{m.source}: namespace {m.namespace} is {owner}'s, not {tenant}'s ({mine})"
            )
        key = (m.kind, m.namespace, m.name)
        if key in seen:
            raise ManifestError(f"{m.source}: {m.ref} in {m.namespace} is given twice")
        seen.add(key)
        out.append((owner, m))
    return out
