"""The plan-time errors docs/workloads.md quotes ("Quota: what Kueue admits and what the plan
refuses") are what the stack file gives for the change the docs describe, and the prod figures
around them are prod's stack file: quoted text and numbers cannot go stale."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.helpers import ROOT, config_error, stack_yaml, typed_config

T, P = "substrate:tenants", "substrate:nodePools"
SECTION = "### Quota: what Kueue admits and what the plan refuses"


def _quoted() -> list[str]:
    """The section's unlabelled code blocks (the quoted errors), each joined into one line."""
    text = (ROOT / "docs/workloads.md").read_text()
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^ *```\n(.*?)^ *```", section, flags=re.M | re.S)
    return [" ".join(line.strip() for line in b.splitlines() if line.strip()) for b in blocks]


def _gpu_overcommit(c: dict[str, Any]) -> None:
    c[T]["inference"]["gpus"]["inference"]["nominal"] = 28
    c[T]["agents"].update({"gpu": True, "gpus": {"inference": {"nominal": 5}}})


def _small_general_pool(c: dict[str, Any]) -> None:
    c[P]["general"]["limits"]["cpu"] = 512


def _seven_pod_gang(c: dict[str, Any]) -> None:
    c[T]["ml-research"]["largestGang"] = {"pods": 7, "cpu": "32", "memory": "256Gi", "gpus": 8}


DOCUMENTED = [_gpu_overcommit, _small_general_pool, _seven_pod_gang]
"""The changes the section describes, in the order it quotes their errors (on prod)."""


@pytest.mark.parametrize(
    ("index", "mutate"), list(enumerate(DOCUMENTED)), ids=[m.__name__ for m in DOCUMENTED]
)
def test_quoted_error_is_the_stack_files(index: int, mutate: Any) -> None:
    quoted = _quoted()
    assert len(quoted) == len(DOCUMENTED)
    assert quoted[index] == config_error("prod", mutate)


def test_prods_general_pool_figures() -> None:
    """ "Prod's general pool is sized to ... (limits ...)": the tenants' and the simulation
    queue's nominal CPU and memory, and the pool's limits, as prod's stack file has them."""
    text = (ROOT / "docs/workloads.md").read_text()
    raw = stack_yaml("prod")
    cfg = typed_config(raw)
    tenants = [t.spec(n) for n, t in cfg.tenants.items()]
    cpu = sum(t.cpu.nominal for t in tenants)
    memory = sum(t.memory.nominal for t in tenants) // 2**30
    sim = raw["substrate:agentSimulation"]["quota"]
    limits = raw[P]["general"]["limits"]
    stated = (
        f"Prod's general pool is sized to the tenants' {cpu} CPUs and {memory}Gi and the agent "
        f"simulation queue's {sim['cpu']} and {sim['memory']} (limits {limits['cpu']} and "
        f"{limits['memory']})"
    )
    assert stated in " ".join(text.split())
