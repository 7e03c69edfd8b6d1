"""Helm's own rendering of a plan's releases (build/engines/helm, the Helm v3 library major that
pulumi-kubernetes' ``kubernetes:helm.sh/v3:Release`` installs charts with).

Each release is rendered once with ``helm template`` from the pinned chart package, with the
values pulumi-kubernetes hands Helm, the cluster's Kubernetes version and the API versions the
cluster serves when the release is first installed: Kubernetes' built-in ones plus the
CustomResourceDefinitions installed by every release and object the release waits for (its
``depends_on`` and its parents', followed transitively, as the engine orders creation). CRDs in a
chart's ``crds/`` are included (the Release installs them unless ``skipCrds``); hooks are kept
(``helm install`` runs them), chart tests are not (only ``helm test`` runs those).

:func:`substrate.engines.cluster.cluster_objects` turns a plan and its renders into everything
the cluster holds.
"""

from __future__ import annotations

import gc
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from substrate.components.core.versions import GO_MODULE_CHARTS
from substrate.engines import run
from substrate.engines.charts import BUILD_TARGET as CHARTS_TARGET
from substrate.engines.charts import fetched_dir
from substrate.plan.manifests import HELM_RELEASE
from substrate.plan.recorder import (
    OUTPUT_SIG,
    SECRET_SIG,
    SIG_KEY,
    UNKNOWN_MASK,
    ResourceRecord,
    normalize,
)

EKS_CLUSTER = "eks:index:Cluster"
CRD_KIND = "CustomResourceDefinition"


class Plan(Protocol):
    """What rendering needs of a plan (``substrate.plan.command.PlanResult``)."""

    @property
    def records(self) -> list[ResourceRecord]: ...
    @property
    def manifests(self) -> dict[str, dict[str, Any]]: ...
    @property
    def releases(self) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class Release:
    """A Helm release as pulumi-kubernetes installs it."""

    urn: str
    name: str
    namespace: str
    chart: str
    """Chart name (the last element of an OCI reference)."""
    version: str
    values: dict[str, Any]
    """The values Helm receives (secrets revealed, as the provider reveals them)."""

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Rendered:
    """One release's objects, as ``helm template`` renders them."""

    release: Release
    objects: tuple[dict[str, Any], ...]
    sources: tuple[str, ...]
    """The chart file each object came from (Helm's ``# Source:`` line), index for index."""
    api_versions: tuple[str, ...]
    """The ``--api-versions`` it was rendered with (beyond Kubernetes' built-in ones)."""
    kube_version: str
    seconds: float

    def crds(self) -> list[dict[str, Any]]:
        return [o for o in self.objects if o.get("kind") == CRD_KIND]


class _Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """SafeLoader that reads YAML 1.1's `=` value tag as the plain string it is meant to be (the
    AlertmanagerConfig CRD has an enum item written as a bare ``- =``)."""


_Loader.add_constructor("tag:yaml.org,2002:value", yaml.SafeLoader.construct_yaml_str)


def kubernetes_version(plan: Plan) -> str:
    """The cluster's Kubernetes version as Helm takes it (``1.35.0``), from the plan's cluster."""
    versions = {str(r.inputs.get("version")) for r in plan.records if r.type == EKS_CLUSTER}
    if len(versions) != 1 or "None" in versions:
        raise LookupError(
            f"the plan has {len(versions)} {EKS_CLUSTER} versions {sorted(versions)}: "
            "pass the cluster's Kubernetes version"
        )
    (minor,) = versions
    return minor if minor.count(".") == 2 else f"{minor}.0"


