"""The EC2 instance types a Karpenter v1.14 NodePool may launch, as Karpenter sees them.

Facts come from instance_types.json, extracted by tools/karpenter_instance_types.py from
aws/karpenter-provider-aws (its provenance is in the file's "source"): per size, the labels
Karpenter puts on the node, the resources of its generated reference (allocatable with the
default kubelet configuration) and the on-demand price Karpenter ships.

Capacity and allocatable follow aws/karpenter-provider-aws v1.14 (docs
`troubleshooting.md` "Karpenter incorrectly computes available resources for a node",
`concepts/nodeclasses.md` "Reserved Resources", "Eviction Thresholds", "Pod Density"):

    capacity.cpu       = vCPUs
    capacity.memory    = memory - ceil(memory * VM_MEMORY_OVERHEAD_PERCENT (0.075))
                         (Graviton: memory less 64 MiB first)
    capacity.pods      = kubelet.maxPods, else the ENI-limited pods of the reference,
                         capped by kubelet.podsPerCore * vCPUs
    allocatable.cpu    = capacity.cpu - kubeReserved.cpu - systemReserved.cpu
                         (kubeReserved.cpu default: 6% of the first core, 1% of the second,
                         0.5% of the next two, 0.25% of the rest)
    allocatable.memory = capacity.memory - kubeReserved.memory - systemReserved.memory
                         - evictionHard memory.available
                         (defaults: 11 MiB * pods + 255 MiB; none; 100 MiB)

The tests hold these formulas to the reference's own allocatable for every size.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

from substrate.components.workloads.tenancy import quantity

CATALOG = Path(__file__).with_name("instance_types.json")
VM_MEMORY_OVERHEAD_PERCENT = Fraction(75, 1000)
EVICTION_HARD_MEMORY_MIB = 100
CPU_RANGES = ((0, 1000, Fraction(6, 100)), (1000, 2000, Fraction(1, 100)))
CPU_RANGES += ((2000, 4000, Fraction(5, 1000)), (4000, 1 << 31, Fraction(25, 10000)))
FAMILY = "karpenter.k8s.aws/instance-family"
EXTENDED = ("nvidia.com/gpu", "aws.amazon.com/neuron", "vpc.amazonaws.com/efa")

Resources = dict[str, int]
"""cpu in millicores, memory in MiB, pods and extended resources as counts."""


def cpu_milli(text: str | int) -> int:
    return math.ceil(quantity(text) * 1000)


def memory_mib(text: str | int) -> int:
    return math.ceil(quantity(text) / 2**20)


@dataclass(frozen=True)
class InstanceType:
    name: str
    labels: Mapping[str, str]
    reference: Mapping[str, str]
    """The generated reference's resources (default kubelet configuration)."""
    price: float | None
    """On-demand USD per hour in the catalog's pricing region (None: not priced)."""

    @property
    def family(self) -> str:
        return self.labels[FAMILY]

    @property
    def vcpus(self) -> int:
        return int(self.labels["karpenter.k8s.aws/instance-cpu"])

    @property
    def memory_mib(self) -> int:
        return int(self.labels["karpenter.k8s.aws/instance-memory"])

    @property
    def arch(self) -> str:
        return self.labels["kubernetes.io/arch"]

    def label(self, key: str) -> str | None:
        return self.labels.get(key)

    def capacity(self, kubelet: Mapping[str, Any] | None = None) -> Resources:
        kubelet = kubelet or {}
        memory = self.memory_mib - (64 if self.arch == "arm64" else 0)
        memory -= math.ceil(memory * VM_MEMORY_OVERHEAD_PERCENT)
        pods = int(kubelet.get("maxPods") or self.reference["pods"])
        if kubelet.get("podsPerCore"):
            pods = min(pods, int(kubelet["podsPerCore"]) * self.vcpus)
        out = {"cpu": self.vcpus * 1000, "memory": memory, "pods": pods}
        for name in EXTENDED:
            if name in self.reference:
                out[name] = int(self.reference[name])
        return out

    def allocatable(self, kubelet: Mapping[str, Any] | None = None) -> Resources:
        kubelet = kubelet or {}
        capacity = self.capacity(kubelet)
        kube = kubelet.get("kubeReserved") or {}
        system = kubelet.get("systemReserved") or {}
        cpu = cpu_milli(kube["cpu"]) if "cpu" in kube else default_kube_reserved_cpu(self.vcpus)
        cpu += cpu_milli(system.get("cpu", 0))
        memory = memory_mib(kube["memory"]) if "memory" in kube else 11 * capacity["pods"] + 255
        memory += memory_mib(system.get("memory", 0))
        memory += eviction_mib(capacity["memory"], kubelet.get("evictionHard") or {})
        return {**capacity, "cpu": capacity["cpu"] - cpu, "memory": capacity["memory"] - memory}


def default_kube_reserved_cpu(vcpus: int) -> int:
    """kube-reserved CPU in millicores, the EKS AMIs' ranges."""
    milli = vcpus * 1000
    total = 0
    for start, end, share in CPU_RANGES:
        if milli >= start:
            total += math.floor((min(milli, end) - start) * share)
    return total


def eviction_mib(capacity_mib: int, eviction_hard: Mapping[str, str]) -> int:
    """The evictionHard memory.available threshold (100Mi unless set; a percentage of capacity)."""
    value = eviction_hard.get("memory.available")
    if value is None:
        return EVICTION_HARD_MEMORY_MIB
    if str(value).endswith("%"):
        return math.ceil(capacity_mib * 2**20 * Fraction(str(value)[:-1]) / 100 / 2**20)
    return memory_mib(value)


@cache
def _load() -> tuple[dict[str, Any], tuple[InstanceType, ...]]:
    data = json.loads(CATALOG.read_text())
    types = tuple(
        InstanceType(name, t["labels"], t["resources"], t.get("onDemandPrice"))
        for name, t in sorted(data["types"].items())
    )
    return data["source"], types


def catalog() -> tuple[InstanceType, ...]:
    """Every instance type of the catalog, by name."""
    return _load()[1]


def source() -> Mapping[str, Any]:
    return _load()[0]


def pricing_region() -> str:
    return str(source()["prices"]["region"])


def efa_nodes(families: Iterable[str]) -> list[tuple[int, int]]:
    """(`nvidia.com/gpu`, `vpc.amazonaws.com/efa`) per node of every GPU instance type with EFA
    in `families`, as the generated reference lists them; distinct and sorted."""
    wanted = set(families)
    return sorted(
        {
            (int(t.reference["nvidia.com/gpu"]), int(t.reference["vpc.amazonaws.com/efa"]))
            for t in catalog()
            if t.family in wanted
            and int(t.reference.get("nvidia.com/gpu", 0))
            and int(t.reference.get("vpc.amazonaws.com/efa", 0))
        }
    )
