"""Tenant admins can read the cluster-scoped queue objects docs/workloads.md tells them to
inspect (`kubectl get clusterqueue <tenant>`), and not other tenants' ClusterQueues."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import planned
from tests.helpers import STACKS, stack_yaml, typed_config

RBAC = "rbac.authorization.k8s.io/v1"


def _of(stack: str, kind: str) -> dict[str, dict[str, Any]]:
    return {
        m["metadata"]["name"]: m
        for m in planned(stack).manifests.values()
        if m["kind"] == kind and m["apiVersion"] in (RBAC, "kueue.x-k8s.io/v1beta2")
    }


@pytest.mark.parametrize("stack", STACKS)
def test_tenant_admins_read_their_own_cluster_queue_only(stack: str) -> None:
    tenants = typed_config(stack_yaml(stack)).tenants
    queues = _of(stack, "ClusterQueue")
    roles = _of(stack, "ClusterRole")
    bindings = _of(stack, "ClusterRoleBinding")
    with_admins = [name for name, t in tenants.items() if t.admins]
    assert with_admins, "the stack declares tenant admins"
    for name in with_admins:
        reader = f"substrate:tenant-queues:{name}"
        binding = bindings[reader]
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": reader,
        }
        (subject,) = binding["subjects"]
        assert subject == {
            "kind": "Group",
            "name": f"substrate:tenant:{name}:admins",
            "apiGroup": "rbac.authorization.k8s.io",
        }
        rules = roles[reader]["rules"]
        named = [r for r in rules if "clusterqueues" in r["resources"]]
        (own,) = named
        assert own["resourceNames"] == [name] and name in queues
        assert set(own["verbs"]) == {"get", "watch"}
        others = [r for r in rules if r is not own]
        assert {res for r in others for res in r["resources"]} == {"resourceflavors", "cohorts"}
        assert all(set(r["verbs"]) <= {"get", "list", "watch"} for r in rules)
