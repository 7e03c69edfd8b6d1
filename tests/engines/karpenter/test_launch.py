"""What Karpenter launches for a gang of pods (substrate/engines/karpenter/launch.py): the v1.14
docs (concepts/nodepools.md "spec.limits": no node is provisioned past a limit;
concepts/scheduling.md "Weighted NodePools": the highest weight first, falling back to the
next) and kubernetes-sigs/karpenter v1.14.1 scheduler.go (a NodeClaim takes pods while one of
its instance types holds them all; types whose capacity exceeds what the pool has left are not
launched; the cheapest remaining option is launched)."""

from __future__ import annotations

from typing import Any

from substrate.engines.karpenter.launch import Cluster, launch

FAMILY = "karpenter.k8s.aws/instance-family"
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}


def pool(
    name: str,
    families: list[str],
    *,
    weight: int = 0,
    limits: dict[str, str] | None = None,
    taints: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "weight": weight,
            "limits": limits or {},
            "template": {
                "metadata": {"labels": {"pool": name}},
                "spec": {
                    "nodeClassRef": {"name": "default"},
                    "taints": taints or [],
                    "requirements": [{"key": FAMILY, "operator": "In", "values": families}],
                },
            },
        },
    }


def pod(requests: dict[str, str], **spec: Any) -> dict[str, Any]:
    return {"containers": [{"name": "c", "resources": {"requests": requests}}], **spec}


def placed(found) -> list[tuple[str, str, int]]:
    return [(n.pool, n.type.name, n.pods) for n in found.nodes]


GPU = pool("gpu", ["p4d", "p5"], taints=[GPU_TAINT], limits={"nvidia.com/gpu": "16"})
TOLERATE = [{"key": "nvidia.com/gpu", "operator": "Exists"}]


def test_a_nodeclaim_takes_as_many_pods_as_one_type_holds_then_the_cheapest_such_type() -> None:
    found = launch(
        pod({"cpu": "8", "memory": "64Gi", "nvidia.com/gpu": "1"}, tolerations=TOLERATE),
        4,
        Cluster([GPU], {}, []),
    )
    # one node can hold up to 8 of them (p4d.24xlarge, p5.48xlarge): the cheaper p4d takes 4
    assert placed(found) == [("gpu", "p4d.24xlarge", 4)] and found.pending == 0


def test_a_pod_that_does_not_tolerate_the_taint_gets_no_node() -> None:
    found = launch(pod({"nvidia.com/gpu": "1"}), 1, Cluster([GPU], {}, []))
    assert not found.fits and found.pending == 1
    assert found.pools[0].reason == "does not tolerate taint nvidia.com/gpu=true:NoSchedule"


def test_no_node_is_provisioned_past_the_limit() -> None:
    found = launch(pod({"nvidia.com/gpu": "8"}, tolerations=TOLERATE), 3, Cluster([GPU], {}, []))
    assert placed(found) == [("gpu", "p4d.24xlarge", 1)] * 2
    assert found.pending == 1 and found.limited == {"gpu": "nvidia.com/gpu"}


def test_past_the_weighted_pools_limit_the_next_pool_launches() -> None:
    small = pool("reserved", ["m6i"], weight=50, limits={"cpu": "16"})
    general = pool("general", ["m6i", "c7i"])
    found = launch(pod({"cpu": "6", "memory": "8Gi"}), 4, Cluster([general, small], {}, []))
    assert [n.pool for n in found.nodes] == ["reserved", "general"]
    assert found.nodes[0].type.name == "m6i.4xlarge" and found.nodes[0].pods == 2
    assert found.pending == 0


def test_daemonset_pods_that_run_on_the_node_take_their_requests_first() -> None:
    general = pool("general", ["m6i"])
    exact = {"cpu": "1930m", "memory": "6000Mi"}  # m6i.large: 1930m allocatable
    alone = launch(pod(exact), 1, Cluster([general], {}, []))
    assert placed(alone) == [("general", "m6i.large", 1)]
    daemon = {"spec": {"template": {"spec": pod({"cpu": "100m"})}}}
    elsewhere = {"spec": {"template": {"spec": pod({"cpu": "100m"}, nodeSelector={"pool": "gpu"})}}}
    crowded = launch(pod(exact), 1, Cluster([general], {}, [daemon, elsewhere]))
    assert placed(crowded) == [("general", "m6i.xlarge", 1)]
