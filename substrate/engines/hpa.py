"""What Kubernetes' HPA and StatefulSet controllers do to a workload over time.

The hpa engine (build/engines/hpa, k8s.io/kubernetes v1.36.0) builds the HorizontalPodAutoscaler
KEDA's operator creates from a ScaledObject (KEDA 2.20.2's mapping, then the API server's
autoscaling/v2 defaulting), and runs the HPA controller's reconcile every ``sync_seconds`` and
the StatefulSet controller's sync after it, against a fake API server with the pod registry's
graceful deletion and the StatefulSet scale subresource. A metric series stands in for KEDA's
metrics server; a kubelet model makes pods Ready ``start_seconds`` after creation and removes a
deleted pod when its grace period ends (an agent that uses all of it). A lost node is a deleted
Node object; pod GC's change to the pods bound to it (Failed, DisruptionTarget, force deletion)
follows. The HPA controller's
stored timestamps are aged between steps: it has no injectable clock (tools/engines/hpa/README.md).

Nothing here computes a replica count: every number comes from the controllers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from substrate.engines import run


@dataclass(frozen=True)
class Event:
    at: int
    """Seconds from the start."""
    kind: str
    """rescale, podCreated, podReady, podDeleted, podGone, claimCreated, claimOwners, rollout,
    nodeLost, hpaError."""
    object: str
    replicas_from: int | None = None
    replicas_to: int | None = None
    grace_seconds: int | None = None
    """The deletion grace period the API server set on a deleted pod."""
    uid: str = ""
    claims: Mapping[str, str] | None = None
    """A created pod's claims: name -> UID (the same UID: the same volume)."""
    revision: str = ""
    owners: tuple[str, ...] = ()
    reason: str = ""
    """podDeleted: scale-down, rollout, or DeletionByPodGC (pod GC force-deleted a pod whose
    node is gone); hpaError: the controller's error."""
    pre_stop: tuple[str, ...] = ()
    """podDeleted: the preStop HTTP paths of the pod's containers (what the kubelet calls; none
    when the pod's node is gone)."""
    node: str = ""
    """podReady: the node the pod runs on; nodeLost: the node lost (``object``: its pod)."""


@dataclass(frozen=True)
class Snapshot:
    at: int
    replicas: int
    pods: tuple[Mapping[str, Any], ...]
    claims: tuple[str, ...]


@dataclass(frozen=True)
class Timeline:
    hpa: Mapping[str, Any] | None
    """The HPA as the controller reads it (null without a ScaledObject)."""
    events: tuple[Event, ...]
    snapshots: tuple[Snapshot, ...]
    """The state after each step in which something changed."""
    notes: tuple[str, ...]

    def of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]

    def deletions(self, reason: str) -> list[Event]:
        return [e for e in self.of("podDeleted") if e.reason == reason]

    def gone(self, uid: str) -> int | None:
        """When the pod of this UID left the API server."""
        return next((e.at for e in self.of("podGone") if e.uid == uid), None)


def _event(raw: Mapping[str, Any]) -> Event:
    return Event(
        at=raw["at"],
        kind=raw["kind"],
        object=raw.get("object", ""),
        replicas_from=raw.get("from"),
        replicas_to=raw.get("to"),
        grace_seconds=raw.get("graceSeconds"),
        uid=raw.get("uid", ""),
        claims=raw.get("claims"),
        revision=raw.get("revision", ""),
        owners=tuple(raw.get("owners") or ()),
        reason=raw.get("reason", ""),
        pre_stop=tuple(raw.get("preStop") or ()),
        node=raw.get("node", ""),
    )


def simulate(
    stateful_set: Mapping[str, Any],
    scaled_object: Mapping[str, Any] | None,
    *,
    replicas: int,
    metrics: Sequence[tuple[int, Sequence[float]]] = (),
    rollout: tuple[int, Mapping[str, Any]] | None = None,
    node_loss: Sequence[tuple[int, str]] = (),
    duration_seconds: int,
    start_seconds: int = 30,
    sync_seconds: int = 15,
) -> Timeline:
    """Run the controllers on ``stateful_set`` (started at ``replicas``) and the HPA KEDA makes
    from ``scaled_object``. ``metrics``: (from second, value of each trigger) in order;
    ``rollout``: (second, the StatefulSet with a new spec, ``replicas`` left to the HPA);
    ``node_loss``: (second, pod): the Node object of the node that pod runs on is deleted then,
    and pod GC force-deletes the pods bound to it (tools/engines/hpa/nodes.go)."""
    request: dict[str, Any] = {
        "statefulSet": stateful_set,
        "replicas": replicas,
        "metrics": [{"at": at, "values": list(values)} for at, values in metrics],
        "durationSeconds": duration_seconds,
        "startSeconds": start_seconds,
        "syncSeconds": sync_seconds,
    }
    if scaled_object is not None:
        request["scaledObject"] = scaled_object
    if node_loss:
        request["nodeLoss"] = [{"at": at, "pod": pod} for at, pod in node_loss]
    if rollout is not None:
        request["rollout"] = {"at": rollout[0], "statefulSet": rollout[1]}
    out = json.loads(run("hpa", [], stdin=json.dumps(request)).stdout)
    return Timeline(
        hpa=out.get("hpa"),
        events=tuple(_event(e) for e in out["events"]),
        snapshots=tuple(
            Snapshot(s["at"], s["replicas"], tuple(s["pods"]), tuple(s["claims"]))
            for s in out["timeline"]
        ),
        notes=tuple(out["notes"]),
    )
