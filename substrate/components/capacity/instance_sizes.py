"""The smallest EC2 instance of each family in substrate.components.capacity.instance_families:
what one node of
the family needs from a NodePool's limits. Pure data.

From the Karpenter v1.14 instance-type reference (aws/karpenter-provider-aws
`website/content/en/v1.14/reference/instance-types.md`, at the v1.14.1 docs commit): per size,
the labels `karpenter.k8s.aws/instance-cpu` (vCPUs), `instance-memory` (MiB) and
`instance-gpu-count` (NVIDIA) or `instance-accelerator-count` (Neuron devices). For every family
listed, its smallest size (fewest vCPUs, then least memory) is also the size with the fewest
vCPUs and the least memory per GPU or Neuron device, so one row per family answers both
questions the capacity checks ask: can the pool launch one node of the family at all, and can
it reach its GPU limit within its CPU and memory limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Size:
    name: str
    vcpus: int
    memory_mib: int
    accelerators: int = 0
    """NVIDIA GPUs or Neuron devices."""

    @property
    def vcpus_per_accelerator(self) -> Fraction:
        return Fraction(self.vcpus, self.accelerators)

    @property
    def memory_mib_per_accelerator(self) -> Fraction:
        return Fraction(self.memory_mib, self.accelerators)


SMALLEST: dict[str, Size] = {
    s.name.split(".", 1)[0]: s
    for s in (
        Size("m6i.large", 2, 8192),
        Size("m7i.large", 2, 8192),
        Size("m7a.medium", 1, 4096),
        Size("m8i.large", 2, 8192),
        Size("c6i.large", 2, 4096),
        Size("c7i.large", 2, 4096),
        Size("r7i.large", 2, 16384),
        Size("m7g.medium", 1, 4096),
        Size("m8g.medium", 1, 4096),
        Size("c7g.medium", 1, 2048),
        Size("m6id.large", 2, 8192),
        Size("c6id.large", 2, 4096),
        Size("r6id.large", 2, 16384),
        Size("m7gd.medium", 1, 4096),
        Size("c7gd.medium", 1, 2048),
        Size("m8gd.medium", 1, 4096),
        Size("i4i.large", 2, 16384),
        Size("i7ie.large", 2, 16384),
        Size("i8g.large", 2, 16384),
        Size("im4gn.large", 2, 8192),
        Size("g4dn.xlarge", 4, 16384, 1),
        Size("g5.xlarge", 4, 16384, 1),
        Size("g6.xlarge", 4, 16384, 1),
        Size("g6e.xlarge", 4, 32768, 1),
        Size("gr6.4xlarge", 16, 131072, 1),
        Size("g7e.2xlarge", 8, 65536, 1),
        Size("p4d.24xlarge", 96, 1179648, 8),
        Size("p4de.24xlarge", 96, 1179648, 8),
        Size("p5.4xlarge", 16, 262144, 1),
        Size("p5e.48xlarge", 192, 2097152, 8),
        Size("p5en.48xlarge", 192, 2097152, 8),
        Size("p6-b200.48xlarge", 192, 2097152, 8),
        Size("inf2.xlarge", 4, 16384, 1),
        Size("trn1.2xlarge", 8, 32768, 1),
        Size("trn1n.32xlarge", 128, 524288, 16),
        Size("trn2.48xlarge", 192, 2097152, 16),
    )
}
"""Instance family -> its smallest size."""
