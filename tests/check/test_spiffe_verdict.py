"""The SPIFFE part of the identity verdict when nothing selects a pod, when the stack runs no
SPIRE, and when the workload does not say it needs an ID (substrate.check.spiffe on the prod
context, with its ClusterSPIFFEIDs trimmed)."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from substrate.check import chain, spiffe
from substrate.check.chain import Run
from substrate.check.context import Context
from substrate.check.inputs import Manifest
from tests.journeys.cluster import docs_yaml, stack

FALLBACK_ID = "spiffe://prod.substrate.internal/ns/agents/sa/support"


@pytest.fixture(scope="module")
def prod() -> Context:
    return stack("prod").context


@pytest.fixture(scope="module")
def runs(prod: Context) -> list[Run]:
    """The docs' summarize-tickets Job (agents, service account support), once as needing an
    ID and once without the annotation."""
    (job,) = docs_yaml("check.md", "AccessDenied on a model")
    needs = copy.deepcopy(job)
    needs["metadata"]["annotations"] = {spiffe.SPIFFE_ANNOTATION: spiffe.REQUIRED}
    needs["metadata"]["name"] = "needs-an-id"
    return chain.run_all(
        prod, [("agents", Manifest("a#1", needs)), ("agents", Manifest("a#2", job))]
    )


def without(context: Context, name: str) -> Context:
    assert context.spire is not None
    ids = [c for c in context.spire["clusterSPIFFEIDs"] if c["metadata"]["name"] != name]
    assert len(ids) < len(context.spire["clusterSPIFFEIDs"])
    return dataclasses.replace(context, spire={**context.spire, "clusterSPIFFEIDs": ids})


def statuses(context: Context, runs: list[Run]) -> list[tuple[str, str]]:
    judged: dict[int, Any] = spiffe.judge_all(context, runs)
    return [judged[id(r.manifest)][:2] for r in runs]


def test_the_tenant_fallback_names_every_pod(prod: Context, runs: list[Run]) -> None:
    assert (
        statuses(prod, runs)
        == [
            ("ok", f"SPIFFE ID {FALLBACK_ID} (ClusterSPIFFEID tenant-agents)"),
        ]
        * 2
    )


def test_no_registration_fails_only_the_workload_that_needs_one(
    prod: Context, runs: list[Run]
) -> None:
    why = "no ClusterSPIFFEID of class substrate-spire selects it"
    assert statuses(without(prod, "tenant-agents"), runs) == [
        ("fail", f"needs a SPIFFE ID but gets none: {why}"),
        ("ok", f"no SPIFFE ID: {why}"),
    ]


def test_a_stack_without_spire_fails_the_workload_that_needs_an_id(
    prod: Context, runs: list[Run]
) -> None:
    judged = spiffe.judge_all(dataclasses.replace(prod, spire=None), runs)
    assert [judged.get(id(r.manifest), ("none",))[0] for r in runs] == ["fail", "none"]


def test_the_prod_controller_reconciles_its_own_class_only(prod: Context) -> None:
    assert prod.spire is not None
    config = prod.spire["config"]
    assert (config["className"], config["watchClassless"]) == ("substrate-spire", False)
    assert config["trustDomain"] == "prod.substrate.internal"
