"""What `substrate check` needs of a stack's plan, built once and cached on disk.

A plan takes seconds (the program under Pulumi's mock engine) and the cluster it builds more
(every Helm release rendered by the helm engine from the pinned chart packages). Neither
changes between two checks of a tenant's manifests, so the result is kept as JSON under
``out/.check/`` keyed by a fingerprint of everything it is made from: the stack file, the
project's code and policy configs, and the chart packages. A changed input is a new key.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from substrate.engines import apiserver, aws_plan, cluster, kueue, kyverno, netpol, rbac, spire
from substrate.engines.charts import fetched_dir
from substrate.plan.command import PlanResult
from substrate.project import Project

CACHE_FORMAT = 4
SUBNET = "aws:ec2/subnet:Subnet"
IAM_TYPES = frozenset(
    {
        aws_plan.ROLE,
        aws_plan.ROLE_POLICY,
        aws_plan.ATTACHMENT,
        aws_plan.MANAGED_POLICY,
        aws_plan.ASSOCIATION,
        aws_plan.ENDPOINT,
        aws_plan.CLUSTER,
        SUBNET,
    }
)
"""Plan records kept: what the IAM evaluator reads, and the subnets the network verdict dials
interface endpoints in."""
SOURCE_DIRS = ("substrate", "policy_packs")
SOURCE_SUFFIXES = frozenset({".py", ".json", ".yaml", ".yml"})


class ChartsMissingError(Exception):
    """The pinned chart packages are not where they were looked for (exit 2)."""


def shared_dir(root: Path) -> Path:
    """The workspace's shared upstream data (chart packages) beside the project; override with
    SUBSTRATE_SHARED_DIR."""
    return Path(os.environ.get("SUBSTRATE_SHARED_DIR", root.parent / "shared"))


def chart_dir(root: Path) -> Path:
    charts = shared_dir(root) / "charts"
    if not charts.is_dir():
        raise ChartsMissingError(
            f"no chart packages at {charts}: set SUBSTRATE_SHARED_DIR to the directory holding "
            "charts/"
        )
    return charts


@dataclass(frozen=True)
class Record:
    """A plan record as the IAM extraction reads it (aws_plan.Record)."""

    type: str
    name: str
    inputs: dict[str, Any]


@dataclass(frozen=True)
class Context:
    """One stack's plan as the engines of `substrate check` see it."""

    stack: str
    state: apiserver.ClusterState
    """What the cluster holds before the tenant creates anything (apiserver engine input)."""
    kueue_config: str
    """Kueue's Configuration YAML as the kueue chart's manager ConfigMap renders it."""
    manifests: Mapping[str, Mapping[str, Any]]
    """The plan's own manifests ("<component>/<kind>-<name>.yaml" -> object)."""
    records: tuple[Record, ...] = field(default=())
    """The plan's IAM records (roles, policies, Pod Identity associations, endpoints)."""
    daemonsets: tuple[Mapping[str, Any], ...] = field(default=())
    """Every DaemonSet the cluster runs (the plan's and its Helm releases'): node overhead."""
    network: tuple[Mapping[str, Any], ...] = field(default=())
    """What the NetworkPolicy analyzer reads of the cluster (namespaces, workloads, policies),
    and the Services that name its workloads."""
    spire: Mapping[str, Any] | None = None
    """SPIRE's controller-manager config and every ClusterSPIFFEID the cluster holds (the
    plan's and its Helm releases'); None when the stack runs no controller manager."""
    rbac: tuple[Mapping[str, Any], ...] = field(default=())
    """Every Role, ClusterRole, RoleBinding and ClusterRoleBinding the cluster holds (the
    plan's and its Helm releases'): what kube-apiserver's RBAC authorizer reads."""

    def objects(self, kind: str) -> list[Mapping[str, Any]]:
        return [m for m in self.manifests.values() if m.get("kind") == kind]

    @property
    def policies(self) -> list[Mapping[str, Any]]:
        return kyverno.policies_of(self.manifests.values())

    @property
    def namespaces(self) -> list[dict[str, Any]]:
        """The plan's namespaces as Kyverno sees them (with the API server's name label)."""
        return kyverno.namespaces_of(self.manifests.values())

    @property
    def kueue_objects(self) -> list[dict[str, Any]]:
        return kueue.cluster_objects(self.manifests)

    def to_json(self) -> dict[str, Any]:
        s = self.state
        return {
            "format": CACHE_FORMAT,
            "stack": self.stack,
            "state": {
                "kubernetesVersion": s.kubernetes_version,
                "namespaces": list(s.namespaces),
                "cluster": list(s.cluster),
                "kueue": s.kueue,
                "kueueFeatureGates": s.kueue_feature_gates,
                "notes": list(s.notes),
            },
            "kueueConfig": self.kueue_config,
            "manifests": dict(self.manifests),
            "records": [{"type": r.type, "name": r.name, "inputs": r.inputs} for r in self.records],
            "daemonsets": list(self.daemonsets),
            "network": list(self.network),
            "spire": self.spire,
            "rbac": list(self.rbac),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Context:
        s = data["state"]
        state = apiserver.ClusterState(
            kubernetes_version=s["kubernetesVersion"],
            namespaces=tuple(s["namespaces"]),
            cluster=tuple(s["cluster"]),
            kueue=s["kueue"],
            kueue_feature_gates=s["kueueFeatureGates"],
            notes=tuple(s["notes"]),
        )
        return cls(
            data["stack"],
            state,
            data["kueueConfig"],
            data["manifests"],
            tuple(Record(r["type"], r["name"], r["inputs"]) for r in data["records"]),
            tuple(data["daemonsets"]),
            tuple(data["network"]),
            data["spire"],
            tuple(data["rbac"]),
        )


def kueue_config_text(objects: Iterable[Mapping[str, Any]]) -> str:
    """The Configuration YAML of the kueue chart's manager ConfigMap among ``objects`` (other
    kubebuilder charts use the same key for their own configuration)."""
    found = [
        text
        for o in objects
        if o.get("kind") == "ConfigMap"
        and isinstance(text := (o.get("data") or {}).get(apiserver.KUEUE_CONFIG_KEY), str)
        and str(yaml.safe_load(text).get("apiVersion", "")).startswith(
            apiserver.KUEUE_CONFIG_GROUP + "/"
        )
    ]
    (text,) = found
    return text


def of_plan(plan: PlanResult, charts: Path) -> Context:
    """Build the context from a plan and the pinned chart packages (renders every release)."""
    objects = cluster.of_plan(plan, charts)
    return Context(
        plan.stack,
        apiserver.state_of(plan, objects),
        kueue_config_text(objects),
        plan.manifests,
        tuple(Record(r.type, r.name, r.inputs) for r in plan.records if r.type in IAM_TYPES),
        tuple(o for o in objects if o.get("kind") == "DaemonSet"),
        tuple(o for o in objects if o.get("kind") in {*netpol.KINDS, "Service"}),
        spire_of(objects),
        tuple(rbac.rbac_objects(objects)),
    )


def spire_of(objects: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The controller manager's config and the ClusterSPIFFEIDs among the cluster's objects."""
    objects = list(objects)
    config = spire.controller_config(objects)
    if config is None:
        return None
    ids = [o for o in objects if o.get("kind") == spire.CLUSTER_SPIFFE_ID]
    return {"config": config.to_json(), "clusterSPIFFEIDs": ids}


def fingerprint(project: Project, stack: str, charts: Path) -> str:
    """A digest of everything the context is made from."""
    digest = hashlib.sha256(f"{CACHE_FORMAT}\n{stack}\n".encode())
    files = [project.stack_file(stack), project.root / "__main__.py", project.root / "Pulumi.yaml"]
    for top in SOURCE_DIRS:
        files += sorted(
            p
            for p in (project.root / top).rglob("*")
            if p.suffix in SOURCE_SUFFIXES and "__pycache__" not in p.parts
        )
    for path in files:
        if path.is_file():
            digest.update(f"{path.relative_to(project.root)}\n".encode())
            digest.update(path.read_bytes())
    for chart in sorted([*charts.glob("*.tgz"), *fetched_dir().glob("*.tgz")]):
        stat = chart.stat()
        digest.update(f"{chart.name} {stat.st_size} {stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:20]


def cache_path(project: Project, stack: str, key: str) -> Path:
    return project.root / "out" / ".check" / f"{stack}-{key}.json"


def load(project: Project, stack: str, *, use_cache: bool = True) -> Context:
    """The stack's context: from the cache when its fingerprint matches, else planned (a
    ConfigError on a bad stack file), rendered and cached."""
    from substrate.plan.command import plan_stack

    charts = chart_dir(project.root)
    key = fingerprint(project, stack, charts)
    path = cache_path(project, stack, key)
    if use_cache and path.is_file():
        return Context.from_json(json.loads(path.read_text()))
    plan = plan_stack(project, stack)
    try:
        context = of_plan(plan, charts)
    except FileNotFoundError as err:  # a chart package neither in charts/ nor build/charts/
        raise ChartsMissingError(str(err)) from err
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(f"{stack}-*.json"):
            stale.unlink()
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(context.to_json(), sort_keys=True))
        tmp.replace(path)
    return context
