"""Capacity and allocatable of an instance type (substrate/engines/karpenter/instance_types.py)
against Karpenter's own numbers: its generated instance-type reference gives, for every size,
the allocatable cpu and memory it computes with the default kubelet configuration; and against
the formulas of the v1.14 docs (troubleshooting.md "Karpenter incorrectly computes available
resources for a node") for the EC2NodeClass `kubelet` example of concepts/nodeclasses.md."""

from __future__ import annotations

import math

from substrate.engines.karpenter.instance_types import (
    catalog,
    cpu_milli,
    default_kube_reserved_cpu,
    memory_mib,
)

NODECLASS_EXAMPLE_KUBELET = {
    "podsPerCore": 2,
    "maxPods": 20,
    "systemReserved": {"cpu": "100m", "memory": "100Mi", "ephemeral-storage": "1Gi"},
    "kubeReserved": {"cpu": "200m", "memory": "100Mi", "ephemeral-storage": "3Gi"},
    "evictionHard": {"memory.available": "5%", "nodefs.available": "10%"},
    "evictionSoft": {"memory.available": "500Mi"},
}


def by_name(name: str):
    (found,) = [t for t in catalog() if t.name == name]
    return found


def test_default_allocatable_is_karpenters_own_for_every_size() -> None:
    wrong = [
        (t.name, t.allocatable(), t.reference["cpu"], t.reference["memory"])
        for t in catalog()
        if t.allocatable()["cpu"] != cpu_milli(t.reference["cpu"])
        or t.allocatable()["memory"] != memory_mib(t.reference["memory"])
    ]
    assert len(catalog()) > 200 and not wrong, wrong[:3]


def test_default_kube_reserved_cpu_ranges() -> None:
    # 6% of the first core, 1% of the second, 0.5% of cores 3-4, 0.25% above
    assert default_kube_reserved_cpu(1) == 60
    assert default_kube_reserved_cpu(2) == 70
    assert default_kube_reserved_cpu(4) == 80
    assert default_kube_reserved_cpu(192) == 80 + math.floor(188_000 * 0.0025)


def test_the_nodeclass_kubelet_example() -> None:
    """m6i.large (2 vCPU, 8192 MiB) under the docs' kubelet example: maxPods 20 capped by
    podsPerCore 2 x 2 vCPUs; cpu less kube- and system-reserved; memory less the 7.5% VM
    overhead, both reservations and evictionHard's 5% of capacity (evictionSoft not counted)."""
    it = by_name("m6i.large")
    capacity = it.capacity(NODECLASS_EXAMPLE_KUBELET)
    allocatable = it.allocatable(NODECLASS_EXAMPLE_KUBELET)
    assert capacity == {"cpu": 2000, "memory": 8192 - 615, "pods": 4}
    assert allocatable["cpu"] == 2000 - 200 - 100
    assert allocatable["memory"] == 7577 - 100 - 100 - math.ceil(7577 * 0.05)


def test_graviton_memory_loses_its_cma_reservation() -> None:
    it = by_name("m7g.medium")
    assert it.arch == "arm64"
    assert it.capacity()["memory"] == (4096 - 64) - math.ceil((4096 - 64) * 0.075)


def test_gpu_efa_and_prices_are_the_references() -> None:
    p5 = by_name("p5.48xlarge")
    assert p5.capacity()["nvidia.com/gpu"] == 8
    assert p5.capacity()["vpc.amazonaws.com/efa"] == 32
    assert p5.labels["karpenter.k8s.aws/instance-gpu-name"] == "h100"
    p4d = by_name("p4d.24xlarge").price
    assert p5.price is not None and p4d is not None and p5.price > p4d


def test_efa_nodes_agree_with_the_instance_families() -> None:
    """The GPU families' EFA interface counts (instance_families, the reference's table) are
    those of the catalog's sizes, which size tenants' EFA quota."""
    from substrate.components.capacity.instance_families import FAMILIES
    from substrate.engines.karpenter.instance_types import efa_nodes

    for name, fam in FAMILIES.items():
        if fam.accelerator == "nvidia":
            assert sorted({e for _, e in efa_nodes([name])}) == sorted(fam.efa), name
    assert (8, 32) in efa_nodes(["p5"]) and (8, 4) in efa_nodes(["p4d"])
