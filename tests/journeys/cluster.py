"""What the journeys need from a stack's plan to ask the engines about it: the objects the
cluster will hold, the stack's admission policies, who submits what, and the docs' own
examples (so a documented example is exactly what the engines judge)."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

import yaml

from substrate.check import chain, context
from substrate.check.chain import controller, tenant_engineer
from substrate.config import PlatformConfig
from substrate.engines import apiserver, kueue, kyverno
from substrate.plan.command import PlanResult
from tests.conftest import planned
from tests.helpers import (
    ROOT,
    chart_dir,
    require_engine,
    require_shared,
    stack_yaml,
    typed_config,
)

Object = dict[str, Any]
__all__ = [
    "Object",
    "Stack",
    "controller",
    "denied",
    "judged_by",
    "stack",
    "tenant_engineer",
]


@dataclass(frozen=True)
class Stack:
    """One stack's plan, as the engines see it."""

    name: str
    plan: PlanResult
    config: PlatformConfig

    @property
    def registry(self) -> str:
        """The registry the stack's tenants push their images to (its first allowed one)."""
        return self.config.admission.allowed_registries[0]

    def objects(self, kind: str, namespace: str | None = None) -> list[Object]:
        return [
            m
            for m in self.plan.manifests.values()
            if m["kind"] == kind
            and (namespace is None or m["metadata"].get("namespace") == namespace)
        ]

    def one(self, kind: str, name: str) -> Object:
        (found,) = [o for o in self.objects(kind) if o["metadata"]["name"] == name]
        return found

    @property
    def namespaces(self) -> list[Object]:
        return kyverno.namespaces_of(self.plan.manifests.values())

    @cached_property
    def context(self) -> context.Context:
        """The plan as `substrate check` sees it (substrate.check.context)."""
        charts = require_shared(chart_dir(), "upstream chart packages", "SUBSTRATE_SHARED_DIR")
        return context.of_plan(self.plan, charts)

    @property
    def state(self) -> apiserver.ClusterState:
        """What the cluster holds before tenants create anything (plan + rendered charts)."""
        return self.context.state

    def create(
        self, objects: Sequence[Mapping[str, Any]], user: Mapping[str, Any]
    ) -> apiserver.ApiServerRun:
        """The API server's CREATE of ``objects`` by ``user`` and of everything the controllers
        create from them (Kubernetes' and Kueue's own code: the apiserver engine)."""
        require_engine("apiserver")
        return chain.create(self.context, objects, user)

    def queue(self, steps: Sequence[kueue.Step]) -> list[kueue.StepResult]:
        """Kueue's verdicts on ``steps`` against this stack's idle queues (the kueue engine)."""
        require_engine("kueue")
        return chain.queue(self.context, steps)

    def admit(
        self,
        objects: Sequence[Mapping[str, Any]],
        user: Mapping[str, Any] | None,
        *,
        cluster: Sequence[Mapping[str, Any]] = (),
        operation: kyverno.Operation = "CREATE",
    ) -> list[kyverno.Verdict]:
        """Kyverno's verdicts for ``objects`` under this stack's policies."""
        require_engine(kyverno.SERVER)
        return chain.admit(self.context, objects, user, cluster=cluster, operation=operation)


@cache
def stack(name: str) -> Stack:
    return Stack(name, planned(name), typed_config(stack_yaml(name)))


def denied(verdicts: Sequence[kyverno.Verdict], name: str) -> dict[str, str]:
    """policy -> message for every policy that refuses the object ``name``."""
    return {v.policy: v.message for v in verdicts if v.name == name and v.denies}


def judged_by(verdicts: Sequence[kyverno.Verdict], name: str) -> set[str]:
    """The policies that evaluated the object ``name`` (pass or not)."""
    return {v.policy for v in verdicts if v.name == name and v.result != "skip"}


def docs_yaml(doc: str, heading: str) -> list[Object]:
    """The YAML blocks of section ``heading`` of ``docs/<doc>``, parsed."""
    text = (ROOT / "docs" / doc).read_text()
    match = re.search(rf"^(#+) {re.escape(heading)}\n(.*?)(?=^#{{1,3}} |\Z)", text, re.M | re.S)
    assert match, f"docs/{doc} has no section {heading!r}"
    blocks = re.findall(r"```yaml\n(.*?)```", match.group(2), flags=re.S)
    return [doc for block in blocks for doc in yaml.safe_load_all(block) if doc]


def rehome(obj: Mapping[str, Any], registry: str) -> Object:
    """``obj`` with every container image's registry replaced by ``registry``."""
    out = copy.deepcopy(dict(obj))

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "image" and isinstance(value, str) and "/" in value:
                    node[key] = f"{registry}/{value.split('/', 1)[1]}"
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(out)
    return out


def in_namespace(obj: Mapping[str, Any], namespace: str, name: str | None = None) -> Object:
    out = copy.deepcopy(dict(obj))
    out["metadata"]["namespace"] = namespace
    if name is not None:
        out["metadata"]["name"] = name
    return out
