"""Quota against capacity: nominal CPU and memory on Kueue's default flavor within the untainted
pools, each tenant's declared largest gang within one flavor's ceiling, and NodePool limits that
fit the pool's instance families and reach its GPU limit. One exact line each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from substrate.config.quota_checks import DefaultFlavorOvercommitError, GangNeverAdmitsError
from tests.helpers import config_error, stack_yaml, typed_config

T = "substrate:tenants"
P = "substrate:nodePools"
Mutation = Callable[[dict[str, Any]], object]


def _gang(tenant: str, **gang: Any) -> Mutation:
    return lambda c: c[T][tenant].__setitem__("largestGang", gang)


def _two_untainted_pools(c: dict[str, Any]) -> None:
    c[P]["nvme"].pop("taints")
    c[T]["data-eng"]["quota"]["cpu"] = 1100


def _neuron_pool(c: dict[str, Any]) -> None:
    c[P]["neuron"] = {
        "nodeClass": "default",
        "instanceFamilies": ["trn1n"],
        "capacityTypes": ["on-demand"],
        "taints": [{"key": "aws.amazon.com/neuron", "value": "true"}],
        "limits": {"cpu": 256, "memory": "1024Gi", "neuron": 8},
        "disruption": {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "5m"},
    }


CASES: list[tuple[str, str, Mutation, str]] = [
    (
        "nominal CPU beyond the one untainted pool",
        "prod",
        lambda c: c[T]["data-eng"]["quota"].__setitem__("cpu", 200),
        "substrate:nodePools.general.limits.cpu = 776: is below the 848 CPUs the tenants "
        "and the agent simulation queue hold as nominal quota on Kueue's default flavor "
        "(inference: 192, ml-research: 384, data-eng: 200, agents: 64, agent-sim: 8), and "
        "pods admitted there without tolerations run only on untainted pools (allowed: a "
        "limit of at least 848, or less nominal cpu "
        "quota in substrate:tenants)",
    ),
    (
        "the agent simulation queue's quota counts: it borrows nothing from the tenants",
        "prod",
        lambda c: c[P]["general"]["limits"].__setitem__("cpu", 768),
        "substrate:nodePools.general.limits.cpu = 768: is below the 776 CPUs the tenants "
        "and the agent simulation queue hold as nominal quota on Kueue's default flavor "
        "(inference: 192, ml-research: 384, data-eng: 128, agents: 64, agent-sim: 8), and "
        "pods admitted there without tolerations run only on untainted pools (allowed: a "
        "limit of at least 776, or less nominal cpu quota in substrate:tenants)",
    ),
    (
        "nominal memory beyond the one untainted pool",
        "staging",
        lambda c: c[T]["ml-research"]["quota"].__setitem__("memory", "1500Gi"),
        'substrate:nodePools.general.limits.memory = "2048Gi": is below the 2236Gi of '
        "memory the tenants and the agent simulation queue hold as nominal quota on "
        "Kueue's default flavor (inference: 512Gi, ml-research: 1500Gi, data-eng: 128Gi, "
        "agents: 64Gi, agent-sim: 32Gi), and pods admitted there without tolerations run "
        "only on untainted pools (allowed: a limit of at least 2236Gi, or less nominal "
        "memory quota in substrate:tenants)",
    ),
    (
        "nominal CPU beyond two untainted pools",
        "prod",
        _two_untainted_pools,
        'substrate:nodePools = {"general": 776, "nvme": 256}: has 1032 CPUs in pools '
        "without taints, below the 1748 CPUs the tenants and the agent simulation queue "
        "hold as nominal quota on Kueue's default flavor (inference: 192, ml-research: "
        "384, data-eng: 1100, agents: 64, agent-sim: 8), and pods admitted there without "
        "tolerations run only on untainted pools (allowed: untainted pools with limits "
        "adding up to at least 1748, or less "
        "nominal cpu quota in substrate:tenants)",
    ),
    (
        "CPU quota with no untainted pool at all",
        "dev",
        lambda c: c[P]["general"].__setitem__("taints", [{"key": "x", "value": "y"}]),
        'substrate:nodePools = ["general", "inference", "nvme", "training"]: has no pool '
        "without taints, where the pods of the 64 CPUs the tenants hold as nominal quota "
        "on Kueue's default flavor (inference: 16, ml-research: 32, data-eng: 8, agents: "
        "8) would run (allowed: a pool without taints, or less nominal cpu quota in "
        "substrate:tenants)",
    ),
    (
        "the docs' 56-GPU gang as one pod set",
        "prod",
        _gang("ml-research", pods=7, cpu="32", memory="256Gi", gpus=8),
        'substrate:tenants.ml-research.largestGang = {"cpu": "32", "gpus": 8, "memory": '
        '"256Gi", "pods": 7}: needs 56 nvidia.com/gpu in one pod set, more than the 48 '
        "the tenant can hold on any one GPU pool (training: 48, inference: 8); Kueue puts"
        " all of a pod set's GPUs on one flavor (allowed: a gang of at most 48 GPUs, or "
        "more quota on one pool)",
    ),
    (
        "a CPU gang beyond the tenant's CPU ceiling",
        "prod",
        _gang("data-eng", pods=25, cpu="8", memory="16Gi"),
        'substrate:tenants.data-eng.largestGang = {"cpu": "8", "gpus": 0, "memory": '
        '"16Gi", "pods": 25}: needs 200 CPUs in one pod set, more than the 192 the tenant'
        " can hold on Kueue's default flavor (nominal and borrowable) (allowed: a gang of"
        " at most 192 CPUs, or more quota for the tenant)",
    ),
    (
        "a gang beyond the tenant's memory ceiling",
        "dev",
        _gang("ml-research", pods=2, cpu="4", memory="100Gi", gpus=2),
        'substrate:tenants.ml-research.largestGang = {"cpu": "4", "gpus": 2, "memory": '
        '"100Gi", "pods": 2}: needs 200Gi of memory in one pod set, more than the 192Gi '
        "the tenant can hold on Kueue's default flavor (nominal and borrowable) (allowed:"
        " a gang of at most 192Gi of memory, or more quota for the tenant)",
    ),
    (
        "a GPU gang in a tenant without GPU rights",
        "dev",
        _gang("data-eng", pods=1, cpu="1", memory="1Gi", gpus=1),
        "substrate:tenants.data-eng.largestGang.gpus = 1: asks for GPUs in a tenant "
        "without GPU rights (allowed: 0 unless gpu is true)",
    ),
    (
        "limits below one instance of a family",
        "prod",
        lambda c: c[P]["training"]["limits"].__setitem__("cpu", 64),
        'substrate:nodePools.training.limits = {"cpu": 64, "gpu": 64, "memory": '
        '"16384Gi"}: cannot fit one p4d.24xlarge (96 vCPUs, 1152Gi, 8 GPUs), the smallest'
        " p4d instance, so Karpenter could never launch the pool's p4d nodes (allowed: "
        "limits that fit the smallest instance of every family in instanceFamilies)",
    ),
    (
        "a CPU limit that stops a p5 pool short of its GPUs",
        "prod",
        lambda c: c[P]["training"]["limits"].__setitem__("cpu", 192),
        "substrate:nodePools.training.limits.cpu = 192: lets the pool reach only 12 of "
        "its 64 nvidia.com/gpu: every p5 instance has at least 16 vCPUs per GPU (allowed:"
        " at least 1024, or a lower limits.gpu)",
    ),
    (
        "a memory limit that stops a p4d pool short of its GPUs",
        "staging",
        lambda c: c[P]["training"]["limits"].__setitem__("memory", "2048Gi"),
        'substrate:nodePools.training.limits.memory = "2048Gi": lets the pool reach only '
        "8 of its 16 nvidia.com/gpu: every p4d instance has at least 144Gi per GPU "
        "(allowed: at least 2304Gi, or a lower limits.gpu)",
    ),
    (
        "a Neuron pool whose limits fit no trn1n",
        "dev",
        _neuron_pool,
        'substrate:nodePools.neuron.limits = {"cpu": 256, "memory": "1024Gi", "neuron": '
        "8}: cannot fit one trn1n.32xlarge (128 vCPUs, 512Gi, 16 Neuron devices), the "
        "smallest trn1n instance, so Karpenter could never launch the pool's trn1n nodes "
        "(allowed: limits that fit the smallest instance of every family in "
        "instanceFamilies)",
    ),
]


@pytest.mark.parametrize(
    ("stack", "mutate", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_quota_beyond_capacity_gives_exact_one_line_error(
    stack: str, mutate: Mutation, message: str
) -> None:
    assert config_error(stack, mutate) == message


def test_quota_errors_have_their_own_types() -> None:
    raw = stack_yaml("prod")
    raw[T]["data-eng"]["quota"]["cpu"] = 200
    with pytest.raises(DefaultFlavorOvercommitError):
        typed_config(raw)
    raw = stack_yaml("prod")
    _gang("ml-research", pods=7, cpu="32", memory="256Gi", gpus=8)(raw)
    with pytest.raises(GangNeverAdmitsError):
        typed_config(raw)
