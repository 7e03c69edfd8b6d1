"""Which SPIFFE IDs SPIRE issues to pods: the registration entries spire-controller-manager
declares for them from the cluster's ClusterSPIFFEIDs (build/engines/spire-entries, our model of
its ClusterSPIFFEID reconciler: the controller's own module cannot be built here).

The controller's settings are read from the ``controller-manager-config.yaml`` the spire chart
renders into its ConfigMap. An entry is issued to a pod only when the workload attests with
every selector of the entry: ``k8s:pod-uid`` (the pod itself) and the rendered
``workloadSelectorTemplates``; :func:`issued` keeps the entries whose ``k8s:sa`` and ``k8s:ns``
selectors the pod satisfies.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from substrate.engines import run

CONFIG_KEY = "controller-manager-config.yaml"
CONFIG_KIND = "ControllerManagerConfig"
DEFAULT_CLUSTER_DOMAIN = "cluster.local"
"""The controller auto-detects the cluster domain when its config names none (cmd/main.go,
autoDetectClusterDomain); EKS clusters serve `cluster.local`."""
CLUSTER_SPIFFE_ID = "ClusterSPIFFEID"


@dataclass(frozen=True)
class ControllerConfig:
    trust_domain: str
    cluster_name: str
    class_name: str
    watch_classless: bool
    ignore_namespaces: tuple[str, ...]
    cluster_domain: str = DEFAULT_CLUSTER_DOMAIN

    def to_json(self) -> dict[str, Any]:
        return {
            "trustDomain": self.trust_domain,
            "clusterName": self.cluster_name,
            "clusterDomain": self.cluster_domain,
            "className": self.class_name,
            "watchClassless": self.watch_classless,
            "ignoreNamespaces": list(self.ignore_namespaces),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ControllerConfig:
        return cls(
            trust_domain=str(data["trustDomain"]),
            cluster_name=str(data.get("clusterName") or ""),
            class_name=str(data.get("className") or ""),
            watch_classless=bool(data.get("watchClassless", False)),
            ignore_namespaces=tuple(str(n) for n in data.get("ignoreNamespaces") or ()),
            cluster_domain=str(data.get("clusterDomain") or DEFAULT_CLUSTER_DOMAIN),
        )


def controller_config(objects: Iterable[Mapping[str, Any]]) -> ControllerConfig | None:
    """The controller manager's configuration among a cluster's objects (None without SPIRE)."""
    for o in objects:
        text = (o.get("data") or {}).get(CONFIG_KEY) if o.get("kind") == "ConfigMap" else None
        if isinstance(text, str):
            loaded = yaml.safe_load(text)
            if isinstance(loaded, dict) and loaded.get("kind") == CONFIG_KIND:
                return ControllerConfig.from_json(loaded)
    return None


@dataclass(frozen=True)
class Entry:
    cluster_spiffe_id: str
    spiffe_id: str
    selectors: tuple[str, ...]
    fallback: bool


@dataclass(frozen=True)
class PodEntries:
    namespace: str
    name: str
    entries: tuple[Entry, ...]
    failures: tuple[tuple[str, str], ...]
    """(ClusterSPIFFEID, error) for each that selected the pod but did not render."""
    ignored: bool
    """The pod's namespace is one the controller ignores."""


def entries(
    config: ControllerConfig,
    cluster_spiffe_ids: Sequence[Mapping[str, Any]],
    namespaces: Sequence[Mapping[str, Any]],
    pods: Sequence[Mapping[str, Any]],
    node: Mapping[str, Any] | None = None,
) -> list[PodEntries]:
    """The entries the controller declares for each of ``pods`` (one engine run)."""
    request = {
        "config": config.to_json(),
        "clusterSPIFFEIDs": [dict(c) for c in cluster_spiffe_ids],
        "namespaces": [dict(n) for n in namespaces],
        "pods": [dict(p) for p in pods],
        "node": dict(node) if node is not None else None,
    }
    done = run("spire-entries", [], stdin=json.dumps(request))
    return [
        PodEntries(
            namespace=a["namespace"],
            name=a["name"],
            entries=tuple(
                Entry(e["clusterSPIFFEID"], e["spiffeID"], tuple(e["selectors"]), e["fallback"])
                for e in a["entries"]
            ),
            failures=tuple((f["clusterSPIFFEID"], f["error"]) for f in a["failures"]),
            ignored=a["ignored"],
        )
        for a in json.loads(done.stdout)
    ]


def unmet(entry: Entry, pod: Mapping[str, Any]) -> list[str]:
    """The entry's ``k8s:sa``/``k8s:ns`` selectors the pod does not attest with (SPIRE's k8s
    workload attestor: the pod's service account and namespace)."""
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    attested = {
        "k8s:sa": str(spec.get("serviceAccountName") or "default"),
        "k8s:ns": str(meta.get("namespace") or ""),
    }
    out = []
    for selector in entry.selectors:
        kind, _, value = selector.rpartition(":")
        if kind in attested and attested[kind] != value:
            out.append(selector)
    return out
