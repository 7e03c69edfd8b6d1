"""Quota arithmetic and the ClusterQueue a tenant gets (substrate.components.workloads.tenancy)."""

from __future__ import annotations

import pytest

from substrate.components.workloads.tenancy import (
    DEFAULT_FLAVOR,
    EfaNode,
    Share,
    TenantSpec,
    ceiling,
    cluster_queue_spec,
    efa_interfaces,
    efa_share,
    format_bytes,
    gpu_ceiling,
    memory_bytes,
    overcommitted,
    quantity,
    resource_quota_hard,
    weight,
)

GI = 2**30


def _tenant(name: str, **kw) -> TenantSpec:
    return TenantSpec(name=name, namespaces=(name,), **kw)


RESEARCH = _tenant(
    "ml-research",
    gpu=True,
    cpu=Share(384, borrowing_limit=128),
    memory=Share(3072 * GI, borrowing_limit=1024 * GI),
    gpus=(("training", Share(48, 16, 16)), ("inference", Share(0, 8))),
)
INFERENCE = _tenant(
    "inference",
    gpu=True,
    tier="inference-critical",
    cpu=Share(192, lending_limit=64),
    memory=Share(1536 * GI, lending_limit=512 * GI),
    gpus=(("inference", Share(24, lending_limit=8)),),
)
DATA = _tenant("data-eng", cpu=Share(128, 64), memory=Share(512 * GI, 256 * GI))
ALL = [RESEARCH, INFERENCE, DATA]


def test_borrowing_is_capped_by_the_limit_and_by_what_others_lend() -> None:
    # Others lend 64 (inference's lending limit) + 128 (data-eng lends all its nominal).
    assert ceiling(RESEARCH.cpu, [INFERENCE.cpu, DATA.cpu]) == 384 + 128
    assert ceiling(Share(10), [Share(5, lending_limit=2), Share(3)]) == 10 + 2 + 3
    assert ceiling(Share(10, borrowing_limit=1), [Share(5)]) == 11
    assert ceiling(Share(10, borrowing_limit=0), [Share(5)]) == 10


def test_lending_limit_never_exceeds_nominal() -> None:
    assert Share(4, lending_limit=8).lendable == 4
    assert Share(4, lending_limit=1).lendable == 1
    assert Share(4).lendable == 4


def test_gpu_ceiling_adds_each_pool() -> None:
    # training: 48 + nothing lent by others; inference: 0 + min(8 borrow, 8 lent by inference).
    assert gpu_ceiling(RESEARCH, ALL) == 48 + 8
    # inference: 24 nominal + what ml-research lends on the inference pool (nominal 0).
    assert gpu_ceiling(INFERENCE, ALL) == 24
    assert gpu_ceiling(DATA, ALL) == 0


def test_resource_quota_is_the_kueue_ceiling_and_zero_gpus_without_rights() -> None:
    assert resource_quota_hard(RESEARCH, ALL) == {
        "requests.cpu": "512",
        "requests.memory": "4Ti",
        "limits.memory": "4Ti",
        "requests.nvidia.com/gpu": "56",
        "services.loadbalancers": "0",
        "services.nodeports": "0",
    }
    data = resource_quota_hard(DATA, ALL)
    assert data["requests.nvidia.com/gpu"] == "0"
    # data-eng borrows at most 64 of the 64 + 384 others lend.
    assert data["requests.cpu"] == "192"


def test_a_tenant_without_gpu_rights_gets_no_gpu_quota_even_if_shares_were_set() -> None:
    sneaky = _tenant("sneaky", gpus=(("training", Share(8)),), cpu=Share(1), memory=Share(GI))
    assert gpu_ceiling(sneaky, [sneaky]) == 0
    spec = cluster_queue_spec(sneaky, ["training"])
    assert all("nvidia.com/gpu" not in g["coveredResources"] for g in spec["resourceGroups"])


def test_overcommit_is_found_per_pool() -> None:
    extra = _tenant("vision", gpu=True, gpus=(("training", Share(20)), ("inference", Share(9))))
    found = overcommitted([*ALL, extra], {"training": 64, "inference": 32})
    assert [(o.pool, o.nominal, o.limit) for o in found] == [
        ("inference", 33, 32),
        ("training", 68, 64),
    ]
    assert found[1].describe() == (
        "tenants' nominal nvidia.com/gpu quota on pool 'training' is 68 (48 ml-research + "
        "20 vision), above the pool's limit of 64"
    )
    # Exactly at the limit is fine; ml-research's borrowing-only share (nominal 0) on the
    # inference pool promises nothing.
    assert overcommitted(ALL, {"training": 48, "inference": 24}) == []


