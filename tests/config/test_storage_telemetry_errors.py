"""Storage and telemetry stack data (issue 12 §4-§6): exact one-line errors.

- Prometheus keeps the per-minute chargeback records: a retention shorter than a month plus the
  days to close it is refused.
- `agent-gp3` volumes get `agentMemoryIops` and `agentMemoryThroughput`: gp3's limits (0.25 MiB/s
  per IOPS, 500 IOPS per GiB) are checked where the stack file states them.
- A node class whose pools all launch instances with local NVMe holds only the OS on EBS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import config_error, stack_yaml, typed_config

Mutation = Callable[[dict[str, Any]], object]


def _set(section: str, *path: object) -> Mutation:
    """Set `section.<keys...>` to the last item of ``path``."""
    *keys, value = path

    def mutate(raw: dict[str, Any]) -> None:
        node = raw.setdefault(section, {})
        for key in keys[:-1]:
            node = node.setdefault(str(key), {})
        node[str(keys[-1])] = value

    return mutate


CASES: list[tuple[str, str, Mutation, str]] = [
    (
        "retention shorter than a month plus its close",
        "prod",
        _set("substrate:observability", "prometheus", "retention", "30d"),
        'substrate:observability.prometheus.retention = "30d": cannot close a month of GPU-hours '
        "(the per-minute chargeback records live in Prometheus: 31 days plus 4 to close) "
        "(allowed: 35d or more)",
    ),
    (
        "unused-claim window that is not a duration",
        "dev",
        _set("substrate:observability", "alerts", "unusedClaimFor", "a week"),
        'substrate:observability.alerts.unusedClaimFor = "a week": is not a Prometheus duration '
        '(allowed: a positive duration such as "30m" or "1h")',
    ),
    (
        "throughput gp3 does not provision for the IOPS",
        "dev",
        _set("substrate:storage", "agentMemoryThroughput", 1000),
        "substrate:storage.agentMemoryThroughput = 1000: is more than gp3 provisions for "
        "agentMemoryIops 3000 (0.25 MiB/s per IOPS) (allowed: at most 750)",
    ),
    (
        "gp3 IOPS above its maximum",
        "staging",
        _set("substrate:storage", "agentMemoryIops", 20000),
        "substrate:storage.agentMemoryIops = 20000: is out of range (allowed: 3000 to 16000)",
    ),
    (
        "memory volume too small for the provisioned IOPS",
        "dev",
        _set("substrate:storage", "agentMemoryIops", 6000),
        'substrate:agents.support.memoryVolume.size = "10Gi": is too small for 6000 provisioned '
        "IOPS (substrate:storage.agentMemoryIops; gp3 allows 500 IOPS per GiB) (allowed: at "
        "least 12Gi, or fewer agentMemoryIops)",
    ),
    (
        "memory volume type that is not offered",
        "staging",
        _set("substrate:agents", "support", "memoryVolume", "volumeType", "io1"),
        'substrate:agents.support.memoryVolume.volumeType = "io1": is not one of the allowed '
        'values (allowed: "gp3", "io2")',
    ),
    (
        "GPU root volume sized for images that live on NVMe",
        "prod",
        _set("substrate:karpenter", "nodeClasses", "gpu", "volumeGib", 500),
        "substrate:karpenter.nodeClasses.gpu.volumeGib = 500: is paid for and unused: every pool "
        "on the class (inference) launches instances with local NVMe, where images and "
        "ephemeral storage live on the RAID0 array (allowed: at most 100 (the volume holds only "
        "the OS))",
    ),
    (
        "GPU root volume with provisioned IOPS",
        "staging",
        _set("substrate:karpenter", "nodeClasses", "gpu", "volumeIops", 12000),
        "substrate:karpenter.nodeClasses.gpu.volumeIops = 12000: is paid for and unused: every "
        "pool on the class (inference) launches instances with local NVMe, where "
        "images and ephemeral storage live on the RAID0 array (allowed: at most 3000 (the volume "
        "holds only the OS))",
    ),
    (
        "Bottlerocket data volume with provisioned throughput",
        "dev",
        _set("substrate:karpenter", "nodeClasses", "gpu-bottlerocket", "volumeThroughput", 500),
        "substrate:karpenter.nodeClasses.gpu-bottlerocket.volumeThroughput = 500: is paid for "
        "and unused: every pool on the class (training) launches instances with local NVMe, "
        "where images and ephemeral storage live on the RAID0 array (allowed: at most 125 (the "
        "volume holds only the OS))",
    ),
]


@pytest.mark.parametrize(
    ("stack", "mutate", "message"),
    [pytest.param(stack, mutate, message, id=name) for name, stack, mutate, message in CASES],
)
def test_invalid_storage_or_telemetry_config_gives_one_exact_line(
    stack: str, mutate: Mutation, message: str
) -> None:
    assert config_error(stack, mutate) == message


def test_a_large_volume_is_fine_where_some_instances_have_no_nvme() -> None:
    """The default class's pools launch EBS-only families: its volume holds images."""
    raw = stack_yaml("prod")
    raw["substrate:karpenter"]["nodeClasses"]["default"]["volumeGib"] = 500
    raw["substrate:karpenter"]["nodeClasses"]["default"]["volumeIops"] = 6000
    assert typed_config(raw).karpenter is not None
