"""Each engine is built at the version the platform deploys: its go.mod, the binary's own build
info and the upstream chart package agree with substrate.components.core.versions."""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

from substrate.components.core.versions import (
    CHARTS,
    ENGINES,
    PULUMI_SDK_VERSION,
    SUPPORTED_KUBERNETES_VERSIONS,
)
from substrate.plan.command import PlanResult
from tests.helpers import ROOT, require_engine

MODULES = ROOT / "tools" / "engines"


def required(name: str) -> dict[str, str]:
    """module -> version for every requirement of tools/engines/<name>/go.mod, as Go reads it."""
    text = subprocess.run(
        ["go", "mod", "edit", "-json", str(MODULES / name / "go.mod")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {r["Path"]: r["Version"] for r in json.loads(text)["Require"]}


def chart_file(charts: Path, chart: str, member: str) -> dict:
    pinned = CHARTS[chart]
    with tarfile.open(charts / f"{pinned.name}-{pinned.version}.tgz") as tgz:
        data = tgz.extractfile(f"{pinned.name}/{member}")
        assert data is not None
        return yaml.safe_load(data.read())


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_go_module_requires_the_pinned_version(name: str) -> None:
    engine = ENGINES[name]
    assert required(name).get(engine.module) == engine.version, (
        f"tools/engines/{name}/go.mod must require {engine.module} {engine.version}"
    )


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_built_binary_embeds_the_pinned_module(name: str) -> None:
    engine = ENGINES[name]
    info = subprocess.run(
        ["go", "version", "-m", str(require_engine(name))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    versions = {
        parts[1]: parts[2]
        for parts in (line.split() for line in info.splitlines())
        if len(parts) >= 3 and parts[0] in {"mod", "dep"}
    }
    assert versions.get(engine.module) == engine.version, f"rebuild it: make engines ({name})"


@pytest.mark.parametrize("chart", ["kyverno", "kueue"])
def test_admission_and_queue_engines_match_the_deployed_controller(
    chart: str, charts: Path
) -> None:
    assert chart_file(charts, chart, "Chart.yaml")["appVersion"] == ENGINES[chart].version


def test_promtool_is_the_release_of_the_deployed_prometheus(
    charts: Path, prod_plan: PlanResult
) -> None:
    values = chart_file(charts, "kube-prometheus-stack", "values.yaml")
    tag = values["prometheus"]["prometheusSpec"]["image"]["tag"]
    (stack,) = [r for r in prod_plan.releases if r["chart"] == "kube-prometheus-stack"]
    overridden = stack["values"].get("prometheus", {}).get("prometheusSpec", {}).get("image")
    # The plan may move the image to the ECR pull-through cache (registry), never its release.
    assert "tag" not in (overridden or {}), "the plan pins its own Prometheus: pin promtool to it"
    major, minor, patch = re.fullmatch(r"v(\d+)\.(\d+)\.(\d+)(-.*)?", tag).groups()[:3]  # type: ignore[union-attr]
    # Prometheus 3.x is published as Go module v0.<major><minor 2 digits>.<patch>.
    assert ENGINES["promtool"].version == f"v0.{major}{int(minor):02d}.{patch}"


def test_helm_engine_is_the_major_the_releases_use(prod_plan: PlanResult) -> None:
    kinds = {r.type for r in prod_plan.records if r.type.startswith("kubernetes:helm.sh/")}
    assert kinds == {"kubernetes:helm.sh/v3:Release"}
    assert ENGINES["helm"].module == "helm.sh/helm/v3"


def test_apiserver_engine_runs_the_deployed_kueue_and_the_kubernetes_it_pins() -> None:
    assert required("apiserver")["sigs.k8s.io/kueue"] == CHARTS["kueue"].app_version
    graph = subprocess.run(
        ["go", "mod", "graph"],
        cwd=MODULES / "apiserver",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    kueue = f"sigs.k8s.io/kueue@{CHARTS['kueue'].app_version}"
    pinned = {e.split()[1] for e in graph if e.startswith(kueue + " k8s.io/kubernetes@")}
    assert pinned == {f"k8s.io/kubernetes@{ENGINES['apiserver'].version}"}


def test_apiserver_engine_emulates_every_supported_kubernetes_version() -> None:
    # kube-apiserver --emulated-version reaches back three minors from the binary's version.
    major, minor = (int(p) for p in ENGINES["apiserver"].version.lstrip("v").split(".")[:2])
    supported = [tuple(int(p) for p in v.split(".")) for v in SUPPORTED_KUBERNETES_VERSIONS]
    assert max(supported) == (major, minor)
    assert min(supported) >= (major, minor - 3)


def test_pod_security_engine_covers_every_supported_kubernetes_version() -> None:
    """The evaluator emulates older clusters but cannot know a newer one's checks: its minor
    (k8s.io/pod-security-admission v0.<minor>) is the newest Kubernetes a stack may run."""
    minor = int(ENGINES["pod-security"].version.split(".")[1])
    newest = max(int(v.split(".")[1]) for v in SUPPORTED_KUBERNETES_VERSIONS)
    assert minor == newest


def test_pulumi_engine_is_not_older_than_the_pinned_sdk_and_workflow_cli() -> None:
    """The CLI engine runs programs written against the pinned SDK: it must be that release or
    newer (Pulumi supports a CLI newer than the SDK, not the reverse)."""
    lock = (ROOT / "requirements.lock").read_text().splitlines()
    assert f"pulumi=={PULUMI_SDK_VERSION} \\" in lock
    workflow_pins = {
        m.group(1)
        for path in (ROOT / ".github" / "workflows").glob("*.yml")
        for m in re.finditer(r"pulumi-version:\s*([0-9.]+)", path.read_text())
    }
    assert workflow_pins == {PULUMI_SDK_VERSION}

    def release(version: str) -> tuple[int, ...]:
        return tuple(int(p) for p in version.lstrip("v").split("."))

    assert release(ENGINES["pulumi"].version) >= release(PULUMI_SDK_VERSION)


def test_pulumi_engine_reports_its_release() -> None:
    out = subprocess.run(
        [str(require_engine("pulumi")), "version"],
        capture_output=True,
        text=True,
        check=True,
        env={"PULUMI_SKIP_UPDATE_CHECK": "true", "PATH": "/usr/bin:/bin"},
    ).stdout.strip()
    assert out == ENGINES["pulumi"].version


def test_hpa_engine_is_the_deployed_keda_over_the_apiserver_engines_kubernetes() -> None:
    """The HPA is made from a ScaledObject as the deployed KEDA makes it; the controllers are
    the apiserver engine's Kubernetes (one k8s.io/kubernetes in the module cache)."""
    assert ENGINES["hpa"].module == ENGINES["apiserver"].module
    assert ENGINES["hpa"].version == ENGINES["apiserver"].version
    request = {
        "statefulSet": {
            "metadata": {"name": "a", "namespace": "n"},
            "spec": {
                "selector": {"matchLabels": {"app": "a"}},
                "template": {
                    "metadata": {"labels": {"app": "a"}},
                    "spec": {"containers": [{"name": "c", "image": "i"}]},
                },
            },
        },
        "replicas": 1,
        "durationSeconds": 0,
    }
    out = subprocess.run(
        [str(require_engine("hpa"))],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    notes = json.loads(out)["notes"]
    assert any(f"KEDA v{CHARTS['keda'].app_version}'s" in n for n in notes), notes


def test_workload_pods_engine_links_what_the_kueue_and_apiserver_engines_link() -> None:
    """The operators' code the workload-pods engine runs is the version Kueue's integrations
    are built against (the module proxy serves no source of the charts' LWS and KubeRay), over
    the apiserver engine's Kubernetes (one k8s.io/kubernetes in the module cache)."""
    pods, kueue, api = required("workload-pods"), required("kueue"), required("apiserver")
    for module in ("sigs.k8s.io/lws", "github.com/ray-project/kuberay/ray-operator"):
        assert pods[module] == kueue[module], module
        assert pods[module] in ENGINES["workload-pods"].deploys, module
    assert pods["k8s.io/kubernetes"] == api["k8s.io/kubernetes"]
