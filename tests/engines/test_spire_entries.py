"""The spire-entries engine (our model of spire-controller-manager's ClusterSPIFFEID reconciler)
on the examples of the controller's own docs (docs/clusterspiffeid-crd.md "Examples" and
"Templates", docs/spire-controller-manager-config.md) and the reconciler's rules
(pkg/spireentry/reconciler.go: reconcileClass, IsIgnored, fallback processed last)."""

from __future__ import annotations

from typing import Any

import pytest

from substrate.engines import spire
from tests.helpers import require_engine

NS_SA = "spiffe://domain.test/ns/{{ .PodMeta.Namespace }}/sa/{{ .PodSpec.ServiceAccountName }}"
CONFIG = spire.ControllerConfig(
    trust_domain="domain.test",
    cluster_name="demo",
    class_name="spire-mgmt",
    watch_classless=False,
    ignore_namespaces=("kube-system", "kube-public", "spire-system"),
)


@pytest.fixture(scope="module", autouse=True)
def _engine() -> None:
    require_engine("spire-entries")


def csid(name: str, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"className": "spire-mgmt", **spec}}


def ns(name: str, **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name, **labels}}}


def pod(namespace: str, name: str, sa: str = "default", **labels: str) -> dict[str, Any]:
    return {
        "metadata": {"namespace": namespace, "name": name, "uid": f"uid-{name}", "labels": labels},
        "spec": {"serviceAccountName": sa, "containers": [{"name": "c", "image": "x"}]},
    }


NAMESPACES = [ns("payments", backend="true"), ns("web"), ns("kube-system", backend="true")]


def ids(
    cluster_spiffe_ids: list[dict[str, Any]],
    pods: list[dict[str, Any]],
    config: spire.ControllerConfig = CONFIG,
) -> list[list[str]]:
    answers = spire.entries(config, cluster_spiffe_ids, NAMESPACES, pods)
    return [[e.spiffe_id for e in a.entries] for a in answers]


def test_the_istio_style_example_selects_namespaces_labelled_backend() -> None:
    # docs example 1: namespaceSelector matchLabels backend: "true"
    backend = csid(
        "backend-workloads",
        spiffeIDTemplate=NS_SA,
        namespaceSelector={"matchLabels": {"backend": "true"}},
    )
    got = ids([backend], [pod("payments", "p", sa="ledger"), pod("web", "w")])
    assert got == [["spiffe://domain.test/ns/payments/sa/ledger"], []]


def test_the_banking_example_selects_pods_by_label_in_any_namespace() -> None:
    # docs example 2: podSelector matchLabels banking: "true" (no namespaceSelector: all)
    banking = csid(
        "backend-workloads",
        spiffeIDTemplate=NS_SA,
        podSelector={"matchLabels": {"banking": "true"}},
    )
    got = ids([banking], [pod("web", "a", banking="true"), pod("web", "b", banking="false")])
    assert got == [["spiffe://domain.test/ns/web/sa/default"], []]


def test_ignored_namespaces_get_nothing_even_when_selected() -> None:
    everything = csid("all", spiffeIDTemplate=NS_SA)
    (answer,) = spire.entries(CONFIG, [everything], NAMESPACES, [pod("kube-system", "k")])
    assert answer.ignored and answer.entries == ()


def test_only_the_controllers_class_is_reconciled() -> None:
    other = {
        **csid("other", spiffeIDTemplate=NS_SA),
        "spec": {"className": "someone-else", "spiffeIDTemplate": NS_SA},
    }
    classless = {"metadata": {"name": "classless"}, "spec": {"spiffeIDTemplate": NS_SA}}
    assert ids([other, classless], [pod("web", "w")]) == [[]]
    watching = spire.ControllerConfig(**{**CONFIG.__dict__, "watch_classless": True})
    assert ids([other, classless], [pod("web", "w")], watching) == [
        ["spiffe://domain.test/ns/web/sa/default"]
    ]


def test_a_fallback_applies_only_when_no_other_id_matches() -> None:
    fallback = csid("fallback", spiffeIDTemplate=NS_SA, fallback=True)
    agent = csid(
        "agent",
        spiffeIDTemplate="spiffe://domain.test/agent/{{ .PodMeta.Name }}",
        podSelector={"matchExpressions": [{"key": "role", "operator": "In", "values": ["agent"]}]},
    )
    got = ids([fallback, agent], [pod("web", "a", role="agent"), pod("web", "b")])
    assert got == [["spiffe://domain.test/agent/a"], ["spiffe://domain.test/ns/web/sa/default"]]


@pytest.mark.parametrize(
    ("expression", "selected"),
    [
        ({"key": "tier", "operator": "NotIn", "values": ["db"]}, ["none", "web"]),
        ({"key": "tier", "operator": "Exists"}, ["db", "web"]),
        ({"key": "tier", "operator": "DoesNotExist"}, ["none"]),
    ],
)
def test_match_expressions_follow_kubernetes_label_selectors(
    expression: dict[str, Any], selected: list[str]
) -> None:
    c = csid("c", spiffeIDTemplate=NS_SA, podSelector={"matchExpressions": [expression]})
    pods = [pod("web", "db", tier="db"), pod("web", "none"), pod("web", "web", tier="web")]
    got = ids([c], pods)
    assert [p["metadata"]["name"] for p, i in zip(pods, got, strict=True) if i] == selected


def test_an_id_outside_the_trust_domain_is_a_render_failure() -> None:
    # reconciler: renderSPIFFEID refuses an ID of another trust domain
    c = csid("bad", spiffeIDTemplate="spiffe://other.test/{{ .PodMeta.Name }}")
    (answer,) = spire.entries(CONFIG, [c], NAMESPACES, [pod("web", "w")])
    assert answer.entries == () and "expected trust domain" in answer.failures[0][1]


def test_the_templates_see_the_controllers_cluster_name_and_domain() -> None:
    c = csid(
        "c",
        spiffeIDTemplate="spiffe://{{ .TrustDomain }}/{{ .ClusterName }}/"
        '{{ .ClusterDomain }}/{{ index .PodMeta.Labels "app" }}',
    )
    assert ids([c], [pod("web", "w", app="shop")]) == [
        ["spiffe://domain.test/demo/cluster.local/shop"]
    ]


def test_workload_selectors_must_match_what_the_pod_attests() -> None:
    c = csid("c", spiffeIDTemplate=NS_SA, workloadSelectorTemplates=["k8s:sa:ledger"])
    ledger, other = pod("web", "a", sa="ledger"), pod("web", "b", sa="other")
    answers = spire.entries(CONFIG, [c], NAMESPACES, [ledger, other])
    assert [
        spire.unmet(a.entries[0], p) for a, p in zip(answers, [ledger, other], strict=True)
    ] == [[], ["k8s:sa:ledger"]]
