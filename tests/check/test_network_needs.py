"""How `substrate check` reads the network annotations and names the analyzer's ends
(substrate/check/network.py): a Service's port becomes the target port of the workload it
selects, an unknown peer gets a stand-in pod, entries that name nothing are reported."""

from __future__ import annotations

import pytest

from substrate.check.network import NeedError, Peers, declared
from substrate.engines import netpol

SERVICE = {
    "kind": "Service",
    "metadata": {"name": "llama", "namespace": "inference"},
    "spec": {"selector": {"app": "llama"}, "ports": [{"port": 80, "targetPort": "http"}]},
}
DEPLOYMENT = {
    "kind": "Deployment",
    "metadata": {"name": "llama-v2", "namespace": "inference"},
    "spec": {
        "template": {
            "metadata": {"labels": {"app": "llama", "version": "2"}},
            "spec": {
                "containers": [{"name": "s", "ports": [{"name": "http", "containerPort": 8000}]}]
            },
        }
    },
}


def peers() -> Peers:
    return Peers([dict(DEPLOYMENT)], [SERVICE])


def test_both_annotations_are_read_entry_by_entry() -> None:
    obj = {
        "metadata": {
            "annotations": {"substrate.io/egress": "s3, aws:sts,", "substrate.io/ingress": "a/b:1"}
        }
    }
    assert declared(obj) == [("egress", "s3"), ("egress", "aws:sts"), ("ingress", "a/b:1")]


def test_a_service_port_is_the_selected_workloads_named_target_port() -> None:
    assert peers().resolve("inference", "llama", 80) == ("inference/llama-v2", 8000)


def test_a_port_the_service_does_not_have_is_reported() -> None:
    with pytest.raises(NeedError, match="has no port 8080"):
        peers().resolve("inference", "llama", 8080)


def test_an_unknown_peer_gets_a_stand_in_pod_declaring_the_port() -> None:
    world = peers()
    assert world.resolve("agents", "caller", 9000) == ("agents/caller", 9000)
    stand_in = world.workload("agents", "caller")
    assert stand_in is not None and stand_in["kind"] in netpol.WORKLOAD_KINDS
    ports = stand_in["spec"]["template"]["spec"]["containers"][0]["ports"]
    assert ports == [{"containerPort": 9000, "protocol": "TCP"}]