def _reveal(value: Any) -> Any:
    """Secrets as the provider sees them (it strips the secret marker, Helm gets the value)."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return _reveal(value.get("value"))
        if value.get(SIG_KEY) == OUTPUT_SIG:
            return _reveal(value.get("value", UNKNOWN_MASK))
        return {k: _reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_reveal(v) for v in value]
    return value


def _unknown_paths(value: Any, path: str = "") -> Iterable[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _unknown_paths(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _unknown_paths(item, f"{path}[{i}]")
    elif value == UNKNOWN_MASK:
        yield path or "<root>"


def engine_values(record: ResourceRecord) -> dict[str, Any]:
    """A Release record's values as Helm receives them. Numbers are whole where they are whole:
    the SDK sends every number as a float and Helm reads a values file's numbers as float64
    either way, so both routes hand the templates the same values."""
    values = normalize(_reveal(record.raw_inputs.get("values") or {}))
    unknown = list(_unknown_paths(values))
    if unknown:
        raise ValueError(f"{record.urn}: values unknown until deployment at {unknown}")
    return values


def releases_of(plan: Plan) -> list[Release]:
    by_urn = {r.urn: r for r in plan.records}
    out = []
    for entry in plan.releases:
        record = by_urn[entry["urn"]]
        if record.type != HELM_RELEASE:
            raise ValueError(f"{record.urn} is a {record.type}, not a {HELM_RELEASE}")
        out.append(
            Release(
                urn=record.urn,
                name=str(entry["name"]),
                namespace=str(entry["namespace"]),
                chart=str(entry["chart"]).rsplit("/", 1)[-1],
                version=str(entry["version"]),
                values=engine_values(record),
            )
        )
    return out


def created_before(records: Sequence[ResourceRecord]) -> dict[str, frozenset[str]]:
    """URN -> every URN the engine has created before it: its dependencies and its ancestors'
    (the SDK registers a child only once its parent's dependencies exist), transitively."""
    by_urn = {r.urn: r for r in records}
    memo: dict[str, frozenset[str]] = {}

    def direct(urn: str) -> set[str]:
        found: set[str] = set()
        node = by_urn.get(urn)
        while node is not None:
            found.update(node.dependencies)
            node = by_urn.get(node.parent or "")
        return found

    def before(urn: str) -> frozenset[str]:
        if urn not in memo:
            memo[urn] = frozenset()  # a cycle cannot be deployed; do not loop on one
            found: set[str] = set()
            for dep in direct(urn):
                found.add(dep)
                found.update(before(dep))
            memo[urn] = frozenset(found)
        return memo[urn]

    return {r.urn: before(r.urn) for r in records}


def served_api_versions(crds: Iterable[Mapping[str, Any]]) -> set[str]:
    """`group/version` and `group/version/Kind` for every served version of ``crds``: the two
    forms ``.Capabilities.APIVersions.Has`` answers for (as Helm builds them from discovery)."""
    found = set()
    for crd in crds:
        spec = crd.get("spec") or {}
        group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
        for version in spec.get("versions") or []:
            if version.get("served", True):
                found.add(f"{group}/{version['name']}")
                found.add(f"{group}/{version['name']}/{kind}")
    return found


def chart_package(charts: Path, release: Release) -> Path:
    """The release's chart package: from ``charts`` (../shared/charts), or for a chart fetched
    at build time (``substrate.components.core.versions.GO_MODULE_CHARTS``) from build/charts/."""
    name = f"{release.chart}-{release.version}.tgz"
    path = charts / name
    if path.is_file():
        return path
    fetched = fetched_dir() / name
    if fetched.is_file():
        return fetched
    hint = f": run `{CHARTS_TARGET}`" if release.chart in GO_MODULE_CHARTS else ""
    raise FileNotFoundError(f"{release.key}: no chart package {path}{hint}")


_SOURCE = re.compile(r"^# Source: (.+)$", re.MULTILINE)
_SEPARATOR = re.compile(r"^---[ \t]*$", re.MULTILINE)


_PARSED: dict[str, tuple[str, dict[str, Any] | None]] = {}


def _parse_document(chunk: str) -> tuple[str, dict[str, Any] | None]:
    """One rendered document, parsed once per process: most of Helm's output (CRDs above all)
    is the same text in every stack."""
    if chunk not in _PARSED:
        body = yaml.load(chunk, Loader=_Loader)
        if body is not None and not isinstance(body, dict):
            raise ValueError(f"helm rendered a non-object document: {chunk[:200]}")
        source = _SOURCE.search(chunk)
        _PARSED[chunk] = (source.group(1) if source else "", body or None)
    return _PARSED[chunk]


def parse_manifest(text: str) -> list[tuple[str, dict[str, Any]]]:
    """(source file, object) for every object in ``helm template`` output (shared objects:
    treat them as read-only)."""
    parsed = (_parse_document(chunk) for chunk in _SEPARATOR.split(text))
    out: list[tuple[str, dict[str, Any]]] = []
    for source, body in parsed:
        if body is None:
            continue
        # Helm's kube client builds what it applies with the resource builder's Flatten()
        # (pkg/kube/client.go, v3.20.2): a v1 List document becomes its items.
        if body.get("apiVersion") == "v1" and body.get("kind") == "List":
            out += [(source, item) for item in body.get("items") or [] if item]
        else:
            out.append((source, body))
    return out


_RENDERED: dict[str, list[tuple[str, dict[str, Any]]]] = {}


def template(
    release: Release, package: Path, *, kube_version: str, api_versions: Iterable[str] = ()
) -> list[tuple[str, dict[str, Any]]]:
    """``helm template`` of one release: (source, object) pairs; EngineFailedError (with Helm's
    message) when the chart rejects the values or a template fails. Renders are remembered for
    the process by everything Helm reads (package, release, values, versions): the objects are
    shared, treat them as read-only."""
    apis = sorted(api_versions)
    key = json.dumps(
        [
            str(package),
            package.stat().st_mtime_ns,
            release.name,
            release.namespace,
            release.values,
            kube_version,
            apis,
        ],
        sort_keys=True,
    )
    if key not in _RENDERED:
        _RENDERED[key] = _template(release, package, kube_version, apis)
    return _RENDERED[key]


def _template(
    release: Release, package: Path, kube_version: str, api_versions: Sequence[str]
) -> list[tuple[str, dict[str, Any]]]:
    with tempfile.TemporaryDirectory(prefix="substrate-helm-") as tmp:
        values = Path(tmp) / "values.yaml"
        values.write_text(yaml.safe_dump(release.values, sort_keys=True))
        args = [
            "template",
            release.name,
            str(package),
            "--namespace",
            release.namespace,
            "--values",
            str(values),
            "--kube-version",
            kube_version,
            "--include-crds",
            "--skip-tests",
        ]
        for api in api_versions:
            args += ["--api-versions", api]
        done = run("helm", args, cwd=Path(tmp))
    return parse_manifest(done.stdout)


def render(
    plan: Plan, charts: Path, *, kube_version: str | None = None, workers: int | None = None
) -> list[Rendered]:
    """Every release of ``plan`` rendered by Helm (in the plan's release order), concurrently
    where the creation order allows: a release is rendered after the releases it waits for,
    whose CRDs it may see."""
    version = kube_version or kubernetes_version(plan)
    releases = releases_of(plan)
    before = created_before(plan.records)
    by_urn = {r.urn: r for r in releases}
    manifests_by_urn = _manifest_crds(plan)
    order = sorted(releases, key=lambda r: len(before.get(r.urn, ())))
    futures: dict[str, Future[Rendered]] = {}

    def one(release: Release) -> Rendered:
        earlier = before.get(release.urn, frozenset())
        crds = [c for urn in sorted(earlier) for c in manifests_by_urn.get(urn, [])]
        for urn in sorted(earlier):
            if urn in by_urn:
                crds += futures[urn].result().crds()
        apis = tuple(sorted(served_api_versions(crds)))
        start = time.perf_counter()
        pairs = template(
            release, chart_package(charts, release), kube_version=version, api_versions=apis
        )
        return Rendered(
            release=release,
            objects=tuple(o for _, o in pairs),
            sources=tuple(s for s, _ in pairs),
            api_versions=apis,
            kube_version=version,
            seconds=round(time.perf_counter() - start, 3),
        )

    # Parsing megabytes of CRDs allocates millions of containers: keep the cyclic collector from
    # rescanning them while they are built (nothing here makes cycles).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _render_all(order, releases, futures, one, workers)
    finally:
        if collecting:
            gc.enable()


def _render_all(
    order: Sequence[Release],
    releases: Sequence[Release],
    futures: dict[str, Future[Rendered]],
    one: Callable[[Release], Rendered],
    workers: int | None,
) -> list[Rendered]:
    # Submitted in an order where everything a release waits for comes first (a release waits
    # for strictly fewer resources than anything after it), so a worker never blocks on a
    # release still in the queue.
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
        for release in order:
            futures[release.urn] = pool.submit(one, release)
        return [futures[r.urn].result() for r in releases]


def _manifest_crds(plan: Plan) -> dict[str, list[dict[str, Any]]]:
    """URN -> the CRD a plan object is (CRDs the program applies itself)."""
    return {
        r.urn: [r.inputs]
        for r in plan.records
        if r.type == "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
    }
