"""kube-state-metrics, as Helm renders it from the plan's kube-prometheus-stack release, exports
every series and label the shipped rules read.

The rules join on allowlisted labels (`label_substrate_io_tenant`, `label_substrate_io_pool`,
...): a label kube-state-metrics does not export makes a join silently empty, so chargeback
records and node alerts would show nothing rather than fail. The real Helm renders the pinned
chart package with the release's values (tests/helm/rendered.py, once per session); the test
reads the container's arguments.
"""

from __future__ import annotations

import re

import pytest

from substrate.components.observability.rules_common import kube_label
from substrate.plan.command import PlanResult
from tests.conftest import planned
from tests.helm.rendered import rendered
from tests.helpers import STACKS

KSM_DEPLOYMENT = "charts/kube-state-metrics/templates/deployment.yaml"
RESOURCE_OF_FAMILY = {
    # kube-state-metrics metric family prefix -> the --resources entry that exports it
    "kube_pod_": "pods",
    "kube_node_": "nodes",
    "kube_namespace_": "namespaces",
    "kube_persistentvolumeclaim_": "persistentvolumeclaims",
    "kube_persistentvolume_": "persistentvolumes",
}


def ksm_args(stack: str) -> tuple[str, ...]:
    """The kube-state-metrics container arguments of the stack's kube-prometheus-stack release,
    as the helm engine renders it from the pinned chart package (tests.helm.rendered)."""
    (release,) = rendered(stack).of_chart("kube-prometheus-stack")
    (deployment,) = [
        obj
        for obj, source in zip(release.objects, release.sources, strict=True)
        if source.endswith(KSM_DEPLOYMENT)
    ]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return tuple(container["args"])


def _flag(args: tuple[str, ...], name: str) -> str:
    values = [a.split("=", 1)[1] for a in args if a.startswith(f"--{name}=")]
    assert len(values) == 1, f"--{name} appears {len(values)} times in {args}"
    return values[0]


def exported_labels(args: tuple[str, ...]) -> set[str]:
    """Prometheus label names of the Kubernetes labels `--metric-labels-allowlist` exports."""
    allow = _flag(args, "metric-labels-allowlist")
    keys = [k for _, group in re.findall(r"(\w+)=\[([^\]]*)\]", allow) for k in group.split(",")]
    return {kube_label(k) for k in keys if k}


def rule_expressions(plan: PlanResult) -> list[str]:
    return [
        rule["expr"]
        for body in plan.manifests.values()
        if body["kind"] == "PrometheusRule"
        for group in body["spec"]["groups"]
        for rule in group["rules"]
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_every_kube_label_the_rules_read_is_exported(stack: str) -> None:
    read = {
        label
        for expr in rule_expressions(planned(stack))
        for label in re.findall(r"\blabel_[a-z0-9_]+", expr)
        if not label.startswith("label_replace")
    }
    assert read, "the rules read no kube-state-metrics label: the check would prove nothing"
    assert read <= exported_labels(ksm_args(stack))


@pytest.mark.parametrize("stack", STACKS)
def test_every_kube_state_metrics_family_the_rules_read_is_collected(stack: str) -> None:
    collected = set(_flag(ksm_args(stack), "resources").split(","))
    families = {
        name
        for expr in rule_expressions(planned(stack))
        for name in re.findall(r"\bkube_[a-z_]+", expr)
    }
    needed = set()
    for family in families:
        # the longest matching prefix names the resource (persistentvolumeclaim before
        # persistentvolume)
        prefixes = [p for p in RESOURCE_OF_FAMILY if family.startswith(p)]
        assert prefixes, f"{family}: which kube-state-metrics resource exports it?"
        prefix = max(prefixes, key=len)
        needed.add(RESOURCE_OF_FAMILY[prefix])
    assert {"pods", "nodes", "namespaces", "persistentvolumes"} <= needed
    assert needed <= collected
