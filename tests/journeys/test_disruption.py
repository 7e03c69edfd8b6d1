"""Routine changes on prod while a multi-node training job runs: what Karpenter v1.14 does, as
the disruption model (substrate.engines.karpenter: drift hashes exact to Karpenter's, budgets,
do-not-disrupt, terminationGracePeriod, emptiness) decides it over the following week."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from substrate.engines.karpenter.disruption import Cluster
from tests.conftest import planned
from tests.journeys.journey import journey
from tests.journeys.karpenter_cluster import (
    MONDAY,
    after_change,
    drifted,
    interrupted,
    objects,
    planned_variant,
    when,
)

DOC = "docs/capacity.md#routine-changes-on-a-running-training-job"
TUESDAY = MONDAY + timedelta(days=1)
JOB_ENDS = MONDAY + timedelta(hours=29)  # started Monday 11:00, runs 30 h
ALL_NODES = {"train-1", "train-2", "train-3", "inf-1", "inf-2"}


def _tags(key: str, value: str) -> Any:
    return lambda c: c["substrate:tags"].__setitem__(key, value)


def _ami(c: dict[str, Any]) -> None:
    for node_class in c["substrate:karpenter"]["nodeClasses"].values():
        node_class["amiAlias"] = "al2023@v20261210"


def _drop_p4d(c: dict[str, Any]) -> None:
    training = c["substrate:nodePools"]["training"]
    training["instanceFamilies"] = ["p5"]
    # The config refuses CPU and memory limits that cannot reach the GPU limit: every p5 size has
    # at least 256Gi per GPU (substrate/components/capacity/instance_sizes.py).
    training["limits"].update(gpu=80, cpu=1920, memory="20480Gi")


@pytest.fixture(scope="module")
def weeks() -> dict[str, Cluster]:
    """One simulated week per change, applied Monday 12:00 UTC."""
    changes = {
        "owner": _tags("owner", "ml-platform-team"),
        "cost-center": _tags("cost-center", "ai-research"),
        "ami": _ami,
        "pool": _drop_p4d,
    }
    return {
        name: after_change("prod", planned_variant("prod", name, c)) for name, c in changes.items()
    }


def _inference_rolled_in_the_nightly_window(c: Cluster) -> None:
    first, second = when(c, "Disrupting", "inf-1"), when(c, "Disrupting", "inf-2")
    assert first == TUESDAY.replace(hour=6)  # the first nightly window after Monday 12:00
    gone = when(c, "Terminated", "inf-1")
    assert second is not None and gone is not None and gone < second < TUESDAY.replace(hour=10)
    # each replica moved to a replacement that was initialised before its node drained
    replicas = {n: [p.name for p in c.claim(n).pods] for n in ("inference-r1", "inference-r2")}
    assert replicas == {"inference-r1": ["llm-a"], "inference-r2": ["llm-b"]}


def _training_job_finished_untouched(c: Cluster) -> None:
    assert interrupted(c, "pretrain") == [] and interrupted(c, "eval") == []
    assert when(c, "Completed", "train-1") == JOB_ENDS
    assert "Disrupting" not in {e.kind for e in c.events if e.node.startswith("train-")}
    blocked = {e.detail for e in c.events if e.node == "train-1" and e.kind == "DisruptionBlocked"}
    assert 'pod has "karpenter.sh/do-not-disrupt" annotation' in blocked
    # emptied nodes go an hour later (consolidateAfter), one at a time (budgetNodes "1")
    assert when(c, "Terminated", "train-1") == JOB_ENDS + timedelta(hours=1)


@journey(
    user="platform engineer",
    stack="prod",
    steps=[
        "a two-node training job (p5, do-not-disrupt as R33 requires) and a one-node eval job "
        "(p4d) run; two inference nodes serve",
        "Monday 12:00 UTC: edit substrate:tags.owner and pulumi up",
        "separately: edit substrate:tags.cost-center (listed in substrate:karpenter.nodeTags)",
    ],
    outcome="owner: the EC2NodeClasses do not change and no node drifts. cost-center: every "
    "node drifts (NodeClassDrift) at once; inference nodes are replaced one at a time from "
    "Tuesday 06:00 (nightly window), each replica moving to a replacement initialised first; "
    "training nodes are blocked by their do-not-disrupt pods, the job finishes untouched "
    "Tuesday 17:00 and the emptied nodes are removed an hour later",
    docs=[DOC],
)
def test_a_tag_edit_replaces_nodes_only_for_node_tags(weeks: dict[str, Cluster]) -> None:
    edited = planned_variant("prod", "owner", _tags("owner", "ml-platform-team"))
    assert objects(edited, "EC2NodeClass") == objects(planned("prod").manifests, "EC2NodeClass")
    owner = weeks["owner"]
    assert drifted(owner) == {}
    assert interrupted(owner, "llm") == [] and interrupted(owner, "pretrain") == []
    cost = weeks["cost-center"]
    assert drifted(cost) == dict.fromkeys(ALL_NODES, "NodeClassDrift")
    assert {when(cost, "Drifted", n) for n in ALL_NODES} == {MONDAY}
    _inference_rolled_in_the_nightly_window(cost)
    _training_job_finished_untouched(cost)


@journey(
    user="platform engineer",
    stack="prod",
    steps=[
        "the same running jobs and inference nodes",
        "Monday 12:00 UTC: promote every node class to al2023@v20261210 and pulumi up",
    ],
    outcome="every node drifts (AMIDrift: selector terms are not hashed, the image the alias "
    "resolves to changed); inference rolls one node at a time in Tuesday's 06:00-10:00 window; "
    "no training pod is evicted or deleted: the nodes wait for their jobs and leave empty",
    docs=[DOC],
)
def test_an_ami_bump_waits_for_windows_and_running_jobs(weeks: dict[str, Cluster]) -> None:
    c = weeks["ami"]
    assert drifted(c) == dict.fromkeys(ALL_NODES, "AMIDrift")
    _inference_rolled_in_the_nightly_window(c)
    _training_job_finished_untouched(c)


@journey(
    user="platform engineer",
    stack="prod",
    steps=[
        "the same running jobs and inference nodes",
        "Monday 12:00 UTC: drop p4d from the training pool and raise its limits to 80 GPUs "
        "(1920 CPUs, 20480Gi)",
    ],
    outcome="only the p4d node drifts (RequirementsDrifted; limits are behavioural fields "
    "and drift nothing); it waits for its eval job (Wednesday 03:00) and leaves empty; the "
    "p5 job and the inference nodes are untouched",
    docs=[DOC],
)
def test_a_pool_change_drifts_only_the_nodes_it_no_longer_allows(
    weeks: dict[str, Cluster],
) -> None:
    c = weeks["pool"]
    assert drifted(c) == {"train-3": "RequirementsDrifted"}
    assert interrupted(c, "eval") == [] and interrupted(c, "pretrain") == []
    assert when(c, "Completed", "train-3") == MONDAY + timedelta(hours=39)
    assert when(c, "Terminated", "train-3") == MONDAY + timedelta(hours=40)
    assert when(c, "Terminated", "inf-1") is None
