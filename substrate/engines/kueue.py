"""Queue questions answered by Kueue's own code (the `kueue` engine, tools/engines/kueue).

`run(plan, scenarios)` hands the engine, once per scenario, the stack's planned cluster objects
(namespaces, LimitRanges, ResourceFlavors, Cohorts, ClusterQueues, LocalQueues,
WorkloadPriorityClasses), the Kueue Configuration the plan's `kueue` Helm release renders, and the
caller's ordered steps (submit jobs, scale, finish, delete). It returns, per step, Kueue's verdict
on every Workload (admitted or pending with Kueue's own message, ClusterQueue, flavor per pod set
and resource), each ClusterQueue's usage and borrowing, the objects as Kueue left them (node
selectors and tolerations it injected, scheduling gates) and Kueue's events. Nothing here decides
anything: it only carries objects in and verdicts out.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from substrate import engines
from substrate.engines.kueue_results import StepResult, parse_steps

KUEUE_GROUP = "kueue.x-k8s.io/"
CLUSTER_KINDS = frozenset({"Namespace", "LimitRange"})
KUEUE_KINDS = frozenset(
    {"ResourceFlavor", "Cohort", "ClusterQueue", "LocalQueue", "WorkloadPriorityClass"}
)
CONFIG_KEY = "controller_manager_config.yaml"

__all__ = ["Ref", "Step", "StepResult", "cluster_objects", "configuration", "run", "run_one"]


@dataclass(frozen=True)
class Ref:
    """An object a step acts on."""

    kind: str
    namespace: str
    name: str
    replicas: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "namespace": self.namespace, "name": self.name}
        if self.replicas is not None:
            out["replicas"] = self.replicas
        return out


@dataclass(frozen=True)
class Step:
    """One thing users or controllers do; Kueue settles after each step."""

    name: str
    submit: Sequence[Mapping[str, Any]] = ()
    """Jobs, JobSets, LeaderWorkerSets, RayJobs, Deployments, StatefulSets or Pods, in order."""
    scale: Sequence[Ref] = ()
    """Deployments or StatefulSets to scale to `replicas` (as KEDA would)."""
    finish: Sequence[Ref] = ()
    """Jobs, JobSets or Pods that complete."""
    delete: Sequence[Ref] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "submit": [dict(o) for o in self.submit],
            "scale": [r.to_json() for r in self.scale],
            "finish": [r.to_json() for r in self.finish],
            "delete": [r.to_json() for r in self.delete],
        }


def cluster_objects(manifests: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The planned objects Kueue reads: namespaces (their labels pick ClusterQueues and managed
    namespaces), LimitRanges (defaults Kueue counts) and every Kueue object."""
    out = []
    for key in sorted(manifests):
        manifest = manifests[key]
        kind, api = manifest.get("kind"), str(manifest.get("apiVersion", ""))
        if kind in CLUSTER_KINDS or (kind in KUEUE_KINDS and api.startswith(KUEUE_GROUP)):
            out.append(dict(manifest))
    return out


def kueue_release(releases: Iterable[Mapping[str, Any]]) -> Mapping[str, Any]:
    (release,) = [r for r in releases if str(r["chart"]).rsplit("/", 1)[-1] == "kueue"]
    return release


def configuration(releases: Iterable[Mapping[str, Any]], chart: Path | None = None) -> str:
    """The Configuration the kueue release's manager reads: rendered from the chart package with
    the helm engine when `chart` (the pinned .tgz) is given, else the values' embedded YAML (what
    the chart's manager-config template parses; it only adds `internalCertManagement`)."""
    release = kueue_release(releases)
    values = release["values"]
    if chart is None:
        return str(values["managerConfig"]["controllerManagerConfigYaml"])
    with tempfile.TemporaryDirectory() as tmp:
        values_file = Path(tmp) / "values.yaml"
        values_file.write_text(json.dumps(values))
        rendered = engines.run(
            "helm",
            [
                "template",
                str(release["name"]),
                str(chart),
                "--namespace",
                str(release["namespace"]),
                "-f",
                str(values_file),
                "--show-only",
                "templates/manager/manager-config.yaml",
            ],
        ).stdout
    (config_map,) = [d for d in yaml.safe_load_all(rendered) if d]
    return str(config_map["data"][CONFIG_KEY])


def engine_input(
    config: str, objects: Sequence[Mapping[str, Any]], steps: Sequence[Step]
) -> dict[str, Any]:
    return {
        "configuration": config,
        "objects": [dict(o) for o in objects],
        "steps": [s.to_json() for s in steps],
    }


def run_one(
    config: str, objects: Sequence[Mapping[str, Any]], steps: Sequence[Step]
) -> list[StepResult]:
    """One engine process: the cluster's objects, then each step; Kueue's state after each."""
    done = engines.run("kueue", ["-"], stdin=json.dumps(engine_input(config, objects, steps)))
    return parse_steps(json.loads(done.stdout)["steps"])


def run(
    manifests: Mapping[str, Mapping[str, Any]],
    releases: Iterable[Mapping[str, Any]],
    scenarios: Mapping[str, Sequence[Step]],
    *,
    chart: Path | None = None,
    extra_objects: Sequence[Mapping[str, Any]] = (),
) -> dict[str, list[StepResult]]:
    """Run every scenario against the plan's Kueue objects and configuration, one engine process
    per scenario (two at a time). `extra_objects` join the plan's (e.g. a namespace nobody
    planned)."""
    config = configuration(releases, chart)
    objects = [*cluster_objects(manifests), *extra_objects]
    names = list(scenarios)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = pool.map(lambda n: run_one(config, objects, scenarios[n]), names)
        return dict(zip(names, results, strict=True))