def test_cluster_queue_has_cpu_memory_on_default_and_gpus_per_pool_in_order() -> None:
    """GPU flavors follow the order of the pools given (the layer passes Karpenter's order); EFA
    is covered, at 0 on pools without EFA instance types."""
    spec = cluster_queue_spec(RESEARCH, ["training", "inference"], cohort="substrate")
    reordered = cluster_queue_spec(RESEARCH, ["inference", "training"], cohort="substrate")
    assert [f["name"] for f in reordered["resourceGroups"][1]["flavors"]] == [
        "inference",
        "training",
    ]
    cpu_group, gpu_group = spec["resourceGroups"]
    assert cpu_group["coveredResources"] == ["cpu", "memory"]
    assert cpu_group["flavors"][0]["name"] == DEFAULT_FLAVOR
    assert cpu_group["flavors"][0]["resources"] == [
        {"name": "cpu", "nominalQuota": "384", "borrowingLimit": "128"},
        {"name": "memory", "nominalQuota": "3Ti", "borrowingLimit": "1Ti"},
    ]
    assert [f["name"] for f in gpu_group["flavors"]] == ["training", "inference"]
    assert gpu_group["coveredResources"] == ["nvidia.com/gpu", "vpc.amazonaws.com/efa"]
    assert gpu_group["flavors"][0]["resources"] == [
        {
            "name": "nvidia.com/gpu",
            "nominalQuota": "48",
            "borrowingLimit": "16",
            "lendingLimit": "16",
        },
        {"name": "vpc.amazonaws.com/efa", "nominalQuota": "0"},
    ]
    assert spec["cohortName"] == "substrate"
    assert spec["preemption"] == {
        "reclaimWithinCohort": "Any",
        "withinClusterQueue": "LowerPriority",
    }
    assert spec["namespaceSelector"] == {
        "matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["ml-research"]}
        ]
    }


def test_inference_keeps_headroom_training_can_never_borrow() -> None:
    """Inference lends at most 8 of its 24 nominal GPUs; ml-research may borrow at most 8 on
    the inference pool. So 16 inference GPUs are never lent, and the 8 lent ones come back at
    once (reclaimWithinCohort: Any) when inference needs them."""
    ((_, inference_share),) = INFERENCE.gpus
    borrow = dict(RESEARCH.gpus)["inference"]
    lent = min(inference_share.lendable, borrow.borrowing_limit or 0)
    assert inference_share.nominal - lent == 16
    assert (
        cluster_queue_spec(INFERENCE, ["inference"])["preemption"]["reclaimWithinCohort"] == "Any"
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [("512Gi", 512 * GI), ("500m", 0.5), ("64", 64), ("1.5Gi", 1.5 * GI), ("2k", 2000)],
)
def test_quantities(text: str, value: float) -> None:
    assert float(quantity(text)) == value


def test_bytes_format_round_trips() -> None:
    assert format_bytes(1536 * 2**20) == "1536Mi"
    assert format_bytes(4 * 2**40) == "4Ti"
    assert format_bytes(1000) == "1000"
    assert memory_bytes(format_bytes(3 * GI)) == 3 * GI
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        quantity("12 GB")


def test_weights_render_as_quantities() -> None:
    assert (weight(2.0), weight(0.5), weight(1)) == ("2", "0.5", "1")


P5 = [EfaNode(gpus=1, interfaces=1), EfaNode(gpus=8, interfaces=32)]
"""p5.4xlarge and p5.48xlarge as Karpenter's instance data lists them."""


def test_efa_interfaces_are_those_of_the_whole_nodes_the_gpus_need() -> None:
    # 48 GPUs: six p5.48xlarge (192 interfaces) beat 48 p5.4xlarge (48); 9 GPUs need two big
    # nodes; none without EFA types.
    assert efa_interfaces(48, P5) == 192
    assert efa_interfaces(9, P5) == 64
    assert efa_interfaces(0, P5) == 0
    assert efa_interfaces(8, []) == 0
    assert efa_share(Share(48, 16, 16), P5) == Share(192, 64, 64)
    assert efa_share(Share(0, 2), P5) == Share(0, 32, None)


def test_efa_quota_sits_on_the_efa_pool_flavor_only() -> None:
    spec = cluster_queue_spec(RESEARCH, ["training", "inference"], efa_nodes={"training": P5})
    _, gpu_group = spec["resourceGroups"]
    efa = {
        f["name"]: r
        for f in gpu_group["flavors"]
        for r in f["resources"]
        if r["name"] == "vpc.amazonaws.com/efa"
    }
    assert efa == {
        "training": {
            "name": "vpc.amazonaws.com/efa",
            "nominalQuota": "192",
            "borrowingLimit": "64",
            "lendingLimit": "64",
        },
        "inference": {"name": "vpc.amazonaws.com/efa", "nominalQuota": "0"},
    }
