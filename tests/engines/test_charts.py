"""Charts fetched at build time (`make charts`): the package is the pinned chart, its module is
checked against the pinned hash, and a missing package names the make target."""

from __future__ import annotations

import dataclasses
import tarfile
from pathlib import Path

import pytest
import yaml

from substrate.components.core.versions import CHARTS, GO_MODULE_CHARTS
from substrate.engines import charts, helm


def _package(name: str) -> Path:
    path = charts.package_path(name)
    if not path.is_file():
        pytest.fail(f"{path} is not built: run `{charts.BUILD_TARGET}`", False)
    return path


CRDS = {
    "spark-operator": "sparkoperator.k8s.io_sparkapplications.yaml",
    "aws-load-balancer-controller": "crds.yaml",  # TargetGroupBinding, IngressClassParams
    "aws-efa-k8s-device-plugin": None,
}


@pytest.mark.parametrize("name", sorted(GO_MODULE_CHARTS))
def test_fetched_package_is_the_pinned_chart_with_its_crds(name: str) -> None:
    with tarfile.open(_package(name)) as tar:
        chart = yaml.safe_load(tar.extractfile(f"{CHARTS[name].name}/Chart.yaml").read())  # type: ignore[union-attr]
        crds = [m.name for m in tar.getmembers() if "/crds/" in m.name]
    assert (chart["name"], str(chart["version"])) == (CHARTS[name].name, CHARTS[name].version)
    assert str(chart["appVersion"]) == CHARTS[name].app_version
    expected = CRDS[name]
    assert any(c.endswith(f"/crds/{expected}") for c in crds) if expected else crds == []


def test_a_module_that_holds_another_chart_version_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pinned = CHARTS["aws-load-balancer-controller"]
    monkeypatch.setitem(
        CHARTS, "aws-load-balancer-controller", dataclasses.replace(pinned, version="3.4.0")
    )
    with pytest.raises(charts.ChartFetchError, match=r"holds aws-load-balancer-controller 3\.5\.0"):
        charts.download("aws-load-balancer-controller")


def test_a_module_whose_hash_is_not_the_pin_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    pin = GO_MODULE_CHARTS["spark-operator"]
    wrong = dataclasses.replace(pin, sum="h1:" + "A" * 43 + "=")
    monkeypatch.setitem(GO_MODULE_CHARTS, "spark-operator", wrong)
    with pytest.raises(charts.ChartFetchError, match="pin h1:AAAA"):
        charts.download("spark-operator")


def test_a_missing_fetched_chart_names_make_charts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUBSTRATE_FETCHED_CHARTS", str(tmp_path))
    release = helm.Release("urn", "spark-operator", "spark-operator", "spark-operator", "2.5.1", {})
    with pytest.raises(FileNotFoundError, match=r"run `make charts`"):
        helm.chart_package(tmp_path, release)
