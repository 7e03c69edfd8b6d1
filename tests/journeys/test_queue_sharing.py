"""Sharing journeys on every stack: fair sharing between two tenants that borrow the same idle
CPU, and priority preemption inside one tenant's queue. Kueue v0.19.2's own scheduler decides;
sizes come from each stack's tenants."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from substrate.engines.kueue import Step
from tests.helpers import STACKS
from tests.journeys import queue_objects as q
from tests.journeys.journey import journey
from tests.journeys.queues import GPU, QueueStack, played, queue_stack

CONTENTION = "docs/workloads.md#contention-who-waits-who-borrows-who-is-preempted"
PRIORITY = "docs/workloads.md#priority-tiers"
RESEARCH, DATA, LENDER, BUSY = "ml-research", "data-eng", "agents", "inference"
MEMORY = "1Gi"
DOCUMENTED_SPLIT = {"prod": (40, 24)}
"""ml-research's and data-eng's borrowed CPUs after fair sharing, as the docs quote them."""


def chunk(s: QueueStack) -> int:
    """Borrowing jobs are an eighth of what the lender leaves idle."""
    return max(1, s.tenant(LENDER).cpu.lendable // 8)


def _cpu_jobs(s: QueueStack, prefix: str, tenant: str, total: int) -> list[dict[str, object]]:
    size = chunk(s)
    return [
        q.job(f"{prefix}-{i}", tenant, {"cpu": str(size), "memory": MEMORY}, queue=tenant)
        for i in range(math.ceil(total / size))
    ]


def _nominal(tenant: str, cpus: int) -> dict[str, object]:
    return q.job(f"{tenant}-nominal", tenant, {"cpu": str(cpus), "memory": MEMORY}, queue=tenant)


def _fair(s: QueueStack) -> list[Step]:
    """Only the agents' CPU is idle (inference uses its nominal, the agents tenant nothing);
    data-eng borrows it all, then ml-research runs its nominal and wants to borrow too."""
    research, data = s.tenant(RESEARCH), s.tenant(DATA)
    idle = s.tenant(LENDER).cpu.lendable
    wants = research.cpu.borrowing_limit if research.cpu.borrowing_limit is not None else idle
    return [
        Step("inference uses its nominal CPU", submit=[_nominal(BUSY, s.tenant(BUSY).cpu.nominal)]),
        Step(
            "data-eng runs its nominal and borrows the idle CPU",
            submit=[_nominal(DATA, data.cpu.nominal), *_cpu_jobs(s, "de", DATA, idle)],
        ),
        Step("ml-research runs its nominal", submit=[_nominal(RESEARCH, research.cpu.nominal)]),
        Step("ml-research borrows too", submit=_cpu_jobs(s, "ml", RESEARCH, wants)),
    ]


@journey(
    user="engineers of ml-research and data-eng, both borrowing CPU",
    stack="dev, staging, prod",
    steps=[
        "inference uses its nominal CPU; the agents tenant's CPU is idle",
        "data-eng runs its nominal and borrows all the idle CPU in small jobs",
        "ml-research runs its nominal, then asks to borrow as much as its limit allows",
    ],
    outcome="Kueue preempts data-eng's borrowing jobs (InCohortFairSharing) until the two "
    "borrowers' weighted shares are as even as whole jobs allow: the idle CPU is split by "
    "fairShareWeight (prod, weights 2 and 1: 40 and 24 of 64 CPUs; staging and dev, equal "
    "weights: half each); nothing else is preempted",
    docs=[CONTENTION],
)
@pytest.mark.parametrize("name", STACKS)
def test_two_borrowers_share_by_weight(name: str) -> None:
    s = queue_stack(name)
    steps = played(name, "fair", _fair)
    before, after = steps[1], steps[3]
    idle = s.tenant(LENDER).cpu.lendable
    assert before.cluster_queues[DATA].borrowed("default", "cpu") == str(idle)
    borrowed = {
        t: Decimal(after.cluster_queues[t].borrowed("default", "cpu")) for t in (RESEARCH, DATA)
    }
    assert sum(borrowed.values()) == idle and all(borrowed.values())
    weighted = {t: borrowed[t] / Decimal(s.tenant(t).fair_share_weight) for t in borrowed}
    assert abs(weighted[RESEARCH] - weighted[DATA]) <= chunk(s)
    if name in DOCUMENTED_SPLIT:  # the example docs/workloads.md quotes
        assert (borrowed[RESEARCH], borrowed[DATA]) == DOCUMENTED_SPLIT[name]
    preempted = [w for w in after.workloads if w.preempted]
    assert preempted and {w.namespace for w in preempted} == {DATA}
    assert {c.reason for w in preempted if (c := w.condition("Preempted"))} == {
        "InCohortFairSharing"
    }
    assert after.workload_of("Job", f"{DATA}-nominal").admitted


def _priority(s: QueueStack) -> list[Step]:
    """ml-research fills its training nominal with preemptible jobs (4 of them), then submits
    a training-priority job of half of it; all pinned to the training pool."""
    share = s.tenant(RESEARCH).gpu_share("training")
    assert share is not None and share.nominal % 4 == 0
    quarter = share.nominal // 4
    low = [
        q.job(
            f"sweep-{i}",
            RESEARCH,
            {"cpu": "1", "memory": MEMORY, GPU: str(quarter)},
            queue=RESEARCH,
            priority="preemptible",
            pool="training",
        )
        for i in range(4)
    ]
    high = q.job(
        "finetune",
        RESEARCH,
        {"cpu": "1", "memory": MEMORY, GPU: str(2 * quarter)},
        queue=RESEARCH,
        priority="training",
        pool="training",
    )
    return [
        Step("preemptible sweeps fill training", submit=low),
        Step("a training job", submit=[high]),
    ]


@journey(
    user="ML engineer of tenant ml-research",
    stack="dev, staging, prod",
    steps=[
        "fill ml-research's nominal training GPUs with four `preemptible` jobs",
        "submit a `training` job for half of them",
    ],
    outcome="Kueue preempts exactly two of the preemptible jobs inside the queue "
    "(InClusterQueue; they are suspended and requeued), admits the training job on the training "
    "flavor, and keeps the other two running",
    docs=[PRIORITY],
)
@pytest.mark.parametrize("name", STACKS)
def test_a_higher_class_preempts_inside_the_queue(name: str) -> None:
    steps = played(name, "priority", _priority)
    assert all(w.admitted for w in steps[0].workloads if w.owner.startswith("Job/sweep-"))
    step = steps[1]
    high = step.workload_of("Job", "finetune")
    assert high.admitted and high.flavors()["main"][GPU] == "training"
    sweeps = {w.owner: w for w in step.workloads if w.owner.startswith("Job/sweep-")}
    preempted = [o for o, w in sweeps.items() if w.preempted]
    assert len(preempted) == 2
    assert {
        c.reason for w in sweeps.values() if (c := w.condition("Preempted")) and c.status == "True"
    } == {"InClusterQueue"}
    assert all(not sweeps[o].admitted for o in preempted)
    assert all(w.admitted for o, w in sweeps.items() if o not in preempted)
    assert all(step.object("Job", o[len("Job/") :])["spec"]["suspend"] for o in preempted)
