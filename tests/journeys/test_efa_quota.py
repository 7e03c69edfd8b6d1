"""Journeys: EFA jobs through Kueue (its own scheduler, the kueue engine) on the stacks with an
EFA training pool. A tenant's `vpc.amazonaws.com/efa` quota on that pool's flavor is sized from
its GPU share and the pool's instance types (Karpenter's generated instance data); every other
flavor holds none. The numbers come from the stack's plan and that data, never from here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from substrate.engines.karpenter.instance_types import efa_nodes
from substrate.engines.kueue import Step, StepResult, run
from tests.helpers import STACKS
from tests.journeys import queue_objects as q
from tests.journeys.cluster import stack
from tests.journeys.journey import journey
from tests.journeys.queues import queue_stack

DOC = "docs/capacity.md#multi-node-training-placement-group-and-efa"
GPU, EFA = "nvidia.com/gpu", "vpc.amazonaws.com/efa"
TRAINER, POOL, OUTSIDER = "ml-research", "training", "inference"
"""The training tenant, its EFA pool, and a GPU tenant with no share of that pool."""
EFA_STACKS = STACKS


def _families(stack_name: str) -> list[str]:
    (req,) = [
        r
        for r in stack(stack_name).one("NodePool", POOL)["spec"]["template"]["spec"]["requirements"]
        if r["key"] == "karpenter.k8s.aws/instance-family"
    ]
    return list(req["values"])


def _largest(stack_name: str) -> tuple[int, int]:
    """(GPUs, EFA interfaces) per node of the pool's largest EFA instance type the trainer's
    nominal GPU quota fills at least once (dev: 4 GPUs, so a 4-GPU g5, not the 8-GPU one)."""
    return max(n for n in efa_nodes(_families(stack_name)) if n[0] <= _nominal(stack_name))


def _nominal(stack_name: str) -> int:
    tenants = stack(stack_name).config.tenants
    share = {g.pool: g.share for g in tenants[TRAINER].spec(TRAINER).gpus}[POOL]
    return share.nominal


def _workers(stack_name: str) -> int:
    """Whole nodes of the largest type the trainer's nominal GPU quota fills."""
    return _nominal(stack_name) // _largest(stack_name)[0]


def _requests(gpus: int, interfaces: int, unit: str = GPU) -> dict[str, str]:
    return {"cpu": "8", "memory": "64Gi", unit: str(gpus), EFA: str(interfaces)}


def _outsider_unit(stack_name: str) -> str:
    """The GPU unit of the outsider's pool (dev's inference pool is time-sliced)."""
    return queue_stack(stack_name).unit(OUTSIDER)


def _scenario(stack_name: str) -> list[Step]:
    gpus, interfaces = _largest(stack_name)
    return [
        Step(
            "the trainer's all-reduce JobSet: one worker per node, every GPU and EFA interface",
            submit=[
                q.jobset(
                    "allreduce",
                    TRAINER,
                    {"workers": (_workers(stack_name), _requests(gpus, interfaces))},
                    queue=TRAINER,
                )
            ],
        ),
        Step(
            "a GPU tenant without a training share asks for one GPU and one EFA interface",
            submit=[
                q.job(
                    "efa-probe",
                    OUTSIDER,
                    _requests(1, 1, _outsider_unit(stack_name)),
                    queue=OUTSIDER,
                )
            ],
        ),
    ]


@pytest.fixture(scope="module")
def efa_queues() -> dict[str, list[StepResult]]:
    out: dict[str, list[StepResult]] = {}
    for name in EFA_STACKS:
        plan = stack(name).plan
        out[name] = run(plan.manifests, plan.releases, {"efa": _scenario(name)})["efa"]
    return out


def _flavors(wl_flavors: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    (only,) = wl_flavors.values()
    return dict(only)


@journey(
    user="ML engineer of tenant ml-research (a GPU share of the EFA training pool)",
    stack="dev, staging, prod",
    steps=[
        "submit a JobSet to LocalQueue ml-research with one worker per node of the training "
        "pool's largest EFA instance type the tenant's nominal GPU quota fills (dev g5: 4 GPUs, "
        "1 EFA interface; staging p4d.24xlarge: 8 GPUs, 4 EFA interfaces; prod p5.48xlarge: 8 "
        "GPUs, 32 EFA interfaces), as many workers as that quota fills, each requesting all of "
        "its node's nvidia.com/gpu and vpc.amazonaws.com/efa, no pool selector",
        "tenant inference (GPU quota on the inference pool only) submits a Job requesting one "
        "unit of its pool's GPUs and one EFA interface",
    ],
    outcome="Kueue admits the JobSet to flavor training for both resources (the inference "
    "flavor the tenant may borrow from offers no EFA) and charges its EFA interfaces against "
    "the tenant's EFA quota there, which is exactly what its GPU quota's nodes have; the "
    "inference tenant's Job stays suspended, its message naming vpc.amazonaws.com/efa (in "
    "flavor inference; on dev's time-sliced flavor, which declares none, unavailable)",
    docs=[DOC],
)
@pytest.mark.parametrize("stack_name", EFA_STACKS)
def test_efa_jobs_are_admitted_to_the_efa_pool_only(
    stack_name: str, efa_queues: dict[str, list[StepResult]]
) -> None:
    trained, probed = efa_queues[stack_name]
    gpus, interfaces = _largest(stack_name)
    workers = _workers(stack_name)
    assert workers >= 1
    wl = trained.workload_of("JobSet", "allreduce")
    assert wl.admitted, wl.pending_message
    assert _flavors(wl.flavors()) == {
        "cpu": "default",
        "memory": "default",
        GPU: POOL,
        EFA: POOL,
    }
    queue = trained.cluster_queues[TRAINER]
    assert queue.total(POOL, EFA) == str(workers * interfaces)
    assert queue.total(POOL, GPU) == str(workers * gpus)
    job: Any = probed.object("Job", "efa-probe")
    waiting = probed.workload_of("Job", "efa-probe")
    assert not waiting.admitted and job["spec"]["suspend"] is True
    # A whole-GPU flavor declares EFA (0 on the inference pool); a time-sliced one does not.
    expected = (
        f"insufficient quota for {EFA} in flavor {OUTSIDER}"
        if _outsider_unit(stack_name) == GPU
        else f"resource {EFA} unavailable in ClusterQueue"
    )
    assert expected in waiting.pending_message, waiting.pending_message
