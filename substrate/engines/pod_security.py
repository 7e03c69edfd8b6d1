"""Pod Security Admission's own verdict (build/engines/pod-security, built from
k8s.io/pod-security-admission): whether the pods a workload creates are admitted by the enforce
level of their namespace's ``pod-security.kubernetes.io/*`` labels, at the cluster's Kubernetes
version, with the checks kube-apiserver runs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from substrate.engines import run


@dataclass(frozen=True, order=True)
class Verdict:
    kind: str
    namespace: str
    name: str
    enforce: str
    """The namespace's enforce level and version, e.g. ``restricted:latest``."""
    allowed: bool
    forbidden: tuple[tuple[str, str], ...]
    """(reason, detail) for every failed check."""

    def describe(self) -> str:
        details = "; ".join(detail for _, detail in self.forbidden)
        return f"{self.kind} {self.namespace}/{self.name} ({self.enforce}): {details}"


def evaluate(
    kubernetes_version: str,
    namespaces: Sequence[Mapping[str, Any]],
    objects: Sequence[Mapping[str, Any]],
) -> list[Verdict]:
    """A verdict for every object among ``objects`` that carries a pod spec (Pod, Deployment,
    StatefulSet, DaemonSet, Job, CronJob, ...); every such object's namespace must be among
    ``namespaces`` (Namespace objects with their labels)."""
    minor = ".".join(kubernetes_version.lstrip("v").split(".")[:2])
    request = {
        "kubernetesVersion": minor,
        "namespaces": [dict(n) for n in namespaces],
        "objects": [dict(o) for o in objects],
    }
    done = run("pod-security", [], stdin=json.dumps(request))
    return [
        Verdict(
            kind=v["kind"],
            namespace=v["namespace"],
            name=v["name"],
            enforce=v["enforce"],
            allowed=v["allowed"],
            forbidden=tuple((f["reason"], f["detail"]) for f in v["forbidden"]),
        )
        for v in json.loads(done.stdout)
    ]
