"""The timelines the scale-down and rollout journeys read: each stack's agents, their drain
contract (stack data) and what the hpa engine's controllers do to them, one engine run per
agent and scenario, cached for the session."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cache
from typing import Any

from substrate.config.agents import AgentConfig
from substrate.engines import hpa
from tests.conftest import planned
from tests.helpers import STACKS, require_engine, stack_yaml, typed_config

LOAD = 1_000_000.0
"""A metric value far above every trigger's target: the HPA asks for maxReplicas."""
DROP_AT = 300
START_SECONDS = 30
SYNC_SECONDS = 15


def _agents(stack: str) -> dict[str, Any]:
    """The StatefulSet agents of a staging or production stack (development's run one replica
    or scale to zero, which is KEDA's own step, not the HPA's; a task agent's Jobs have no
    HPA)."""
    if typed_config(stack_yaml(stack)).environment.tier == "development":
        return {}
    agents = stack_yaml(stack).get("substrate:agents", {})
    return {n: a for n, a in agents.items() if a.get("mode", "service") == "service"}


SCALED = [(s, a) for s in STACKS for a, cfg in _agents(s).items() if "scaling" in cfg]
"""Agents KEDA scales in staging and production."""
DEPLOYED = [(s, a) for s in STACKS for a in _agents(s)]


@dataclass(frozen=True)
class Agent:
    stack: str
    name: str
    config: AgentConfig
    stateful_set: dict[str, Any]
    scaled_object: dict[str, Any] | None

    @property
    def triggers(self) -> int:
        return len(self.scaled_object["spec"]["triggers"]) if self.scaled_object else 0

    @property
    def hpa_min(self) -> int:
        """The HPA's minReplicas (KEDA: minReplicaCount when above 0, else 1)."""
        return max(self.config.min_replicas, 1)


@cache
def agent(stack: str, name: str) -> Agent:
    manifests = planned(stack).manifests
    config = typed_config(stack_yaml(stack)).agents[name]
    return Agent(
        stack,
        name,
        config,
        manifests[f"agent-{name}/statefulset-{name}.yaml"],
        manifests.get(f"agent-{name}-scaling/scaledobject-{name}.yaml"),
    )


def drained_by(a: Agent) -> int:
    """When the scale-down from maxReplicas is over, by the contract's own numbers."""
    steps = a.config.max_replicas - a.hpa_min
    return (
        DROP_AT + a.config.scale_down_window + steps * (a.config.scale_down_period + SYNC_SECONDS)
    )


@cache
def scale_down_and_up(stack: str, name: str) -> hpa.Timeline:
    """Load at maxReplicas, dropped to nothing at DROP_AT; back when the scale-down is over."""
    require_engine("hpa")
    a = agent(stack, name)
    back = drained_by(a) + a.config.scale_down_period
    return hpa.simulate(
        a.stateful_set,
        a.scaled_object,
        replicas=a.hpa_min,
        metrics=[
            (0, [LOAD] * a.triggers),
            (DROP_AT, [0.0] * a.triggers),
            (back, [LOAD] * a.triggers),
        ],
        duration_seconds=back + 120,
        start_seconds=START_SECONDS,
        sync_seconds=SYNC_SECONDS,
    )


def new_release(stateful_set: dict[str, Any]) -> dict[str, Any]:
    """The same StatefulSet with the agent's image at a new tag (what `pulumi up` applies)."""
    changed = copy.deepcopy(stateful_set)
    container = changed["spec"]["template"]["spec"]["containers"][0]
    container["image"] = container["image"].split("@")[0] + "-next"
    return changed


ROLLOUT_AT = 120


@cache
def rollout(stack: str, name: str) -> hpa.Timeline:
    """A new image while the agent runs at a steady count (at least two replicas)."""
    require_engine("hpa")
    a = agent(stack, name)
    replicas = max(a.hpa_min, 2) if a.scaled_object else a.config.replicas or 1
    per = a.config.termination_grace_seconds + START_SECONDS + 2 * SYNC_SECONDS
    steady: list[tuple[int, list[float]]] = []
    if a.scaled_object:
        # Exactly the load of `replicas` pods for every trigger: the HPA keeps the count. The
        # targets are the HPA's (the scale-down run's, cached).
        hpa_object = scale_down_and_up(stack, name).hpa
        assert hpa_object is not None
        targets = [
            float(m["external"]["target"]["averageValue"]) for m in hpa_object["spec"]["metrics"]
        ]
        steady = [(0, [t * replicas for t in targets])]
    return hpa.simulate(
        a.stateful_set,
        a.scaled_object,
        replicas=replicas,
        metrics=steady,
        rollout=(ROLLOUT_AT, new_release(a.stateful_set)),
        duration_seconds=ROLLOUT_AT + replicas * per + 60,
        start_seconds=START_SECONDS,
        sync_seconds=SYNC_SECONDS,
    )
