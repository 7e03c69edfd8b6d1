"""substrate:agentSimulation: exact one-line errors for what the simulation namespace needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import config_error

Mutation = Callable[[dict[str, Any]], object]
SIM = "substrate:agentSimulation"


def _sim(**values: Any) -> Mutation:
    return lambda c: c[SIM].update(values)


CASES: list[tuple[str, str, Mutation, str]] = [
    (
        "a tenant that does not exist",
        "prod",
        _sim(tenant="agentz"),
        'substrate:agentSimulation.tenant = "agentz": is not a tenant (allowed: agents, '
        "data-eng, inference, ml-research)",
    ),
    (
        "a tenant without agents",
        "prod",
        _sim(tenant="data-eng"),
        'substrate:agentSimulation.tenant = "data-eng": runs no agent to simulate (allowed: '
        "agents)",
    ),
    (
        "a production tenant's namespace",
        "staging",
        _sim(namespace="agents"),
        'substrate:agentSimulation.namespace = "agents": is a tenant or a tenant\'s namespace '
        "(production agents and their callers trust those) (allowed: a namespace of its own)",
    ),
    (
        "a run longer than a day",
        "prod",
        _sim(maxRunSeconds=90000),
        "substrate:agentSimulation.maxRunSeconds = 90000: is out of range (allowed: 60 to 86400)",
    ),
]


@pytest.mark.parametrize(
    ("stack", "mutate", "message"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_invalid_simulation_gives_exact_one_line_error(
    stack: str, mutate: Mutation, message: str
) -> None:
    assert config_error(stack, mutate) == message
