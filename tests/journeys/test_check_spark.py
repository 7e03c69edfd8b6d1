"""`substrate check` on SparkApplications: the data engineer checks a Spark job before
submitting it. The command runs in-process on the session's plans (tests/journeys/test_check.py);
the driver and executor pods are assembled from the application as Kueue admitted it
(substrate/engines/spark_pods.py) and created through the API server engine as the operator and
the driver would create them."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import ROOT, run_cli
from tests.journeys.cluster import rehome, stack
from tests.journeys.journey import journey
from tests.journeys.test_check import (
    DOC,
    check,
    finding,
    session_plans,  # noqa: F401 (autouse: check reads the session's plans)
    verdict,
)
from tests.journeys.test_spark import SPARK_STACKS

EXAMPLE = ROOT / "examples" / "tenant-manifests" / "features-spark.yaml"
SECTION = f"{DOC}#a-spark-job"


def example(name: str, registry: str) -> dict[str, Any]:
    app = rehome(yaml.safe_load(EXAMPLE.read_text()), registry)
    app["metadata"]["name"] = name
    return app


def _variants(registry: str) -> list[dict[str, Any]]:
    dynamic = example("features-dynamic", registry)
    dynamic["spec"]["sparkConf"]["spark.dynamicAllocation.enabled"] = "true"
    root = example("features-root", registry)
    del root["spec"]["executor"]["podSecurityContext"]
    huge = example("features-huge", registry)
    huge["spec"]["executor"]["instances"] = 400
    return [dynamic, root, huge]


@journey(
    user="data engineer of the Spark tenant",
    stack="dev, staging, prod",
    steps=[
        "run `substrate check` on examples/tenant-manifests/features-spark.yaml (the "
        "SparkApplication of docs/workloads.md)",
        "then on copies enabling dynamic allocation in sparkConf, dropping the executors' pod "
        "security context, and asking for 400 executors",
    ],
    outcome="the example runs: admitted with its driver and 4 executor pods judged, Kueue admits "
    "it on the tenant's ClusterQueue; of the copies, the one with 400 executors waits forever "
    "above the tenant's quota, the executor pods without a pod security context are refused by "
    "Pod Security admission (restricted, every stack), and dynamic allocation in sparkConf is "
    "denied by spark-fixed-executors on staging and prod (Enforce), reported on dev (Audit)",
    docs=[SECTION],
)
@pytest.mark.parametrize("name", SPARK_STACKS)
def test_check_judges_a_spark_application_and_its_pods(name: str, tmp_path: Path) -> None:
    s = stack(name)
    enforced = s.config.admission.mode == "Enforce"
    code, report = check(tmp_path, name, [example("features", s.registry)])
    app = verdict(report, "SparkApplication", "features")
    assert code == 0 and app["status"] == "ok", app
    assert "and 5 of its pods" in finding(app, "admission")["summary"]
    queue = finding(app, "queue")
    assert "ClusterQueue data-eng" in queue["summary"]
    beyond = 17 - int(s.config.tenants["data-eng"].quota.cpu)  # Kueue counts 1 + 4 x 4 cores
    borrows = [d for d in queue["details"] if d.startswith("borrows")]
    assert [d.split(" from ")[0] for d in borrows if " cpu " in d] == (
        [f"borrows {beyond} cpu on default"] if beyond > 0 else []
    )

    code, report = check(tmp_path, name, _variants(s.registry))
    assert code == 1
    dynamic = finding(verdict(report, "SparkApplication", "features-dynamic"), "admission")
    assert dynamic["summary"] == (
        "denied by substrate-spark-fixed-executors"
        if enforced
        else "admitted; Audit policies report it (11 policies judged it and 5 of its pods)"
    )
    assert any("cannot account executors that come and go" in d for d in dynamic["details"])
    root = finding(verdict(report, "SparkApplication", "features-root"), "admission")
    assert root["status"] == "fail"  # Pod Security admission enforces on every stack
    assert any("refused by PodSecurity" in d for d in root["details"]), root
    assert any(d.startswith("Pod/features-root-exec-1:") for d in root["details"]), root
    assert not any(d.startswith("Pod/features-root-driver:") for d in root["details"]), root
    huge = verdict(report, "SparkApplication", "features-huge")
    assert finding(huge, "admission")["status"] == "ok"
    assert finding(huge, "queue")["summary"].startswith("waits forever")


@journey(
    user="data engineer of tenant ml-research",
    stack="prod",
    steps=["run `substrate check prod` on the example SparkApplication moved to ml-research"],
    outcome="exit 2 with one line: the Spark Operator does not watch namespace ml-research "
    "(only the Spark tenants' namespaces)",
    docs=[SECTION],
)
def test_check_refuses_a_spark_application_where_no_operator_watches(tmp_path: Path) -> None:
    elsewhere = copy.deepcopy(yaml.safe_load(EXAMPLE.read_text()))
    elsewhere["metadata"]["namespace"] = "ml-research"
    path = tmp_path / "elsewhere.yaml"
    path.write_text(yaml.safe_dump(elsewhere))
    done = run_cli("check", "prod", str(path))
    assert done.returncode == 2
    assert done.stderr.strip().endswith(
        "SparkApplication/features: the Spark Operator does not watch namespace ml-research "
        "(Spark namespaces: data-eng)"
    )
