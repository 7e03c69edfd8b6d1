"""Pinned chart versions match the upstream Chart.yaml files in ../shared/crds."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from substrate.components.core.versions import (
    CHARTS,
    EKS_STANDARD_SUPPORT,
    GO_MODULE_CHARTS,
    SUPPORTED_KUBERNETES_VERSIONS,
)

# Chart.yaml copies in the CRD directory, and what SOURCES.md says about them.
CHART_FILES = {
    "kueue": "kueue/Chart.yaml",
    "keda": "keda/Chart.yaml",
    "kyverno": "kyverno/Chart.yaml",
    "spire": "spire/Chart-spire.yaml",
    "spire-crds": "spire/Chart-spire-crds.yaml",
    "dcgm-exporter": "nvidia/Chart-dcgm-exporter.yaml",
    "nvidia-device-plugin": "nvidia/Chart-nvidia-device-plugin.yaml",
    "prometheus-operator-crds": "prometheus-operator/Chart-prometheus-operator-crds.yaml",
    "kuberay-operator": "kuberay/Chart.yaml",
    "jobset": "jobset/Chart.yaml",
}
# Upstream Chart.yaml at the tag carries a placeholder; the published version is in SOURCES.md.
PUBLISHED_ONLY = {"karpenter", "lws", "kube-prometheus-stack"}


@pytest.mark.parametrize("chart", sorted(CHART_FILES))
def test_chart_version_matches_upstream(chart: str, crds: Path) -> None:
    upstream = yaml.safe_load((crds / CHART_FILES[chart]).read_text())
    assert upstream["name"] == CHARTS[chart].name
    assert str(upstream["version"]).lstrip("v") == CHARTS[chart].version


@pytest.mark.parametrize("chart", sorted(PUBLISHED_ONLY))
def test_published_version_is_the_one_sources_md_lists(chart: str, crds: Path) -> None:
    sources = (crds / "SOURCES.md").read_text()
    assert CHARTS[chart].version in sources


def test_every_chart_is_accounted_for() -> None:
    assert set(CHARTS) == set(CHART_FILES) | PUBLISHED_ONLY | set(GO_MODULE_CHARTS)


def test_standard_support_list_is_ordered_and_unique() -> None:
    minors = [int(v.split(".")[1]) for v in SUPPORTED_KUBERNETES_VERSIONS]
    assert minors == sorted(set(minors))
    assert len(EKS_STANDARD_SUPPORT) >= 3  # EKS keeps at least three versions in standard support
