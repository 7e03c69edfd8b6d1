"""EC2 instance families Substrate can put in a Karpenter NodePool, and what each one has.

Pure data. Facts per family come from the Karpenter v1.14 instance-type reference
(aws/karpenter-provider-aws `website/content/en/v1.14/reference/instance-types.md`: the labels
`karpenter.k8s.aws/instance-gpu-name`, `-gpu-count`, `-gpu-manufacturer`, `-accelerator-name`,
`-local-nvme` and `kubernetes.io/arch` that Karpenter puts on every size of the family, and each
size's `vpc.amazonaws.com/efa` resource) and, for
MIG, the NVIDIA Multi-Instance GPU user guide ("Supported GPUs": A30, A100, H100, H200, B200,
RTX PRO 6000 Blackwell Server Edition, ...). L40S, L4, A10G and T4 do not support MIG.

Add a family here (with its facts from the same reference) before a stack file may use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Accelerator = Literal["nvidia", "neuron"]
Arch = Literal["amd64", "arm64"]


@dataclass(frozen=True)
class InstanceFamily:
    name: str
    arch: Arch
    local_nvme: bool
    """Every size has NVMe instance store (Karpenter label instance-local-nvme)."""
    accelerator: Accelerator | None = None
    gpu: str | None = None
    """Karpenter's instance-gpu-name (NVIDIA) or instance-accelerator-name (Neuron)."""
    mig: bool = False
    """The GPU supports NVIDIA Multi-Instance GPU partitioning."""
    gpu_counts: tuple[int, ...] = ()
    """Distinct `karpenter.k8s.aws/instance-gpu-count` values across the family's sizes."""
    efa: tuple[int, ...] = ()
    """Distinct `vpc.amazonaws.com/efa` capacities across its sizes that have EFA."""


def _cpu(name: str, arch: Arch = "amd64", nvme: bool = False) -> InstanceFamily:
    return InstanceFamily(name, arch, nvme)


def _nvidia(
    name: str, gpu: str, counts: tuple[int, ...], efa: tuple[int, ...], mig: bool = False
) -> InstanceFamily:
    return InstanceFamily(name, "amd64", True, "nvidia", gpu, mig, counts, efa)


def _neuron(name: str, chip: str, nvme: bool) -> InstanceFamily:
    return InstanceFamily(name, "amd64", nvme, "neuron", chip)


FAMILIES: dict[str, InstanceFamily] = {
    f.name: f
    for f in (
        # General purpose, compute and memory optimised (EBS only).
        _cpu("m6i"),
        _cpu("m7i"),
        _cpu("m7a"),
        _cpu("m8i"),
        _cpu("c6i"),
        _cpu("c7i"),
        _cpu("r7i"),
        _cpu("m7g", "arm64"),
        _cpu("m8g", "arm64"),
        _cpu("c7g", "arm64"),
        # Same, with local NVMe instance store.
        _cpu("m6id", nvme=True),
        _cpu("c6id", nvme=True),
        _cpu("r6id", nvme=True),
        _cpu("m7gd", "arm64", nvme=True),
        _cpu("c7gd", "arm64", nvme=True),
        _cpu("m8gd", "arm64", nvme=True),
        # Storage optimised: dense NVMe.
        _cpu("i4i", nvme=True),
        _cpu("i7ie", nvme=True),
        _cpu("i8g", "arm64", nvme=True),
        _cpu("im4gn", "arm64", nvme=True),
        # NVIDIA GPUs (all sizes have local NVMe): GPU counts and EFA interfaces per size.
        _nvidia("g4dn", "t4", (1, 4, 8), (1,)),
        _nvidia("g5", "a10g", (1, 4, 8), (1,)),
        _nvidia("g6", "l4", (1, 4, 8), (1,)),
        _nvidia("g6e", "l40s", (1, 4, 8), (1, 2, 4)),
        _nvidia("gr6", "l4", (1,), (1,)),
        _nvidia("g7e", "rtx-pro-server-6000", (1, 2, 4, 8), (1, 2, 4), mig=True),
        _nvidia("p4d", "a100", (8,), (4,), mig=True),
        _nvidia("p4de", "a100", (8,), (4,), mig=True),
        _nvidia("p5", "h100", (1, 8), (1, 32), mig=True),
        _nvidia("p5e", "h200", (8,), (32,), mig=True),
        _nvidia("p5en", "h200", (8,), (16,), mig=True),
        _nvidia("p6-b200", "b200", (8,), (8,), mig=True),
        # AWS Neuron (Inferentia / Trainium).
        _neuron("inf2", "inferentia2", nvme=False),
        _neuron("trn1", "trainium", nvme=True),
        _neuron("trn1n", "trainium", nvme=True),
        _neuron("trn2", "trainium2", nvme=True),
    )
}


def family(name: str) -> InstanceFamily | None:
    return FAMILIES.get(name)
