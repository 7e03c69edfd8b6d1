"""The spark-operator release as Helm renders it from the pinned chart (fetched by `make
charts`) with the plan's values: controller and webhook on the system nodes, every webhook and
the controller scoped to the Spark tenants' namespaces, the `spark` service account that the
Pod Identity association names in each of them."""

from __future__ import annotations

from typing import Any

import pytest

from substrate.components.core.labels import CRITICAL_ADDONS_TOLERATION, SYSTEM_NODE_SELECTOR
from substrate.components.workloads.spark_operator import SERVICE_ACCOUNT
from tests.conftest import planned
from tests.helm.rendered import rendered
from tests.helpers import stack_yaml, typed_config
from tests.journeys.test_spark import SPARK_STACKS


def _objects(stack: str) -> list[dict[str, Any]]:
    render = rendered(stack)
    (release,) = render.of_chart("spark-operator")
    return render.installed(release)


def _spark_namespaces(stack: str) -> list[str]:
    cfg = typed_config(stack_yaml(stack))
    assert cfg.workloads.spark is not None
    return sorted(ns for t in cfg.workloads.spark.tenants for ns in cfg.tenants[t].namespaces)


@pytest.mark.parametrize("stack", SPARK_STACKS)
def test_operator_runs_on_system_nodes_and_watches_only_spark_namespaces(stack: str) -> None:
    namespaces = _spark_namespaces(stack)
    deployments = [o for o in _objects(stack) if o["kind"] == "Deployment"]
    assert len(deployments) == 2  # controller and webhook
    for deployment in deployments:
        pod = deployment["spec"]["template"]["spec"]
        assert SYSTEM_NODE_SELECTOR.items() <= pod["nodeSelector"].items()
        assert dict(CRITICAL_ADDONS_TOLERATION) in pod["tolerations"]
        (container,) = pod["containers"]
        assert f"--namespaces={','.join(namespaces)}" in container["args"]


@pytest.mark.parametrize("stack", SPARK_STACKS)
def test_every_operator_webhook_is_scoped_to_spark_namespaces(stack: str) -> None:
    scope = {
        "matchExpressions": [
            {
                "key": "kubernetes.io/metadata.name",
                "operator": "In",
                "values": _spark_namespaces(stack),
            }
        ]
    }
    kinds = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
    webhooks = [w for o in _objects(stack) if o["kind"] in kinds for w in o["webhooks"]]
    assert webhooks
    assert [w["name"] for w in webhooks if w.get("namespaceSelector") != scope] == []


@pytest.mark.parametrize("stack", SPARK_STACKS)
def test_each_spark_namespace_has_the_service_account_its_s3_role_is_for(stack: str) -> None:
    objects = _objects(stack)
    accounts = {
        o["metadata"]["namespace"]
        for o in objects
        if o["kind"] == "ServiceAccount" and o["metadata"]["name"] == SERVICE_ACCOUNT
    }
    associated = {
        r.inputs["namespace"]
        for r in planned(stack).records
        if r.type == "aws:eks/podIdentityAssociation:PodIdentityAssociation"
        and r.inputs["serviceAccount"] == SERVICE_ACCOUNT
    }
    assert accounts == associated == set(_spark_namespaces(stack))
    bindings = [
        o for o in objects if o["kind"] == "RoleBinding" and o["metadata"]["namespace"] in accounts
    ]
    assert {b["metadata"]["namespace"] for b in bindings} == accounts


@pytest.mark.parametrize("stack", SPARK_STACKS)
def test_the_planned_pod_monitor_selects_the_controllers_metrics_port(stack: str) -> None:
    (monitor,) = [
        m
        for m in planned(stack).manifests.values()
        if m["kind"] == "PodMonitor" and m["metadata"]["name"] == "spark-operator-controller"
    ]
    selector = monitor["spec"]["selector"]["matchLabels"]
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    selected = [
        o
        for o in _objects(stack)
        if o["kind"] == "Deployment"
        and selector.items() <= o["spec"]["template"]["metadata"]["labels"].items()
        and o["metadata"]["namespace"] in monitor["spec"]["namespaceSelector"]["matchNames"]
    ]
    assert [d["metadata"]["name"] for d in selected] == ["spark-operator-controller"]
    ports = [
        p["name"]
        for c in selected[0]["spec"]["template"]["spec"]["containers"]
        for p in c.get("ports", [])
    ]
    assert endpoint["port"] in ports
