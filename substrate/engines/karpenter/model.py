"""The cluster state the disruption model reasons about: NodePools and EC2NodeClasses (as
manifests), the NodeClaims Karpenter launched from them, and the pods on their nodes.

What Karpenter records on a NodeClaim at launch (kubernetes-sigs/karpenter, aws provider):
the NodePool and EC2NodeClass hashes and hash versions as annotations; labels from the
template plus the well-known labels of the launched instance (NodePool, instance type and
family, capacity type, zone, arch, os, placement group id); `spec.expireAfter` and
`spec.terminationGracePeriod` copied from the template; `status.imageID`. AMI ids are not
knowable offline: an alias resolves to one synthetic id per (alias version, variant, arch),
enough for AMI drift, which compares ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from substrate.engines.karpenter.hashing import (
    EC2NODECLASS_HASH_VERSION,
    NODEPOOL_HASH_VERSION,
    ec2nodeclass_hash,
    nodepool_hash,
    parse_duration,
)

DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"
NODEPOOL_HASH = "karpenter.sh/nodepool-hash"
NODEPOOL_HASH_VERSION_KEY = "karpenter.sh/nodepool-hash-version"
NODECLASS_HASH = "karpenter.k8s.aws/ec2nodeclass-hash"
NODECLASS_HASH_VERSION_KEY = "karpenter.k8s.aws/ec2nodeclass-hash-version"
PLACEMENT_GROUP_ID = "karpenter.k8s.aws/placement-group-id"
NODEPOOL_LABEL = "karpenter.sh/nodepool"


def duration(text: str | None) -> timedelta | None:
    """A Go duration string as a timedelta; None for None or "Never"."""
    if text is None or text == "Never":
        return None
    return timedelta(microseconds=parse_duration(text) // 1000)


@dataclass(frozen=True)
class Instance:
    """What Karpenter knows of an instance type it launches."""

    type: str
    family: str
    capacity: Mapping[str, int]
    arch: str = "amd64"
    gpu_variant: str = "standard"
    """EKS AMI variant the alias resolves to for this type: standard, nvidia or neuron."""


def ami_id(alias: str, variant: str, arch: str) -> str:
    """The image an EKS-optimised alias resolves to (synthetic, stable, distinct per release)."""
    digest = hashlib.sha256(f"{alias}|{variant}|{arch}".encode()).hexdigest()
    return f"ami-{digest[:17]}"


def resolved_ami(nodeclass: Mapping[str, Any], instance: Instance, latest: str) -> str:
    """The AMI the class's alias resolves to for `instance`; `@latest` resolves to `latest`
    (the newest release of that family when Karpenter looks)."""
    alias = str(nodeclass["spec"]["amiSelectorTerms"][0]["alias"])
    family, version = alias.split("@", 1)
    return ami_id(f"{family}@{latest if version == 'latest' else version}", *_variant(instance))


def _variant(instance: Instance) -> tuple[str, str]:
    return instance.gpu_variant, instance.arch


@dataclass
class Pod:
    name: str
    owner: str
    """The workload: a gang Job's pods share it; a Deployment's replicas too."""
    annotations: Mapping[str, str] = field(default_factory=dict)
    started: datetime | None = None
    finishes: datetime | None = None
    """When it completes on its own (None: it serves until evicted)."""
    grace_seconds: int = 30
    daemonset: bool = False
    pdb_blocks: bool = False
    """A PodDisruptionBudget currently forbids evicting it."""
    replicated: bool = False
    """A controller recreates it elsewhere when evicted (Deployment, StatefulSet)."""


@dataclass
class NodeClaim:
    name: str
    nodepool: str
    nodeclass: str
    instance: Instance
    created: datetime
    labels: dict[str, str]
    annotations: dict[str, str]
    image_id: str
    expire_after: str | None
    termination_grace_period: str | None
    initialized: datetime | None = None
    node_annotations: dict[str, str] = field(default_factory=dict)
    pods: list[Pod] = field(default_factory=list)
    ready: bool = True
    drifted: str | None = None
    drifted_since: datetime | None = None
    deleting_since: datetime | None = None
    deleting_reason: str | None = None
    gone: datetime | None = None
    last_pod_event: datetime | None = None
    replacement: str | None = None
    """Name of the replacement NodeClaim a drift command waits for before deleting this one."""
    replaced_by: str | None = None
    conditions: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    """The node's status conditions: type -> (status, lastTransitionTime) (node repair)."""

    @property
    def live(self) -> bool:
        return self.gone is None

    def running(self, now: datetime) -> list[Pod]:
        return [p for p in self.pods if p.finishes is None or p.finishes > now]

    def reschedulable(self, now: datetime) -> list[Pod]:
        return [p for p in self.running(now) if not p.daemonset]


def launch(
    name: str,
    nodepool: Mapping[str, Any],
    nodeclass: Mapping[str, Any],
    instance: Instance,
    now: datetime,
    *,
    zone: str,
    capacity_type: str = "on-demand",
    latest_ami: str = "v0",
    placement_group_id: str | None = None,
    startup: timedelta = timedelta(minutes=5),
) -> NodeClaim:
    """A NodeClaim as Karpenter creates it from `nodepool`'s template and `nodeclass` now."""
    template = nodepool["spec"]["template"]
    spec = template.get("spec", {})
    labels = {
        **template.get("metadata", {}).get("labels", {}),
        NODEPOOL_LABEL: nodepool["metadata"]["name"],
        "node.kubernetes.io/instance-type": instance.type,
        "karpenter.k8s.aws/instance-family": instance.family,
        "karpenter.sh/capacity-type": capacity_type,
        "topology.kubernetes.io/zone": zone,
        "kubernetes.io/arch": instance.arch,
        "kubernetes.io/os": "linux",
    }
    if placement_group_id is not None:
        labels[PLACEMENT_GROUP_ID] = placement_group_id
    return NodeClaim(
        name=name,
        nodepool=nodepool["metadata"]["name"],
        nodeclass=spec["nodeClassRef"]["name"],
        instance=instance,
        created=now,
        labels=labels,
        annotations={
            NODEPOOL_HASH: nodepool_hash(nodepool),
            NODEPOOL_HASH_VERSION_KEY: NODEPOOL_HASH_VERSION,
            NODECLASS_HASH: ec2nodeclass_hash(nodeclass),
            NODECLASS_HASH_VERSION_KEY: EC2NODECLASS_HASH_VERSION,
        },
        image_id=resolved_ami(nodeclass, instance, latest_ami),
        expire_after=spec.get("expireAfter", "720h"),
        termination_grace_period=spec.get("terminationGracePeriod"),
        initialized=now + startup,
    )
