"""Journey: a finance analyst bills the Spark tenant's CPU core-hours and memory GiB-hours of one
SparkApplication, split into driver and executors.

The pods are the documented SparkApplication's driver and executors as the API server stored
them (tests/journeys/test_spark_admission.py: Kueue admitted the application, the operator and
the driver created the pods). kube-state-metrics' series are written from those pods' own
container requests and labels; promtool evaluates the stack's chargeback rules over one hour of
them, and the documented period queries at the hour's end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from substrate.components.workloads.tenancy import memory_bytes, quantity
from substrate.engines.promtool import run_rule_tests, write_rule_files
from tests.conftest import planned
from tests.helpers import require_engine
from tests.journeys.journey import journey
from tests.journeys.test_spark import SPARK_STACKS, spark_tenant_of
from tests.journeys.test_spark_admission import admitted

CHARGEBACK = "docs/observability.md#chargeback-cpu-and-memory"
RUNNING = 60
"""Minutes the pods are bound and Running (from minute 1: the period's range is left-open)."""
GIB = 1024**3
NODES = {"driver": ("general-node-1", "general"), "executor": ("nvme-node-1", "nvme")}
"""Where each role's pods run: the executors on the NVMe pool (their nodeSelector)."""


def cores(text: str) -> float:
    return float(quantity(text))


def _pod_series(pod: Mapping[str, Any]) -> list[dict[str, str]]:
    meta = pod["metadata"]
    role = meta["labels"]["spark-role"]
    node = NODES[role][0]
    ident = f'namespace="{meta["namespace"]}", pod="{meta["name"]}", uid="{meta["uid"]}"'
    on = f"_ 1x{RUNNING - 1} stale"
    out = [
        {
            "series": f"kube_pod_labels{{{ident}, label_sparkoperator_k8s_io_app_name="
            f'"{meta["labels"]["sparkoperator.k8s.io/app-name"]}", label_spark_role="{role}"}}',
            "values": on,
        },
        {"series": f'kube_pod_status_phase{{{ident}, phase="Running"}}', "values": on},
    ]
    for c in pod["spec"]["containers"]:
        requests = c["resources"]["requests"]
        for resource, unit, value in (
            ("cpu", "core", cores(str(requests["cpu"]))),
            ("memory", "byte", memory_bytes(requests["memory"])),
        ):
            out.append(
                {
                    "series": f'kube_pod_container_resource_requests{{{ident}, container="'
                    f'{c["name"]}", node="{node}", resource="{resource}", unit="{unit}"}}',
                    "values": f"_ {value}x{RUNNING - 1} stale",
                }
            )
    return out


def _expected(pods: Sequence[Mapping[str, Any]], tenant: str, app: str) -> list[dict[str, Any]]:
    """Core-hours and GiB-hours from the pods' own requests: one hour of each."""
    totals: dict[tuple[str, str], float] = {}
    for pod in pods:
        role = pod["metadata"]["labels"]["spark-role"]
        for c in pod["spec"]["containers"]:
            requests = c["resources"]["requests"]
            totals[("cpu", role)] = totals.get(("cpu", role), 0) + cores(str(requests["cpu"]))
            totals[("memory", role)] = (
                totals.get(("memory", role), 0) + memory_bytes(requests["memory"]) / GIB
            )
    period = "[2h]"
    tests = []
    for resource, record in (("cpu", "cpu_allocated"), ("memory", "memory_allocated_gib")):
        tests.append(
            {
                "expr": f"sum by (tenant) (sum_over_time(namespace:{record}:sum{period})) / 60",
                "eval_time": "2h",
                "exp_samples": [
                    {
                        "labels": f'{{tenant="{tenant}"}}',
                        "value": sum(v for (r, _), v in totals.items() if r == resource),
                    }
                ],
            }
        )
        tests.append(
            {
                "expr": "sum by (tenant, spark_application, spark_role) "
                f"(sum_over_time(spark_application:{record}:sum{period})) / 60",
                "eval_time": "2h",
                "exp_samples": [
                    {
                        "labels": f'{{tenant="{tenant}", spark_application="{app}", '
                        f'spark_role="{role}"}}',
                        "value": totals[(resource, role)],
                    }
                    for role in ("driver", "executor")
                ],
            }
        )
    return tests


@journey(
    user="finance analyst billing the Spark tenant",
    stack="dev, staging, prod",
    steps=[
        "the documented SparkApplication's driver and four executors (as the API server stored "
        "them) are bound and Running for one hour, the executors on the NVMe pool",
        "the analyst runs the documented core-hour and GiB-hour queries at the end of the period, "
        "per tenant and per SparkApplication and role",
    ],
    outcome="the tenant is billed the pods' CPU requests (coreRequest: 1 + 4 x 4 = 17 "
    "core-hours) and memory requests (memory + memoryOverhead: 4 + 4 x 16 = 68 GiB-hours) for "
    "the hour; the driver and the executors appear apart under the application's name",
    docs=[CHARGEBACK],
)
@pytest.mark.parametrize("stack", SPARK_STACKS)
def test_finance_bills_a_spark_applications_cores_and_memory(stack: str, tmp_path: Path) -> None:
    require_engine("promtool")
    run = admitted(stack)
    pods = [p.admitted for p in (run.driver, *run.executors) if p.admitted is not None]
    assert len(pods) == 5
    tenant = spark_tenant_of(stack)
    (namespace,) = {p["metadata"]["namespace"] for p in pods}
    app = pods[0]["metadata"]["labels"]["sparkoperator.k8s.io/app-name"]
    inputs = [
        {
            "series": f'kube_namespace_labels{{namespace="{namespace}", '
            f'label_substrate_io_tenant="{tenant}"}}',
            "values": "1x180",
        },
        *(
            {
                "series": f'kube_node_labels{{node="{n}", label_substrate_io_pool="{pool}"}}',
                "values": "1x180",
            }
            for n, pool in NODES.values()
        ),
        *(s for pod in pods for s in _pod_series(pod)),
    ]
    expected = _expected(pods, tenant, app)
    assert expected[0]["exp_samples"][0]["value"] == 17
    assert expected[2]["exp_samples"][0]["value"] == 68
    write_rule_files(planned(stack).manifests, tmp_path)
    test = tmp_path / "spark-bill.test.yaml"
    group = {"name": "spark bill", "input_series": inputs, "promql_expr_test": expected}
    test.write_text(
        yaml.safe_dump(
            {
                "rule_files": ["substrate-chargeback.yaml"],
                "evaluation_interval": "1m",
                "tests": [group],
            }
        )
    )
    (result,) = run_rule_tests([test], tmp_path / "junit.xml").results
    assert result.passed, result.message()
