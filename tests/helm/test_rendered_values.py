"""Every values key a release sets is one the chart reads: Helm silently ignores any other, so a
typo'd or renamed key would leave the chart's default in place without a word."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from substrate.engines import helm
from tests.helm.chart_values import unread_keys
from tests.helm.rendered import by_chart, chart_releases, rendered


@pytest.mark.parametrize("chart", by_chart({}))
def test_every_values_key_is_one_the_chart_reads(chart: str, charts: Path) -> None:
    for render, release in chart_releases(chart):
        package = helm.chart_package(charts, release.release)
        unread = unread_keys(package, chart, release.release.values)
        assert unread == [], f"{render.stack}: {release.release.key} sets keys {chart} ignores"


def test_a_typo_and_a_misplaced_key_are_reported(charts: Path) -> None:
    (karpenter,) = rendered("prod").of_chart("karpenter")
    values = copy.deepcopy(karpenter.release.values)
    values["replicass"] = 2
    values["settings"]["clustername"] = "x"  # the chart reads settings.clusterName
    values["nodeSelector"]["anything"] = "goes"  # a label map: its keys are the user's
    package = helm.chart_package(charts, karpenter.release)
    assert unread_keys(package, "karpenter", values) == ["replicass", "settings.clustername"]


def test_subchart_and_global_keys_are_read_through_their_alias(charts: Path) -> None:
    (stack,) = rendered("prod").of_chart("kube-prometheus-stack")
    package = helm.chart_package(charts, stack.release)
    read = {"grafana": {"sidecar": {"dashboards": {"enabled": True}}}, "global": {"rbac": {}}}
    assert unread_keys(package, "kube-prometheus-stack", read) == []
    wrong = {"grafana": {"sidecars": {}}, "kube-state-metrics": {"metricLabelAllowlist": []}}
    assert unread_keys(package, "kube-prometheus-stack", wrong) == [
        "grafana.sidecars",
        "kube-state-metrics.metricLabelAllowlist",
    ]
