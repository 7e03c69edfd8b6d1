"""The split of a tenant's ceiling over its namespaces: exact sums, deterministic remainders,
storage keys for every StorageClass (0 where not granted)."""

from __future__ import annotations

import pytest

from substrate.components.cluster.ebs import STORAGE_CLASSES
from substrate.components.workloads.tenancy import GpuShare, Share, TenantSpec, quantity
from substrate.components.workloads.tenant_quota import (
    StorageGrant,
    namespace_hard,
    split,
    storage_keys,
    tenant_hard,
)

TEAM = TenantSpec(
    name="team",
    namespaces=("a", "b", "c"),
    gpu=True,
    cpu=Share(10),
    memory=Share(3 * 2**30 + 1),
    gpus=(GpuShare("training", Share(7)),),
)


@pytest.mark.parametrize(
    ("total", "weights", "parts"),
    [
        (10, [("a", 1), ("b", 1), ("c", 1)], {"a": 4, "b": 3, "c": 3}),
        (56, [("a", 7), ("b", 1)], {"a": 49, "b": 7}),
        (5, [("a", 0), ("b", 2), ("c", 3)], {"a": 0, "b": 2, "c": 3}),
        (7, [("a", 1), ("b", 3), ("c", 3)], {"a": 1, "b": 3, "c": 3}),
        (8, [("a", 1), ("b", 3), ("c", 3)], {"a": 1, "b": 4, "c": 3}),
    ],
)
def test_split_adds_up_and_gives_remainders_to_the_largest_then_first(
    total: int, weights: list[tuple[str, int]], parts: dict[str, int]
) -> None:
    assert split(total, weights) == parts


def test_split_needs_a_positive_weight() -> None:
    with pytest.raises(ValueError, match="none is positive"):
        split(3, [("a", 0)])


def test_namespace_quotas_add_up_to_the_tenant_ceiling() -> None:
    grants = {"gp3": StorageGrant(100 * 2**30 + 1, 5)}
    ceiling = tenant_hard(TEAM, [TEAM], storage=grants)
    hards = namespace_hard(TEAM, [TEAM], storage=grants, weights={"a": 2})
    for key, value in ceiling.items():
        parts = [quantity(h[key]) for h in hards.values()]
        if key.startswith("services."):
            assert parts == [quantity(value)] * 3, key
        else:
            assert sum(parts) == quantity(value), key
    assert hards["a"]["requests.cpu"] == "5"
    assert hards["b"]["requests.cpu"] == "2500m"
    assert hards["a"][storage_keys("gp3")[1]] == "3"


def test_every_class_is_in_the_quota_and_ungranted_ones_are_zero() -> None:
    hard = tenant_hard(TEAM, [TEAM], storage={"gp3": StorageGrant(2**40, 4)})
    for storage_class in STORAGE_CLASSES:
        requests, claims = storage_keys(storage_class)
        granted = storage_class == "gp3"
        assert (hard[requests], hard[claims]) == (("1Ti", "4") if granted else ("0", "0"))
    assert hard["requests.storage"] == "1Ti"
