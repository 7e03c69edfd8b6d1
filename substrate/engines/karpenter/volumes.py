"""The node requirements a pod's bound volumes add to the NodeClaim Karpenter launches for it.

kubernetes-sigs/karpenter v1.14.1 `pkg/controllers/provisioning/scheduling/volumetopology.go`
(GetRequirements): for each volume of the pod whose claim is bound (`spec.volumeName`), every
required node selector term of the PersistentVolume's `nodeAffinity` is one alternative (terms
are OR'd); a Local or HostPath volume's `kubernetes.io/hostname` expressions are dropped (a
hostname-only term matches every node). Several volumes: the cross product of their
alternatives, keeping the compatible ones. The alternatives go into the NodeClaim's
requirements, not into the pod's affinity. Keys are normalized as Karpenter's requirements
normalize them (`pkg/apis/v1/labels.go` NormalizedLabels, plus
`topology.ebs.csi.aws.com/zone`, which the AWS provider's operator adds): the EBS CSI driver's
zone key is the zone. (Claims not yet bound take their StorageClass's `allowedTopologies`; not
modelled: an agent's replacement has a bound claim.)
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

ZONE = "topology.kubernetes.io/zone"
HOSTNAME = "kubernetes.io/hostname"
NORMALIZED = {
    "failure-domain.beta.kubernetes.io/zone": ZONE,
    "beta.kubernetes.io/arch": "kubernetes.io/arch",
    "beta.kubernetes.io/os": "kubernetes.io/os",
    "beta.kubernetes.io/instance-type": "node.kubernetes.io/instance-type",
    "failure-domain.beta.kubernetes.io/region": "topology.kubernetes.io/region",
    "topology.ebs.csi.aws.com/zone": ZONE,
}
Expr = Mapping[str, Any]
Alternative = tuple[Expr, ...]


def _normalized(e: Expr) -> Expr:
    return {**e, "key": NORMALIZED.get(str(e["key"]), e["key"])}


def _of(pv: Mapping[str, Any]) -> list[Alternative]:
    spec = pv.get("spec") or {}
    required = ((spec.get("nodeAffinity") or {}).get("required") or {}).get(
        "nodeSelectorTerms"
    ) or ()
    local = "local" in spec or "hostPath" in spec
    out: list[Alternative] = []
    for term in required:
        exprs = list(term.get("matchExpressions") or ())
        kept = [e for e in exprs if not (local and e["key"] == HOSTNAME)]
        if exprs and not kept:
            out.append(())  # hostname only: unconstrained
        elif kept:
            out.append(tuple(_normalized(e) for e in kept))
    return out


def _compatible(exprs: Sequence[Expr]) -> bool:
    """No key is asked for values of which no one satisfies every `In` on it."""
    allowed: dict[str, set[str]] = {}
    for e in exprs:
        if e.get("operator") == "In":
            values = {str(v) for v in e.get("values") or ()}
            allowed[e["key"]] = allowed.get(e["key"], values) & values
    return all(allowed.values())


def alternatives(volumes: Sequence[Mapping[str, Any]]) -> list[Alternative]:
    """The requirement alternatives of the pod's bound volumes (PersistentVolumes); [] when
    they add none."""
    merged: list[Alternative] = [()]
    for pv in volumes:
        alts = _of(pv)
        if not alts:
            continue
        product = [a + b for a, b in itertools.product(merged, alts)]
        merged = [p for p in product if _compatible(p)] or product
    return [] if merged == [()] else merged
