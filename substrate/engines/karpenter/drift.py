"""Drift: when Karpenter marks a NodeClaim `Drifted` (v1.14 "Disruption" page, "Drift";
kubernetes-sigs/karpenter `pkg/controllers/nodeclaim/disruption/drift.go`, aws provider
`pkg/cloudprovider/drift.go`), checked in Karpenter's order, first reason wins:

1. `NodePoolDrifted`: the NodePool's `karpenter.sh/nodepool-hash` differs from the NodeClaim's
   (only when both carry the hash and the same hash version).
2. `RequirementsDrifted`: the NodeClaim's labels are no longer compatible with the NodePool's
   requirements (widening a requirement never drifts; narrowing it away from a node does).
3. `NodeClassDrift`: the EC2NodeClass hash differs (tags, userData, block devices, metadata
   options, ...; not the selector terms).
4. `AMIDrift`: the node's image is not among the images the class's AMI selector resolves to
   for its instance type now (a new alias version, or a new release behind `@latest`).
5. `PlacementGroupDrift`: the node's placement-group id label differs from the group the class
   resolves (a selector added, removed or changed).

Not modelled (Substrate never changes them): subnet, security-group and capacity-reservation
resolution, and `InstanceTypeNotFound`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from substrate.engines.karpenter.hashing import (
    EC2NODECLASS_HASH_VERSION,
    NODEPOOL_HASH_VERSION,
    ec2nodeclass_hash,
    nodepool_hash,
)
from substrate.engines.karpenter.model import (
    NODECLASS_HASH,
    NODECLASS_HASH_VERSION_KEY,
    NODEPOOL_HASH,
    NODEPOOL_HASH_VERSION_KEY,
    PLACEMENT_GROUP_ID,
    NodeClaim,
    resolved_ami,
)

Requirement = Mapping[str, Any]


def _numeric(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def label_satisfies(labels: Mapping[str, str], req: Requirement) -> bool:
    """Whether a node with these (concrete) labels is compatible with one requirement
    (scheduling.Requirements.Compatible with the labels as `In [value]` requirements)."""
    key, op = req["key"], req["operator"]
    values = [str(v) for v in req.get("values") or ()]
    if key not in labels:
        return op in ("NotIn", "DoesNotExist")
    value = labels[key]
    if op == "In":
        return value in values
    if op == "NotIn":
        return value not in values
    if op == "Exists":
        return True
    if op == "DoesNotExist":
        return False
    number, bound = _numeric(value), _numeric(values[0]) if values else None
    if number is None or bound is None:
        return False
    return {"Gt": number > bound, "Lt": number < bound, "Gte": number >= bound}.get(
        op, number <= bound
    )


def requirements_drifted(labels: Mapping[str, str], requirements: list[Requirement]) -> bool:
    return not all(label_satisfies(labels, r) for r in requirements)


def _hash_drift(
    claim: NodeClaim, current: str, hash_key: str, version_key: str, version: str
) -> bool:
    stored, stored_version = claim.annotations.get(hash_key), claim.annotations.get(version_key)
    if stored is None or stored_version is None or stored_version != version:
        return False
    return stored != current


def drift_reason(
    claim: NodeClaim,
    nodepool: Mapping[str, Any],
    nodeclass: Mapping[str, Any],
    *,
    latest_ami: str = "v0",
    placement_group_id: Callable[[Mapping[str, Any]], str | None] = lambda _nc: None,
    hashes: tuple[str, str] | None = None,
) -> str | None:
    """Karpenter's drift reason for `claim` against the current objects, or None. `hashes`:
    the NodePool's and EC2NodeClass's hash annotations, when already computed."""
    pool_hash, class_hash = hashes or (nodepool_hash(nodepool), ec2nodeclass_hash(nodeclass))
    if _hash_drift(
        claim,
        pool_hash,
        NODEPOOL_HASH,
        NODEPOOL_HASH_VERSION_KEY,
        NODEPOOL_HASH_VERSION,
    ):
        return "NodePoolDrifted"
    requirements = nodepool["spec"]["template"]["spec"].get("requirements") or []
    if requirements_drifted(claim.labels, requirements):
        return "RequirementsDrifted"
    if _hash_drift(
        claim,
        class_hash,
        NODECLASS_HASH,
        NODECLASS_HASH_VERSION_KEY,
        EC2NODECLASS_HASH_VERSION,
    ):
        return "NodeClassDrift"
    if resolved_ami(nodeclass, claim.instance, latest_ami) != claim.image_id:
        return "AMIDrift"
    if claim.labels.get(PLACEMENT_GROUP_ID) != placement_group_id(nodeclass):
        return "PlacementGroupDrift"
    return None
