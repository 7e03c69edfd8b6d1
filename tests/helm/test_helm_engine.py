"""substrate.engines.helm: releases rendered by the real Helm as pulumi-kubernetes installs them
(values, Kubernetes version, the API versions the cluster serves at install time), and the
cluster's full object set built from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from substrate.engines import EngineFailedError, cluster, helm
from substrate.plan.recorder import SECRET_SIG, SIG_KEY, UNKNOWN, ResourceRecord
from tests.conftest import planned
from tests.helm.rendered import rendered
from tests.helpers import require_engine, stack_yaml

MONITORING = "monitoring.coreos.com"


def _release(chart: str, version: str, values: dict, namespace: str = "x") -> helm.Release:
    return helm.Release("urn:test", chart, namespace, chart, version, values)


def _record(values: object) -> ResourceRecord:
    return ResourceRecord(
        urn="urn:test",
        type=helm.HELM_RELEASE,
        name="r",
        parent=None,
        custom=True,
        remote=False,
        dependencies=[],
        property_dependencies={},
        provider=None,
        raw_inputs={"values": values},
    )


def test_a_value_the_chart_schema_rejects_fails_the_render(charts: Path) -> None:
    require_engine("helm")
    bad = _release("spire", "0.30.0", {"spire-agent": {"server": {"port": "not-a-port"}}})
    with pytest.raises(EngineFailedError, match=r"/server/port': got string, want integer"):
        helm.template(bad, charts / "spire-0.30.0.tgz", kube_version="1.35.0")


def test_api_versions_decide_what_a_chart_renders(charts: Path) -> None:
    """Karpenter renders its ServiceMonitor only where the cluster serves the Prometheus
    Operator's API: the render must be given the cluster's API versions."""
    require_engine("helm")
    release = _release("karpenter", "1.14.1", {"settings": {"clusterName": "c"}})
    release.values["serviceMonitor"] = {"enabled": True}
    package = charts / "karpenter-1.14.1.tgz"

    def kinds(apis: tuple[str, ...]) -> set[str]:
        pairs = helm.template(release, package, kube_version="1.35.0", api_versions=apis)
        return {obj["kind"] for _, obj in pairs}

    assert "ServiceMonitor" not in kinds(())
    assert "ServiceMonitor" in kinds((f"{MONITORING}/v1",))


def test_each_release_sees_the_crds_of_what_it_waits_for() -> None:
    """kube-prometheus-stack and the DCGM exporter wait for the Prometheus Operator CRDs and see
    their API; Kueue waits for the workload operators and sees theirs; Karpenter waits for no
    CRD release and sees none beyond Kubernetes' own."""
    prod = {r.release.name: r for r in rendered("prod").releases}

    def groups(name: str) -> set[str]:
        return {api.split("/")[0] for api in prod[name].api_versions}

    assert f"{MONITORING}/v1/ServiceMonitor" in prod["kube-prometheus-stack"].api_versions
    assert groups("kube-prometheus-stack") == {MONITORING}
    assert groups("dcgm-exporter") == {MONITORING}
    assert groups("spire") == {"spire.spiffe.io"}
    assert {"jobset.x-k8s.io", "leaderworkerset.x-k8s.io", "ray.io"} <= groups("kueue")
    assert groups("karpenter") == set()
    assert groups("prometheus-operator-crds") == set()


def test_values_reach_helm_as_the_provider_passes_them() -> None:
    """The provider strips secret markers (Helm gets the value); every number arrives as a
    float and Helm reads values files' numbers as float64, so whole numbers stay whole."""
    values = {"replicas": 3.0, "ratio": 0.5, "token": {SIG_KEY: SECRET_SIG, "value": "s3cr3t"}}
    assert helm.engine_values(_record(values)) == {"replicas": 3, "ratio": 0.5, "token": "s3cr3t"}
    with pytest.raises(ValueError, match=r"unknown until deployment at \['\.a\.b'\]"):
        helm.engine_values(_record({"a": {"b": UNKNOWN}}))


def test_whole_numbers_render_as_integers(charts: Path) -> None:
    require_engine("helm")
    release = _release("karpenter", "1.14.1", {"settings": {"clusterName": "c"}, "replicas": 3.0})
    pairs = helm.template(release, charts / "karpenter-1.14.1.tgz", kube_version="1.35.0")
    (deployment,) = [obj for _, obj in pairs if obj["kind"] == "Deployment"]
    assert deployment["spec"]["replicas"] == 3
    assert type(deployment["spec"]["replicas"]) is int


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_kubernetes_version_is_the_clusters(stack: str) -> None:
    version = stack_yaml(stack)["substrate:cluster"]["version"]
    assert helm.kubernetes_version(planned(stack)) == f"{version}.0"
    assert {r.kube_version for r in rendered(stack).releases} == {f"{version}.0"}


def test_cluster_objects_are_the_plan_and_every_release_as_installed() -> None:
    plan, render = planned("prod"), rendered("prod")
    objects = render.objects
    assert len(objects) == len(plan.manifests) + sum(len(r.objects) for r in render.releases)

    def one(kind: str, name: str) -> dict:
        (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
        return found

    # namespaced objects the chart leaves unqualified go into the release's namespace
    assert one("Deployment", "karpenter")["metadata"]["namespace"] == "karpenter"
    # cluster-scoped ones carry none
    assert "namespace" not in one("ClusterRole", "karpenter-core")["metadata"]
    # a custom resource takes the scope its CRD declares
    operator = one("Deployment", "kube-prometheus-stack-operator")
    assert operator["metadata"]["namespace"] == "monitoring"
    rules = [o for o in objects if o["kind"] == "PrometheusRule"]
    assert rules and all(o["metadata"].get("namespace") for o in rules)
    # the plan's own objects are there too
    assert any(o["kind"] == "ValidatingPolicy" for o in objects)


def test_created_before_follows_dependencies_and_parents_transitively() -> None:
    plan = planned("prod")
    before = helm.created_before(plan.records)
    urn = {r.name: r.urn for r in plan.records}
    # the stack's release waits for the CRD release through its component's depends_on
    assert urn["prometheus-crds-release"] in before[urn["prometheus-stack-release"]]
    # ... and, transitively, for everything the CRD release waited for
    assert before[urn["prometheus-crds-release"]] <= before[urn["prometheus-stack-release"]]
    assert urn["prometheus-stack-release"] not in before[urn["prometheus-crds-release"]]


def test_of_plan_is_everything_the_cluster_holds(charts: Path) -> None:
    """One call for other engines: the plan's objects and its releases' objects as installed."""
    assert cluster.of_plan(planned("dev"), charts) == list(rendered("dev").objects)
