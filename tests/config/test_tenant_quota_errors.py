"""A tenant's storage grants and namespace weights: one exact line naming the key path for an
unknown StorageClass, a bad quantity, a weight for a namespace the tenant lacks or none above
0, a declared gang no namespace's share holds, and agents their namespace's share cannot hold."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from substrate.config.tenant_quota_checks import NamespaceQuotaTooSmallError
from tests.helpers import config_error, stack_yaml, typed_config

T = "substrate:tenants"
Mutation = Callable[[dict[str, Any]], object]


def _set(tenant: str, key: str, value: Any) -> Mutation:
    return lambda c: c[T][tenant].__setitem__(key, value)


CASES: list[tuple[str, str, Mutation, str]] = [
    (
        "a StorageClass the stack does not define",
        "prod",
        _set("data-eng", "storage", {"io3": {"requests": "1Ti", "claims": 2}}),
        'substrate:tenants.data-eng.storage.io3 = "io3": is not a StorageClass of the stack '
        "(allowed: gp3, agent-gp3, nvme-fast)",
    ),
    (
        "a storage size that is not a quantity",
        "dev",
        _set("data-eng", "storage", {"gp3": {"requests": "lots", "claims": 2}}),
        'substrate:tenants.data-eng.storage.gp3.requests = "lots": is not a Kubernetes '
        'quantity (allowed: "512Mi", "64Gi", "2Ti")',
    ),
    (
        "a weight for a namespace the tenant does not have",
        "prod",
        _set("ml-research", "namespaceWeights", {"ml-eval": 1}),
        "substrate:tenants.ml-research.namespaceWeights.ml-eval = 1: names a namespace the "
        "tenant does not have (allowed: one of ml-research, ml-research-eval)",
    ),
    (
        "every namespace weighed 0",
        "prod",
        _set("ml-research", "namespaceWeights", {"ml-research": 0, "ml-research-eval": 0}),
        'substrate:tenants.ml-research.namespaceWeights = {"ml-research": 0, '
        '"ml-research-eval": 0}: weighs every namespace 0, so none could hold anything '
        "(allowed: at least one namespace with a positive weight)",
    ),
    (
        "an even split leaves no namespace room for the declared gang",
        "prod",
        _set("ml-research", "namespaceWeights", {}),
        'substrate:tenants.ml-research.largestGang = {"cpu": "32", "gpus": 8, "memory": '
        '"256Gi", "pods": 6}: needs 192 CPU, 1536Gi and 48 GPUs in one namespace, more than '
        "any namespace's share of the tenant's ResourceQuota (ml-research: 256 CPU, 2Ti, 28 "
        "GPUs; ml-research-eval: 256 CPU, 2Ti, 28 GPUs) (allowed: a smaller gang, or "
        "namespaceWeights that give one namespace room for it)",
    ),
    (
        "an io2 grant smaller than the agents' memory claims",
        "prod",
        _set("agents", "storage", {"nvme-fast": {"requests": "1Ti", "claims": 12}}),
        'substrate:tenants.agents.storage.nvme-fast.requests = "1Ti": gives namespace '
        "'agents' 1Ti of nvme-fast.storageclass."
        "storage.k8s.io/requests.storage, less than its agents (research, support) need at "
        "their most replicas (1200Gi) (allowed: at least 1200Gi for 'agents')",
    ),
    (
        "no grant of the agents' class at all",
        "dev",
        _set("agents", "storage", {}),
        'substrate:tenants.agents.storage.agent-gp3.requests = "0": gives namespace '
        "'agents' 0 of agent-gp3.storageclass."
        "storage.k8s.io/requests.storage, less than its agents (research, support) need at "
        "their most replicas (50Gi) (allowed: at least 50Gi for 'agents')",
    ),
]


@pytest.mark.parametrize(
    ("stack", "mutate", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_tenant_quota_errors_are_one_exact_line(stack: str, mutate: Mutation, message: str) -> None:
    assert config_error(stack, mutate) == message


def test_a_too_small_share_has_its_own_type() -> None:
    raw = stack_yaml("prod")
    raw[T]["ml-research"]["namespaceWeights"] = {}
    with pytest.raises(NamespaceQuotaTooSmallError):
        typed_config(raw)
