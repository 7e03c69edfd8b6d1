"""Journeys: a finance analyst closes the month's GPU-hours for a tenant.

The analyst runs the documented month query over the per-minute record the stack's chargeback
rules write. promtool evaluates the stack's own rules over kube-state-metrics series of the
tenant's jobs (one scrape a minute) in the month's last hours, and the query at the month's end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from substrate.engines.promtool import run_rule_tests, write_rule_files
from tests.conftest import planned
from tests.helpers import require_engine
from tests.journeys.journey import journey

MONTH_END = "2026-12-01T00:00:00Z"
START = "2026-11-30T21:00:00Z"
"""Series start three hours before the month ends; the query covers the whole month."""
HOURS = 3
CHARGEBACK = "docs/observability.md#chargeback-gpu-hours"
MONTH_QUERY = (
    'sum by (tenant) (sum_over_time(namespace:gpu_allocated:sum{{tenant="{tenant}"}}[30d])) / 60'
)
"""The documented query: November has 30 days, evaluated at its end."""
ASK = f"the analyst runs the documented month query on namespace:gpu_allocated:sum at {MONTH_END}"


PHASES = {"Pending": "100", "Running": "010", "Succeeded": "001"}
"""kube_pod_status_phase per phase: its value while queued, running and finished."""


@dataclass(frozen=True)
class Job:
    namespace: str
    pod: str
    gpus: int
    running: tuple[int, int]
    """Minutes after START: first and last minute the pod is bound to its node and Running."""
    node: str = "gpu-node-1"
    resource: str = "nvidia_com_gpu"
    """The GPU unit requested, as kube-state-metrics names it (`nvidia_com_gpu_shared`: a slice
    of a time-sliced pool, which the device plugin advertises as nvidia.com/gpu.shared)."""


def _tokens(created: int, deleted: int, value_at: Callable[[int], str]) -> str:
    """promtool values: no sample before creation, ``value_at(minute)`` until deletion (`_`
    where the series does not exist), then a stale marker."""
    tokens = ["_"] * created + [value_at(m) for m in range(created, deleted)]
    return " ".join([*tokens, "stale"])


def _series(job: Job) -> list[dict[str, str]]:
    """The job's kube-state-metrics series, minute by minute: created 5 minutes before it runs
    (Pending without a node: the request series has `node=""`), bound and Running from
    `first` to `last` (the request series now carries the node), Succeeded for 5 minutes, then
    deleted."""
    first, last = job.running
    created, deleted = max(first - 5, 0), last + 6
    gpus = str(job.gpus)

    def phase(pending: str, running: str, done: str) -> str:
        return _tokens(
            created,
            deleted,
            lambda m: pending if m < first else running if m <= last else done,
        )

    pod = f'namespace="{job.namespace}", pod="{job.pod}", uid="{job.pod}-uid"'
    request = f'kube_pod_container_resource_requests{{{pod}, container="main", '
    request += f'resource="{job.resource}", unit="integer"'
    return [
        {"series": f'{request}, node=""}}', "values": _tokens(created, first, lambda _: gpus)},
        {
            "series": f'{request}, node="{job.node}"}}',
            "values": _tokens(first, deleted, lambda _: gpus),
        },
        *(
            {"series": f'kube_pod_status_phase{{{pod}, phase="{name}"}}', "values": phase(*flags)}
            for name, flags in PHASES.items()
        ),
    ]


def month_close(
    workdir: Path,
    stack: str,
    tenant: str,
    namespaces: list[str],
    jobs: list[Job],
    *,
    billed: float,
    nodes: Sequence[dict[str, str]] = (),
) -> str:
    """Run the stack's rules over the jobs (and ``nodes``' kube_node_labels series); '' when the
    month query bills ``billed`` GPU-hours, else promtool's account of what it billed."""
    require_engine("promtool")
    write_rule_files(planned(stack).manifests, workdir)
    labels = [
        {
            "series": f'kube_namespace_labels{{namespace="{ns}", '
            f'label_substrate_io_tenant="{tenant}"}}',
            "values": f"1x{HOURS * 60}",
        }
        for ns in namespaces
    ]
    group: dict[str, Any] = {
        "name": "month close",
        "start_timestamp": START,
        "input_series": [*labels, *nodes, *(s for job in jobs for s in _series(job))],
        "promql_expr_test": [
            {
                "expr": MONTH_QUERY.format(tenant=tenant),
                "eval_time": f"{HOURS}h",
                "exp_samples": [{"labels": f'{{tenant="{tenant}"}}', "value": billed}],
            }
        ],
    }
    test = workdir / "month-close.test.yaml"
    test.write_text(
        yaml.safe_dump(
            {
                "rule_files": ["substrate-chargeback.yaml"],
                "evaluation_interval": "1m",
                "tests": [group],
            }
        )
    )
    (result,) = run_rule_tests([test], workdir / "junit.xml").results
    return result.message()


