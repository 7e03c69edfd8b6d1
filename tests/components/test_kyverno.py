"""Kyverno add-on: HA on the system nodes, scoped webhooks, values that exist in the chart."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from substrate.components.admission.kyverno import Kyverno, KyvernoArgs, chart_values
from substrate.components.core.versions import CHARTS
from tests.helpers import Resources, run_program

ARGS: KyvernoArgs = {
    "cluster_name": "substrate-test",
    "admission_replicas": 3,
    "controller_replicas": 2,
    "webhook_timeout_seconds": 12,
    "excluded_namespaces": ["karpenter", "kueue-system"],
    "tags": {"team": "platform"},
}


def _run(args: KyvernoArgs) -> Resources:
    return Resources(run_program(lambda: Kyverno("kyverno", args)))


def test_release_is_the_pinned_chart_with_ha_values() -> None:
    resources = _run(ARGS)
    release = resources.one("kubernetes:helm.sh/v3:Release").inputs
    assert (release["chart"], release["version"]) == ("kyverno", CHARTS["kyverno"].version)
    values = release["values"]
    admission = values["admissionController"]
    assert admission["replicas"] == 3
    assert admission["podDisruptionBudget"] == {"enabled": True, "minAvailable": 1}
    spread = admission["topologySpreadConstraints"][0]
    assert spread["topologyKey"] == "topology.kubernetes.io/zone"
    assert spread["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == (
        "admission-controller"
    )
    assert admission["container"]["extraArgs"] == {"webhookTimeout": 12}
    for key in ("backgroundController", "cleanupController", "reportsController"):
        assert values[key]["replicas"] == 2
    assert values["features"]["excludeBootstrapResources"] == {"enabled": True}
    # Kyverno needs no AWS access: no Pod Identity role.
    assert resources.of_type("aws:iam/role:Role") == []


def test_every_kyverno_pod_lands_on_the_system_nodes() -> None:
    values = chart_values(ARGS)["global"]
    assert values["nodeSelector"] == {"kubernetes.io/os": "linux", "substrate.io/pool": "system"}
    assert values["tolerations"] == [{"key": "CriticalAddonsOnly", "operator": "Exists"}]


def test_webhooks_never_see_system_kyverno_or_platform_namespaces() -> None:
    config = chart_values(ARGS)["config"]
    (expr,) = config["webhooks"]["namespaceSelector"]["matchExpressions"]
    assert expr["key"] == "kubernetes.io/metadata.name"
    assert expr["operator"] == "NotIn"
    assert expr["values"] == [
        "karpenter",
        "kube-node-lease",
        "kube-public",
        "kube-system",
        "kueue-system",
        "kyverno",
    ]
    assert config["excludeKyvernoNamespace"] is True
    assert config["resourceFiltersIncludeNamespaces"] == ["karpenter", "kueue-system"]


def test_single_replica_gets_no_pdb_that_would_block_drains() -> None:
    values = chart_values({**ARGS, "admission_replicas": 1, "controller_replicas": 1})
    assert values["admissionController"]["podDisruptionBudget"]["enabled"] is False
    assert values["reportsController"]["podDisruptionBudget"]["enabled"] is False


def test_namespace_is_restricted() -> None:
    ns = _run(ARGS).one("kubernetes:core/v1:Namespace").inputs["metadata"]
    assert ns["name"] == "kyverno"
    assert ns["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"admission_replicas": 0}, "KyvernoArgs.admission_replicas: 0 is out of range (1 to 10)"),
        (
            {"webhook_timeout_seconds": 30},
            "KyvernoArgs.webhook_timeout_seconds: 30 is out of range (1 to 29)",
        ),
        ({"namespace": "Kyverno"}, "KyvernoArgs.namespace: 'Kyverno' is not a DNS label"),
    ],
)
def test_invalid_args_are_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        Kyverno("kyverno", {**ARGS, **change})  # type: ignore[typeddict-item]


FREE_FORM = ("nodeSelector",)
"""Chart maps whose keys are the user's (labels), even when the chart sets a default entry."""


def _paths(values: Any, chart: Any, prefix: str = "") -> list[str]:
    """Value paths that do not exist in the chart's values.yaml (free-form maps/lists end it)."""
    missing = []
    for key, value in values.items():
        path = f"{prefix}{key}"
        if not isinstance(chart, dict) or key not in chart:
            missing.append(path)
        elif (
            isinstance(value, dict)
            and isinstance(chart[key], dict)
            and chart[key]
            and key not in FREE_FORM
        ):
            missing += _paths(value, chart[key], f"{path}.")
    return missing


def test_every_value_key_exists_in_the_pinned_chart(crds: Path) -> None:
    chart = yaml.safe_load((crds / "kyverno" / "chart-values.yaml").read_text())
    assert _paths(chart_values(ARGS), chart) == []
    assert _paths({"admissionController": {"replicaz": 3}}, chart) == [
        "admissionController.replicaz"
    ]
