"""Which NodePool a pod lands on: the v1.14 Scheduling page, "Weighted NodePools" (its
"Savings Plans and Reserved Instances" and "Fallback" examples), the NodePools page
("spec.weight": no weight is weight 0; "if multiple NodePools are matched, Karpenter will use
the NodePool with the highest weight") and OrderByWeight's tie-break by name, descending."""

from __future__ import annotations

from typing import Any

from substrate.engines.karpenter.scheduling import order_by_weight, pool_for


def pool(
    name: str, requirements: list[dict[str, Any]], weight: int | None = None, **spec: Any
) -> dict:
    out: dict[str, Any] = {
        "metadata": {"name": name},
        "spec": {"template": {"spec": {"requirements": requirements, **spec}}},
    }
    if weight is not None:
        out["spec"]["weight"] = weight
    return out


def pod(
    node_selector: dict[str, str] | None = None, requests: dict[str, str] | None = None
) -> dict:
    return {
        "spec": {
            "nodeSelector": node_selector or {},
            "containers": [{"name": "c", "resources": {"requests": requests or {}}}],
        }
    }


def nothing_extended(_np: object) -> set[str]:
    return set()


ARCH = "kubernetes.io/arch"
DEFAULT = pool(
    "default",
    [
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot", "on-demand"]},
        {"key": ARCH, "operator": "In", "values": ["amd64"]},
    ],
    weight=50,
)
ARM = pool(
    "arm64-specific",
    [
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot", "on-demand"]},
        {"key": ARCH, "operator": "In", "values": ["arm64"]},
        {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["a1.large"]},
    ],
)


def test_fallback_pods_without_constraints_go_to_the_weighted_default() -> None:
    assert pool_for(pod(), [ARM, DEFAULT], nothing_extended) == "default"


def test_a_pod_that_needs_arm64_falls_to_the_pool_that_has_it() -> None:
    assert pool_for(pod({ARCH: "arm64"}), [ARM, DEFAULT], nothing_extended) == "arm64-specific"


def test_reserved_instances_are_tried_before_the_default_pool() -> None:
    reserved = pool(
        "reserved-instance",
        [{"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["c4.large"]}],
        weight=50,
    )
    general = pool("default", [{"key": ARCH, "operator": "In", "values": ["amd64"]}])
    assert pool_for(pod(), [general, reserved], nothing_extended) == "reserved-instance"


def test_equal_weights_go_in_descending_name_order() -> None:
    names = [
        np["metadata"]["name"]
        for np in order_by_weight(
            [pool("inference", []), pool("training", []), pool("a", [], weight=1)]
        )
    ]
    assert names == ["a", "training", "inference"]


def test_a_pool_whose_taint_the_pod_does_not_tolerate_is_skipped() -> None:
    taint = {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}
    tainted = pool("gpu", [], weight=100, taints=[taint])
    plain = pool("general", [])
    assert pool_for(pod(), [tainted, plain], nothing_extended) == "general"
    tolerant = pod()
    tolerant["spec"]["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists"}]
    assert pool_for(tolerant, [tainted, plain], nothing_extended) == "gpu"


def test_a_pool_without_the_requested_extended_resource_is_skipped() -> None:
    gpu = pool("gpu", [])
    cpu = pool("cpu", [], weight=10)
    offers = {"gpu": {"nvidia.com/gpu"}, "cpu": set()}
    wants_gpu = pod(requests={"nvidia.com/gpu": "1"})
    assert pool_for(wants_gpu, [gpu, cpu], lambda np: offers[np["metadata"]["name"]]) == "gpu"
