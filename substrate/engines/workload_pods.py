"""What the JobSet and KubeRay operators create from a JobSet, RayCluster or RayJob, computed by
their own code (the workload-pods engine: sigs.k8s.io/jobset v0.12.0's webhook defaulting and
job construction, KubeRay ray-operator v1.6.2's RayJob-to-RayCluster construction and head and
worker pod building).

Feed it each object as the operator reads it (as Kueue resumed it: unsuspended, with the
flavor's node labels and tolerations in its pod templates). The children are what the operator
CREATEs: a JobSet's Jobs, a RayJob's RayCluster, a RayCluster's Pods. The apiserver engine then
creates them as the operator's service account (the job controller makes a JobSet's pods).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from substrate.engines import run

KINDS = frozenset({"JobSet", "RayCluster", "RayJob", "LeaderWorkerSet"})
JOBSET_CONTROLLER = {
    "username": "system:serviceaccount:jobset-system:jobset-controller-manager",
    "groups": ["system:serviceaccounts", "system:serviceaccounts:jobset-system"],
}
"""Who the JobSet controller creates Jobs as (the jobset chart's service account)."""
KUBERAY_OPERATOR = {
    "username": "system:serviceaccount:kuberay-system:kuberay-operator",
    "groups": ["system:serviceaccounts", "system:serviceaccounts:kuberay-system"],
}
"""Who the KubeRay operator creates RayClusters and pods as."""


@dataclass(frozen=True)
class Derived:
    """What the operator creates from one object."""

    children: tuple[Mapping[str, Any], ...]
    notes: tuple[str, ...]
    """What the engine does not model for this object."""

    def of_kind(self, kind: str) -> list[Mapping[str, Any]]:
        return [c for c in self.children if c.get("kind") == kind]


def derive(objects: Sequence[Mapping[str, Any]]) -> list[Derived]:
    """The children of each object (JobSet, RayCluster or RayJob), in one engine run."""
    unknown = sorted({str(o.get("kind")) for o in objects} - KINDS)
    if unknown:
        raise ValueError(f"workload-pods derives {sorted(KINDS)}, not {unknown}")
    done = run("workload-pods", [], stdin=json.dumps({"objects": [dict(o) for o in objects]}))
    return [
        Derived(tuple(r["children"]), tuple(r["notes"])) for r in json.loads(done.stdout)["results"]
    ]
