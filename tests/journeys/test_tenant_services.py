"""Services a tenant may expose: load balancers where it declared them, never a node port.

The tenant's ResourceQuota holds `services.loadbalancers` (the stack's
`network.ingress.loadBalancers.services`, 0 without load-balancer ingress) and
`services.nodeports: 0`. The apiserver engine runs kube-apiserver's ResourceQuota admission
plugin against each namespace's quota as the quota controller leaves it before the request;
quota usage accumulates over the objects of one request, in order.
"""

from __future__ import annotations

from typing import Any

import pytest

from substrate.engines import apiserver
from tests.helpers import STACKS, stack_yaml
from tests.journeys.cluster import stack, tenant_engineer
from tests.journeys.journey import journey

DOC = "docs/workloads.md#load-balancers-and-node-ports"
LB_STACKS = [
    s
    for s in STACKS
    if stack_yaml(s)["substrate:tenants"]["inference"]
    .get("network", {})
    .get("ingress", {})
    .get("loadBalancers")
]
"""Stacks where the inference tenant declares load-balancer ingress (staging and prod, on 8443)."""


def service(name: str, namespace: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "type": kind,
            "selector": {"app": "api"},
            "ports": [{"port": 443, "targetPort": 8443, "protocol": "TCP"}],
            **extra,
        },
    }


def public_api(name: str, namespace: str = "inference") -> dict[str, Any]:
    """A Service the AWS Load Balancer Controller serves with IP targets: no node ports."""
    return service(name, namespace, "LoadBalancer", allocateLoadBalancerNodePorts=False)


def refusal(result: apiserver.Admission) -> tuple[bool, str]:
    return result.created, result.refused_by


@journey(
    user="inference engineer of tenant inference",
    stack="staging, prod",
    steps=[
        "create a LoadBalancer Service with `allocateLoadBalancerNodePorts: false`",
        "create a second one in the same namespace",
    ],
    outcome="the first is created; the second is refused by the ResourceQuota plugin "
    "(services.loadbalancers: the stack allows one per namespace)",
    docs=[DOC],
)
@pytest.mark.parametrize("name", LB_STACKS)
def test_a_tenant_gets_the_load_balancers_it_declared(name: str) -> None:
    run = stack(name).create([public_api("api"), public_api("api-2")], tenant_engineer("inference"))
    first, second = run.results
    assert refusal(first) == (True, "")
    assert refusal(second) == (False, "ResourceQuota")
    assert "services.loadbalancers" in second.errors[0]


@journey(
    user="inference engineer of tenant inference",
    stack="staging, prod",
    steps=["create a LoadBalancer Service that keeps the default node-port allocation"],
    outcome="refused by the ResourceQuota plugin: the Service would take node ports "
    "(services.nodeports is 0)",
    docs=[DOC],
)
@pytest.mark.parametrize("name", LB_STACKS)
def test_a_load_balancer_with_node_ports_is_refused(name: str) -> None:
    (result,) = (
        stack(name)
        .create([service("api", "inference", "LoadBalancer")], tenant_engineer("inference"))
        .results
    )
    assert refusal(result) == (False, "ResourceQuota")
    assert "services.nodeports" in result.errors[0]


@journey(
    user="engineers of every tenant",
    stack="every stack",
    steps=[
        "create a NodePort Service",
        "in a tenant without load-balancer ingress, create a LoadBalancer Service",
        "create a ClusterIP Service",
    ],
    outcome="the NodePort and the undeclared LoadBalancer are refused by the ResourceQuota "
    "plugin; the ClusterIP Service is created",
    docs=[DOC],
)
@pytest.mark.parametrize("name", STACKS)
def test_no_node_ports_and_no_undeclared_load_balancers(name: str) -> None:
    s = stack(name)
    engineer = tenant_engineer("data-eng")
    node_port, balancer, internal = s.create(
        [
            service("np", "data-eng", "NodePort"),
            public_api("lb", "data-eng"),
            service("internal", "data-eng", "ClusterIP"),
        ],
        engineer,
    ).results
    assert refusal(node_port) == (False, "ResourceQuota")
    assert refusal(balancer) == (False, "ResourceQuota")
    assert "services.loadbalancers" in balancer.errors[0]
    assert refusal(internal) == (True, "")
