"""The NetworkPolicy engine wrapper: it reads the analyzer's own list, fails loudly on input the
analyzer cannot read, and the analyzer handles the policy features the platform relies on
(named ports, endPort, ipBlock with except, namespace AND pod selectors, default deny,
AdminNetworkPolicy precedence). Expected verdicts follow the Kubernetes NetworkPolicy and
network-policy-api documentation."""

from __future__ import annotations

from typing import Any

import pytest

from substrate.engines import EngineFailedError
from substrate.engines.netpol import Ports, analyze, workload
from tests.helpers import require_engine


@pytest.fixture(autouse=True)
def _engine() -> None:
    require_engine("netpol")


def ns(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def policy(namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"podSelector": {}, **spec},
    }


SERVER_PORTS = [{"name": "http", "containerPort": 8080}, {"name": "metrics", "containerPort": 9090}]
CLUSTER = [
    ns("a", team="a"),
    ns("b", team="b"),
    ns("c", team="a-lookalike"),
    workload("Deployment", "a", "client", {"app": "client"}),
    workload("Deployment", "c", "client", {"app": "client"}),
    workload("StatefulSet", "b", "server", {"app": "server"}, SERVER_PORTS),
    policy("a", "default-deny", {"policyTypes": ["Ingress", "Egress"]}),
    policy("c", "default-deny", {"policyTypes": ["Ingress", "Egress"]}),
    policy("b", "default-deny", {"policyTypes": ["Ingress"]}),
    policy(
        "a",
        "egress",
        {
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [{"namespaceSelector": {"matchLabels": {"team": "b"}}}],
                    "ports": [{"protocol": "TCP", "port": "http"}],
                },
                {
                    "to": [{"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.0.1.0/24"]}}],
                    "ports": [{"protocol": "TCP", "port": 443}],
                },
                {
                    "to": [{"ipBlock": {"cidr": "10.9.0.0/16"}}],
                    "ports": [{"protocol": "TCP", "port": 5000, "endPort": 5010}],
                },
            ],
        },
    ),
    policy("c", "egress", {"policyTypes": ["Egress"], "egress": [{}]}),
    policy(
        "b",
        "from-a-clients",
        {
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {"matchLabels": {"team": "a"}},
                            "podSelector": {"matchLabels": {"app": "client"}},
                        }
                    ],
                    "ports": [{"protocol": "TCP", "port": "http"}],
                }
            ],
        },
    ),
]


def test_connection_sets_read_as_the_analyzer_prints_them() -> None:
    assert Ports.parse("All Connections").allows(1, "SCTP")
    both = Ports.parse("TCP 53,UDP 53")
    assert both.allows(53, "UDP") and both.allows(53) and not both.allows(54)
    gap = Ports.parse("TCP 1-79,81-65535,UDP 53")
    assert gap.allows(79) and not gap.allows(80) and gap.allows(65535) and not gap.allows(54, "UDP")
    assert Ports.parse("TCP http") == Ports(False, ())  # unresolved named port: no number
    with pytest.raises(ValueError, match="unexpected connection set"):
        Ports.parse("53")


def test_named_ports_and_namespace_and_pod_selectors() -> None:
    reach = analyze(CLUSTER)
    # "http" resolves to the server's 8080; its other port stays closed.
    assert reach.ports("a/client", "b/server") == Ports(False, (("TCP", 8080, 8080),))
    # Same pod labels, namespace not selected: the ingress rule's two selectors are ANDed.
    assert reach.ports("c/client", "b/server") == Ports(False, ())
    # Default deny: nothing reaches a's pods.
    assert reach.reaching("a/client") == {}


def test_ip_blocks_with_except_and_port_ranges() -> None:
    reach = analyze(CLUSTER)
    assert reach.allows("a/client", "10.0.0.5", 443)
    assert not reach.allows("a/client", "10.0.1.5", 443)  # except
    assert not reach.allows("a/client", "10.0.0.5", 80)
    assert reach.allows("a/client", "10.9.1.1", 5010) and not reach.allows(
        "a/client", "10.9.1.1", 5011
    )
    assert not reach.allows("a/client", "192.0.2.1", 443)


def test_admin_network_policy_deny_wins_over_a_namespace_allow() -> None:
    deny = {
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": "AdminNetworkPolicy",
        "metadata": {"name": "no-a-to-b"},
        "spec": {
            "priority": 10,
            "subject": {"namespaces": {"matchLabels": {"team": "b"}}},
            "ingress": [
                {
                    "name": "deny-a",
                    "action": "Deny",
                    "from": [{"namespaces": {"matchLabels": {"team": "a"}}}],
                }
            ],
        },
    }
    assert analyze([*CLUSTER, deny]).ports("a/client", "b/server") == Ports(False, ())


def test_one_run_per_distinct_object_set() -> None:
    first = analyze(CLUSTER)
    assert analyze(list(reversed(CLUSTER))) is first
    assert analyze([*CLUSTER, ns("d")]) is not first


def test_questions_the_list_cannot_answer_are_refused() -> None:
    reach = analyze(CLUSTER)
    with pytest.raises(KeyError, match="no workload 'a/typo'"):
        reach.ports("a/typo", "b/server")
    with pytest.raises(ValueError, match="to itself"):
        reach.ports("a/client", "a/client")
    with pytest.raises(ValueError):
        reach.ports("a/client", "not-an-address")


def test_objects_the_analyzer_rejects_fail_loudly() -> None:
    bad = policy(
        "a",
        "bad",
        {"policyTypes": ["Egress"], "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/33"}}]}]},
    )
    with pytest.raises(EngineFailedError, match="invalid CIDR"):
        analyze([*CLUSTER, bad])


def test_objects_the_analyzer_skips_fail_loudly_too() -> None:
    """v1.4.4 drops an unreadable workload with a message and exit status 0: the verdict would
    silently lack it."""
    skipped = workload("Deployment", "a", "weird", {"app": "weird"})
    skipped["spec"]["replicas"] = "two"
    with pytest.raises(EngineFailedError, match="malformed"):
        analyze([*CLUSTER, skipped])
