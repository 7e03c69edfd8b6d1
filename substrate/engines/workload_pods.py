"""What the JobSet, KubeRay and LeaderWorkerSet operators create from a JobSet, RayCluster, RayJob
or LeaderWorkerSet, computed by their own code (the workload-pods engine: sigs.k8s.io/jobset
v0.12.0's webhook defaulting and job construction; KubeRay ray-operator v1.6.2's
RayJob-to-RayCluster construction and head and worker pod building; sigs.k8s.io/lws v0.9.0's
webhook defaulting, leader and worker StatefulSet construction and pod webhook, over the
Kubernetes v1.36 StatefulSet controller's pod construction).

Feed it each object as the operator reads it (as Kueue resumed it: unsuspended, with the
flavor's node labels and tolerations in its pod templates; a LeaderWorkerSet as the API server
stored it, since Kueue places its pods when it ungates them). The children are what the
operators CREATE: a JobSet's Jobs, a RayJob's RayCluster, a RayCluster's Pods, a
LeaderWorkerSet's leader StatefulSet and each group's worker StatefulSet (created by LWS) and
their Pods (created by the StatefulSet controller, as LWS's pod webhook leaves them). The
apiserver engine then creates them as their creators (the job controller makes a JobSet's pods).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from substrate.engines import run

KINDS = frozenset({"JobSet", "RayCluster", "RayJob", "LeaderWorkerSet"})


def operator_account(objects: Iterable[Mapping[str, Any]], namespace: str) -> dict[str, Any]:
    """Who an operator creates its children as: the service account of the one Deployment its
    chart renders in ``namespace`` (``objects``: everything the cluster holds, charts rendered)."""
    found = [
        o
        for o in objects
        if o.get("kind") == "Deployment" and (o.get("metadata") or {}).get("namespace") == namespace
    ]
    if len(found) != 1:
        raise LookupError(
            f"no single operator Deployment in {namespace} among the rendered charts "
            f"(found {len(found)}): cannot tell whom it creates workloads as"
        )
    account = found[0]["spec"]["template"]["spec"].get("serviceAccountName") or "default"
    return {
        "username": f"system:serviceaccount:{namespace}:{account}",
        "groups": ["system:serviceaccounts", f"system:serviceaccounts:{namespace}"],
    }


@dataclass(frozen=True)
class Derived:
    """What the operator creates from one object."""

    children: tuple[Mapping[str, Any], ...]
    notes: tuple[str, ...]
    """What the engine does not model for this object."""

    def of_kind(self, kind: str) -> list[Mapping[str, Any]]:
        return [c for c in self.children if c.get("kind") == kind]


def derive(objects: Sequence[Mapping[str, Any]]) -> list[Derived]:
    """The children of each object (JobSet, RayCluster, RayJob or LeaderWorkerSet), in one
    engine run."""
    unknown = sorted({str(o.get("kind")) for o in objects} - KINDS)
    if unknown:
        raise ValueError(f"workload-pods derives {sorted(KINDS)}, not {unknown}")
    done = run("workload-pods", [], stdin=json.dumps({"objects": [dict(o) for o in objects]}))
    return [
        Derived(tuple(r["children"]), tuple(r["notes"])) for r in json.loads(done.stdout)["results"]
    ]
