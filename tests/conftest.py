from __future__ import annotations

import gc
from pathlib import Path

import pytest

from substrate.plan.command import PlanResult, plan_stack
from substrate.project import find_project
from tests.helpers import ROOT, STACKS, Resources, chart_dir, crd_dir, require_shared

_PLANS: dict[str, PlanResult] = {}


def planned(stack: str) -> PlanResult:
    """`substrate plan <stack>` in-process, once per test session."""
    if stack not in _PLANS:
        _PLANS[stack] = plan_stack(find_project(ROOT), stack)
        # Plans live for the whole session: move them (and the SDK objects behind them) out
        # of the collector's reach so later collections do not rescan them.
        gc.collect()
        gc.freeze()
    return _PLANS[stack]


@pytest.fixture(scope="session", params=STACKS)
def any_plan(request: pytest.FixtureRequest) -> PlanResult:
    return planned(request.param)


@pytest.fixture(scope="session")
def prod_plan() -> PlanResult:
    return planned("prod")


@pytest.fixture(scope="session")
def dev_plan() -> PlanResult:
    return planned("dev")


@pytest.fixture(scope="session")
def prod(prod_plan: PlanResult) -> Resources:
    return Resources(prod_plan.records)


@pytest.fixture(scope="session")
def dev(dev_plan: PlanResult) -> Resources:
    return Resources(dev_plan.records)


@pytest.fixture(scope="session")
def crds() -> Path:
    return require_shared(crd_dir(), "upstream CRD schemas", "SUBSTRATE_CRD_DIR")


@pytest.fixture(scope="session")
def charts() -> Path:
    return require_shared(chart_dir(), "upstream chart packages", "SUBSTRATE_SHARED_DIR")
