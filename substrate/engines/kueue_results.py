"""Typed views of the kueue engine's report: what Kueue decided after each step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Condition:
    type: str
    status: str
    reason: str
    message: str


@dataclass(frozen=True)
class PodSet:
    name: str
    count: int
    requests: Mapping[str, str]
    """Per pod set total, as Kueue counts it (LimitRange defaults, limits as requests,
    transformations and excluded prefixes applied)."""
    flavors: Mapping[str, str]
    """Resource -> ResourceFlavor Kueue assigned (empty while pending)."""
    resource_usage: Mapping[str, str]
    template: Mapping[str, Any] = field(default_factory=dict, compare=False)
    """The pod template the job's integration built for the pod set (its pods' shape before
    admission adds the flavor's node labels and tolerations)."""


@dataclass(frozen=True)
class Workload:
    namespace: str
    name: str
    owner: str
    """`Kind/name` of the job (or pod) the Workload stands for."""
    queue: str
    priority_class: str
    priority: int | None
    status: str
    """Kueue's own status word: pending, quotaReserved, admitted or finished."""
    cluster_queue: str
    pod_sets: tuple[PodSet, ...]
    conditions: tuple[Condition, ...]

    @property
    def admitted(self) -> bool:
        return self.status == "admitted"

    def condition(self, type_: str) -> Condition | None:
        return next((c for c in self.conditions if c.type == type_), None)

    @property
    def pending_message(self) -> str:
        """Kueue's reason for not reserving quota (its QuotaReserved=False message)."""
        found = self.condition("QuotaReserved")
        return found.message if found is not None and found.status == "False" else ""

    @property
    def preempted(self) -> bool:
        found = self.condition("Preempted")
        return found is not None and found.status == "True"

    def flavors(self) -> dict[str, dict[str, str]]:
        return {p.name: dict(p.flavors) for p in self.pod_sets}


@dataclass(frozen=True)
class Usage:
    total: str
    borrowed: str


@dataclass(frozen=True)
class ClusterQueueState:
    name: str
    active: bool
    usage: Mapping[str, Mapping[str, Usage]]
    """Flavor -> resource -> what its admitted workloads hold and how much of it is borrowed
    from the cohort (Kueue's own ClusterQueue usage, as `kubectl get clusterqueue -o yaml`)."""
    reserving_workloads: int
    pending_workloads: int
    weighted_share: float

    def borrowed(self, flavor: str, resource: str) -> str:
        found = self.usage.get(flavor, {}).get(resource)
        return found.borrowed if found is not None else "0"

    def total(self, flavor: str, resource: str) -> str:
        found = self.usage.get(flavor, {}).get(resource)
        return found.total if found is not None else "0"


@dataclass(frozen=True)
class Event:
    object: str
    type: str
    reason: str
    message: str


@dataclass(frozen=True)
class StepResult:
    name: str
    rejected: tuple[Mapping[str, str], ...]
    """Objects Kueue's admission webhooks denied, with the message."""
    workloads: tuple[Workload, ...]
    cluster_queues: Mapping[str, ClusterQueueState]
    objects: tuple[Mapping[str, Any], ...]
    events: tuple[Event, ...]
    created: tuple[Mapping[str, Any], ...] = ()
    """Objects the step created (pods included), as Kueue's admission webhooks let them into
    the cluster: queue name defaulted, jobs suspended, pods gated. What the admission
    controllers after Kueue's webhooks (Kyverno) see at CREATE."""

    def workloads_of(self, kind: str, name: str) -> list[Workload]:
        """Workloads owned by `kind/name`; for a Deployment, those of its pods (`<name>-rs-<i>`)."""
        if kind == "Deployment":
            prefix = f"Pod/{name}-rs-"
            return [w for w in self.workloads if w.owner.startswith(prefix)]
        return [w for w in self.workloads if w.owner == f"{kind}/{name}"]

    def workload_of(self, kind: str, name: str) -> Workload:
        (found,) = self.workloads_of(kind, name)
        return found

    def object(self, kind: str, name: str) -> Mapping[str, Any]:
        (found,) = [o for o in self.objects if o["kind"] == kind and o["metadata"]["name"] == name]
        return found

    def created_object(self, kind: str, name: str) -> Mapping[str, Any]:
        (found,) = [o for o in self.created if o["kind"] == kind and o["metadata"]["name"] == name]
        return found


def _workload(raw: Mapping[str, Any]) -> Workload:
    return Workload(
        namespace=raw["namespace"],
        name=raw["name"],
        owner=raw.get("owner", ""),
        queue=raw.get("queue", ""),
        priority_class=raw.get("priorityClass", ""),
        priority=raw.get("priority"),
        status=raw["status"],
        cluster_queue=raw.get("clusterQueue", ""),
        pod_sets=tuple(
            PodSet(
                p["name"],
                p["count"],
                p.get("requests", {}),
                p.get("flavors") or {},
                p.get("resourceUsage") or {},
                p.get("template") or {},
            )
            for p in raw.get("podSets", [])
        ),
        conditions=tuple(Condition(**c) for c in raw.get("conditions", [])),
    )


def _cluster_queue(raw: Mapping[str, Any]) -> ClusterQueueState:
    usage = {
        flavor: {res: Usage(u["total"], u["borrowed"]) for res, u in resources.items()}
        for flavor, resources in raw.get("usage", {}).items()
    }
    return ClusterQueueState(
        raw["name"],
        raw["active"],
        usage,
        raw.get("reservingWorkloads", 0),
        raw.get("pendingWorkloads", 0),
        raw.get("weightedShare", 0.0),
    )


def parse_steps(raw: Sequence[Mapping[str, Any]]) -> list[StepResult]:
    return [
        StepResult(
            name=s["name"],
            rejected=tuple(s.get("rejected") or ()),
            workloads=tuple(_workload(w) for w in s.get("workloads") or ()),
            cluster_queues={c["name"]: _cluster_queue(c) for c in s.get("clusterQueues") or ()},
            objects=tuple(s.get("objects") or ()),
            events=tuple(Event(**e) for e in s.get("events") or ()),
            created=tuple(s.get("created") or ()),
        )
        for s in raw
    ]
