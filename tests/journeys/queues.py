"""What the queue journeys need from a stack: its plan's Kueue objects, the Configuration the
`kueue` Helm release really renders (the pinned chart's manager ConfigMap, rendered by the helm
engine), its tenants, and one call that lets Kueue's own code (the kueue engine) play scenarios
on it. Every journey reads its numbers from the stack, never from this file."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from substrate.components.core.versions import CHARTS
from substrate.components.workloads.tenancy import TenantSpec, ceiling
from substrate.config import PlatformConfig, load_config, stack_file_config
from substrate.engines.kueue import Step, StepResult, cluster_objects, configuration, run_one
from substrate.plan import pack_config
from substrate.plan.command import PlanResult, program_of
from substrate.plan.manifests import helm_releases, render_manifests
from substrate.plan.policy import effective_policies, evaluate, load_pack_config
from substrate.plan.runner import run_under_mocks
from substrate.project import find_project
from tests.conftest import planned
from tests.helpers import (
    ROOT,
    chart_dir,
    require_engine,
    require_shared,
    stack_yaml,
    typed_config,
)

GPU = "nvidia.com/gpu"
GPU_TOLERATION = {"key": GPU, "operator": "Equal", "value": "true", "effect": "NoSchedule"}


def kueue_chart() -> Path:
    """The pinned kueue chart package (../shared/charts)."""
    require_engine("helm")
    charts = require_shared(chart_dir(), "upstream chart packages", "SUBSTRATE_SHARED_DIR")
    return charts / f"kueue-{CHARTS['kueue'].version}.tgz"


@dataclass(frozen=True)
class QueueStack:
    """One stack as Kueue sees it."""

    name: str
    plan: PlanResult
    config: PlatformConfig
    kueue_config: str
    """The Configuration YAML of the chart's manager ConfigMap, rendered with the plan's
    values: what the Kueue controller reads."""

    @property
    def objects(self) -> list[dict[str, Any]]:
        return copy.deepcopy(cluster_objects(self.plan.manifests))

    @property
    def tenants(self) -> dict[str, TenantSpec]:
        return {n: t.spec(n) for n, t in self.config.tenants.items()}

    def tenant(self, name: str) -> TenantSpec:
        return self.tenants[name]

    def manifests(self, kind: str, namespace: str) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(dict(m))
            for m in self.plan.manifests.values()
            if m["kind"] == kind and m["metadata"].get("namespace") == namespace
        ]

    def with_plan(self, plan: PlanResult, config: PlatformConfig) -> QueueStack:
        """The same stack planned from another stack file (e.g. with a tenant added)."""
        return QueueStack(self.name, plan, config, configuration(plan.releases, kueue_chart()))

    def with_config(self, kueue_config: str) -> QueueStack:
        """The same objects under another Kueue Configuration."""
        return replace(self, kueue_config=kueue_config)

    def flavor_labels(self, flavor: str) -> dict[str, str]:
        """The planned ResourceFlavor's node labels (what Kueue writes into admitted pods)."""
        (found,) = [
            o
            for o in self.objects
            if o["kind"] == "ResourceFlavor" and o["metadata"]["name"] == flavor
        ]
        return dict(found["spec"]["nodeLabels"])

    def unit(self, pool: str) -> str:
        """The GPU resource the planned NodePool limits (`nvidia.com/gpu`, or
        `nvidia.com/gpu.shared` on a time-sliced pool): the unit of its flavor's quota."""
        (found,) = [
            r
            for m in self.plan.manifests.values()
            if m["kind"] == "NodePool" and m["metadata"]["name"] == pool
            for r in m["spec"]["limits"]
            if r.startswith(GPU)
        ]
        return str(found)

    def pool_limit(self, pool: str) -> int:
        """The planned NodePool's limit of its GPU unit (slices on a time-sliced pool)."""
        (found,) = [
            m["spec"]["limits"][self.unit(pool)]
            for m in self.plan.manifests.values()
            if m["kind"] == "NodePool" and m["metadata"]["name"] == pool
        ]
        return int(found)

    def play(
        self, steps: Sequence[Step], extra_objects: Sequence[Mapping[str, Any]] = ()
    ) -> list[StepResult]:
        """Kueue's state after each step, from an idle cluster with the stack's objects."""
        require_engine("kueue")
        return run_one(self.kueue_config, [*self.objects, *extra_objects], steps)

    def gpu_ceiling(self, tenant: str, pool: str) -> int:
        """Most GPUs of `pool` the tenant can hold (substrate.components.workloads.tenancy.ceiling:
        the arithmetic
        the plan-time checks use, which the journeys hold against Kueue's verdicts)."""
        own = self.tenant(tenant).gpu_share(pool)
        assert own is not None, f"{tenant} holds no share of {pool}"
        others = [
            s
            for t in self.tenants.values()
            if t.name != tenant and (s := t.gpu_share(pool)) is not None
        ]
        return ceiling(own, others)

    def cpu_ceiling(self, tenant: str) -> int:
        return ceiling(self.tenant(tenant).cpu, [t.cpu for t in self._others(tenant)])

    def memory_ceiling(self, tenant: str) -> int:
        return ceiling(self.tenant(tenant).memory, [t.memory for t in self._others(tenant)])

    def _others(self, tenant: str) -> list[TenantSpec]:
        return [t for t in self.tenants.values() if t.name != tenant]


@cache
def queue_stack(name: str) -> QueueStack:
    plan = planned(name)
    return QueueStack(
        name, plan, typed_config(stack_yaml(name)), configuration(plan.releases, kueue_chart())
    )


def plan_with(stack: str, raw: Mapping[str, Any]) -> PlanResult:
    """`substrate plan` of the project with `raw` as the stack file's config block (no file
    written): the typed config first, then the program under the mock engine, judged by the
    stack's tier policy config."""
    from substrate.policies import POLICIES

    project = find_project(ROOT)
    config = stack_file_config(raw)
    typed = load_config(config, stack=stack, stacks=project.stacks())
    pack = pack_config.resolve(project, stack, typed)
    assert pack.path is not None
    policies = effective_policies(POLICIES, load_pack_config(pack.path), source=str(pack.path))
    records = run_under_mocks(
        program_of(project),
        project=project.name,
        stack=stack,
        config=config,
        region=typed.region,
        caller=typed.deploy.role,  # as substrate plan runs it (the deployer check needs an admin)
    )
    return PlanResult(
        project.name,
        stack,
        records,
        evaluate(records, policies),
        render_manifests(records),
        helm_releases(records),
    )


_PLAYED: dict[tuple[str, str], list[StepResult]] = {}


def played(
    stack: str, scenario: str, steps: Callable[[QueueStack], Sequence[Step]]
) -> list[StepResult]:
    """One engine run per (stack, scenario) per session, shared by the journeys that read it."""
    key = (stack, scenario)
    if key not in _PLAYED:
        s = queue_stack(stack)
        _PLAYED[key] = s.play(steps(s))
    return _PLAYED[key]