@journey(
    user="finance analyst closing November for tenant inference",
    stack="prod",
    steps=[
        "inference's chat service holds 2 GPUs at every minute of the month's last three hours "
        "(21:01 to 00:00, one sample a minute) and runs on into December",
        ASK,
    ],
    outcome="billed 6 GPU-hours (2 GPUs x 3 whole hours)",
    docs=[CHARGEBACK],
)
def test_finance_bills_a_service_that_held_gpus_for_whole_hours(tmp_path: Path) -> None:
    jobs = [Job("inference", "chat-0", 2, (1, HOURS * 60 + 10))]
    assert month_close(tmp_path, "prod", "inference", ["inference"], jobs, billed=6) == ""


@journey(
    user="finance analyst closing November for tenant ml-research",
    stack="prod",
    steps=[
        "ml-research runs an 8-GPU job for 15 minutes (21:10-21:24, bound and Running) in "
        "namespace ml-research, after 5 minutes queued without a node",
        "then a 4-GPU evaluation for 30 minutes across the 23:00 hour boundary (22:45-23:14) "
        "in ml-research-eval; nothing runs in between",
        ASK,
    ],
    outcome="billed 4 GPU-hours (8 x 15 min + 4 x 30 min): each minute once, queueing and idle "
    "time free",
    docs=[CHARGEBACK],
)
def test_finance_bills_partial_hours_by_the_minute(tmp_path: Path) -> None:
    jobs = [
        Job("ml-research", "train-0", 8, (10, 24)),
        Job("ml-research-eval", "eval-0", 4, (105, 134)),
    ]
    namespaces = ["ml-research", "ml-research-eval"]
    assert month_close(tmp_path, "prod", "ml-research", namespaces, jobs, billed=4) == ""


@journey(
    user="finance analyst closing November for tenant inference on dev",
    stack="dev",
    steps=[
        "dev's inference pool shares each GPU four ways (time-slicing, replicas 4)",
        "inference's chat service holds one slice (nvidia.com/gpu.shared, the unit that pool "
        "advertises) on a node of that pool at every minute of the month's last three hours",
        ASK,
    ],
    outcome="billed 0.75 GPU-hours: a quarter of a physical GPU for 3 hours, not 3 GPU-hours",
    docs=[CHARGEBACK],
)
def test_finance_bills_a_time_sliced_gpu_by_its_physical_share(tmp_path: Path) -> None:
    node = {
        "series": 'kube_node_labels{node="gpu-node-ts", label_substrate_io_pool="inference", '
        'label_karpenter_k8s_aws_instance_gpu_name="l4"}',
        "values": f"1x{HOURS * 60}",
    }
    jobs = [
        Job(
            "inference",
            "chat-0",
            1,
            (1, HOURS * 60 + 10),
            node="gpu-node-ts",
            resource="nvidia_com_gpu_shared",
        )
    ]
    assert (
        month_close(tmp_path, "dev", "inference", ["inference"], jobs, billed=0.75, nodes=[node])
        == ""
    )
