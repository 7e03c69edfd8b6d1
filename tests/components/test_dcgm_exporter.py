"""DCGM exporter: GPU nodes only, GPU taint tolerated, curated counters, ServiceMonitor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from substrate.components.observability.dcgm_exporter import (
    COUNTERS_CSV,
    COUNTERS_PATH,
    DcgmExporter,
    read_counters,
)
from substrate.engines import run
from tests.crds import validation_errors
from tests.helpers import Resources, require_engine, run_program

SM = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"


@pytest.fixture(scope="module")
def dcgm() -> Resources:
    return Resources(
        run_program(
            lambda: DcgmExporter(
                "dcgm-exporter",
                {"cluster_name": "substrate-test", "monitor_labels": {"release": "prometheus"}},
            )
        )
    )


def test_runs_only_on_nvidia_nodes_and_tolerates_the_gpu_taint(dcgm: Resources) -> None:
    values = dcgm.one("kubernetes:helm.sh/v3:Release").inputs["values"]
    terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms["nodeSelectorTerms"] == [
        {
            "matchExpressions": [
                {
                    "key": "karpenter.k8s.aws/instance-gpu-manufacturer",
                    "operator": "In",
                    "values": ["nvidia"],
                }
            ]
        }
    ]
    assert values["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]


def test_exporter_reads_the_curated_counters(dcgm: Resources) -> None:
    release = dcgm.one("kubernetes:helm.sh/v3:Release").inputs
    assert release["values"]["arguments"] == ["-f", COUNTERS_PATH]
    assert release["values"]["customMetrics"] == COUNTERS_CSV.read_text()
    assert release["values"]["serviceMonitor"] == {"enabled": False}
    assert (release["chart"], release["version"]) == ("dcgm-exporter", "4.8.2")


def test_namespace_is_the_documented_privileged_exemption(dcgm: Resources) -> None:
    labels = dcgm.one("kubernetes:core/v1:Namespace").inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"


def test_service_monitor_keeps_the_workload_labels_of_each_gpu(dcgm: Resources) -> None:
    monitor = dcgm.one(SM).inputs
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "dcgm-exporter",
        "app.kubernetes.io/instance": "dcgm-exporter",
    }
    endpoint = monitor["spec"]["endpoints"][0]
    assert endpoint["port"] == "metrics"
    assert endpoint["honorLabels"] is False
    assert endpoint["relabelings"][0] == {"action": "labeldrop", "regex": "namespace|pod|container"}
    assert endpoint["relabelings"][1]["targetLabel"] == "node"
    assert dcgm.named("dcgm-exporter-release").urn in dcgm.one(SM).dependencies


@pytest.mark.crds
def test_service_monitor_validates_against_the_crd(dcgm: Resources, crds: Path) -> None:
    assert validation_errors(crds, dcgm.one(SM).inputs) == []


def _upstream_fields(crds: Path) -> dict[str, str]:
    """Every field upstream lists, commented-out ones included (they are valid fields)."""
    fields: dict[str, str] = {}
    for name in ("dcgm-exporter-default-counters.csv", "dcgm-exporter-dcp-metrics-included.csv"):
        for line in (crds / "nvidia" / name).read_text().splitlines():
            text = line.lstrip("# ").strip()
            if text.startswith(("DCGM_FI_", "DCGM_EXP_")) and text.count(",") >= 2:
                field, kind, _ = (p.strip() for p in text.split(",", 2))
                fields[field] = kind
    return fields


@pytest.mark.crds
def test_every_curated_counter_exists_upstream_with_the_same_type(crds: Path) -> None:
    upstream = _upstream_fields(crds)
    assert len(upstream) > 40
    for field, kind, _ in read_counters(COUNTERS_CSV.read_text()):
        assert upstream.get(field) == kind, field


def test_curated_counters_cover_what_the_alerts_and_chargeback_need() -> None:
    fields = {f for f, _, _ in read_counters(COUNTERS_CSV.read_text())}
    required = {
        "DCGM_FI_DEV_GPU_UTIL",  # utilization, idle GPUs, chargeback
        "DCGM_FI_DEV_FB_USED",  # memory used
        "DCGM_FI_DEV_POWER_USAGE",
        "DCGM_FI_DEV_GPU_TEMP",
        "DCGM_EXP_XID_ERRORS_COUNT",  # the windowed XID count GpuXidError reads
        "DCGM_FI_DEV_THERMAL_VIOLATION",
        "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL",
        "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL",
    }
    assert required <= fields


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        ("# only comments\n", "DcgmExporterArgs.counters_csv: lists no counters"),
        (
            "DCGM_FI_DEV_GPU_UTIL, histogram, x\n",
            "DcgmExporterArgs.counters_csv: 'DCGM_FI_DEV_GPU_UTIL' (histogram) is not",
        ),
    ],
)
def test_malformed_counter_lists_are_refused(csv: str, message: str) -> None:
    with pytest.raises(ValueError) as err:
        run_program(lambda: DcgmExporter("d", {"cluster_name": "c", "counters_csv": csv}))
    assert str(err.value).startswith(message)


def _rendered_daemonset(values: dict[str, object], charts: Path, tmp: Path) -> dict[str, Any]:
    require_engine("helm")
    (tmp / "values.json").write_text(json.dumps(values))
    rendered = run(
        "helm",
        [
            "template",
            "dcgm-exporter",
            str(charts / "dcgm-exporter-4.8.2.tgz"),
            "--namespace",
            "dcgm-exporter",
            "-f",
            str(tmp / "values.json"),
            "--show-only",
            "templates/daemonset.yaml",
        ],
    ).stdout
    return yaml.safe_load(rendered)


@pytest.mark.crds
def test_exporter_pod_has_room_on_8_gpu_nodes(
    dcgm: Resources, charts: Path, tmp_path: Path
) -> None:
    """Helm renders the chart's DaemonSet with the memory an 8-GPU node needs (the chart's own
    512Mi limit OOM-kills it there) and a Go heap ceiling below that limit."""
    values = dcgm.one("kubernetes:helm.sh/v3:Release").inputs["values"]
    (container,) = _rendered_daemonset(values, charts, tmp_path)["spec"]["template"]["spec"][
        "containers"
    ]
    limit = container["resources"]["limits"]["memory"]
    assert limit == "1536Mi"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["GOMEMLIMIT"] == "1200MiB"
    assert container["args"] == ["-f", COUNTERS_PATH]
