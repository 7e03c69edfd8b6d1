"""Karpenter v1.14's node auto repair (alpha feature gate `NodeRepair`, off by default), as
implemented in kubernetes-sigs/karpenter at the commit aws/karpenter-provider-aws v1.14.1 pins
(`pkg/controllers/node/health/controller.go`, registered only with the gate on and a cloud
provider that has repair policies) with the AWS provider's policies
(`pkg/cloudprovider/cloudprovider.go` `RepairPolicies`, the tables of the v1.14 "Disruption"
page, "Node Auto Repair"):

- A node is unhealthy when one of its conditions has a policy's type and status. Of those, the
  one whose toleration ends first decides: at (its `lastTransitionTime` + toleration) the node
  is repaired, not before.
- Before repairing, the node's NodePool must be healthy: at most 20% of its nodes unhealthy,
  rounded up (`intstr.GetScaledValueFromIntOrPercent(20%, nodes, roundUp=true)`; "given a
  NodePool with three nodes, one may be unhealthy"). Counting ignores the tolerations: a node
  with any matching condition counts. Otherwise Karpenter publishes `NodeRepairBlocked` and
  looks again 5 minutes later.
- Repair annotates the NodeClaim `karpenter.sh/nodeclaim-termination-timestamp` = now and
  deletes it: termination deletes its pods at once, `karpenter.sh/do-not-disrupt` and PDBs
  notwithstanding, and no disruption budget applies.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

TERMINATION_TIMESTAMP = "karpenter.sh/nodeclaim-termination-timestamp"
ALLOWED_UNHEALTHY_PERCENT = 20
BLOCKED_REQUEUE = timedelta(minutes=5)

Conditions = Mapping[str, tuple[str, datetime]]
"""A node's status conditions: type -> (status, lastTransitionTime)."""


@dataclass(frozen=True)
class RepairPolicy:
    condition: str
    status: str
    toleration: timedelta


REPAIR_POLICIES = (
    # Kubelet node conditions.
    RepairPolicy("Ready", "False", timedelta(minutes=30)),
    RepairPolicy("Ready", "Unknown", timedelta(minutes=30)),
    # EKS node monitoring agent conditions.
    RepairPolicy("AcceleratedHardwareReady", "False", timedelta(minutes=10)),
    RepairPolicy("StorageReady", "False", timedelta(minutes=30)),
    RepairPolicy("NetworkingReady", "False", timedelta(minutes=30)),
    RepairPolicy("KernelReady", "False", timedelta(minutes=30)),
    RepairPolicy("ContainerRuntimeReady", "False", timedelta(minutes=30)),
)
"""aws/karpenter-provider-aws v1.14.1 `CloudProvider.RepairPolicies`, in its order."""


@dataclass(frozen=True)
class Unhealthy:
    condition: str
    status: str
    due: datetime
    """When the toleration ends: the node is repaired from then on."""


def unhealthy(conditions: Conditions) -> Unhealthy | None:
    """The matching condition whose toleration ends first (the first policy on a tie), or None
    for a healthy node."""
    found: Unhealthy | None = None
    for policy in REPAIR_POLICIES:
        status, since = conditions.get(policy.condition, ("", None))
        if since is None or status != policy.status:
            continue
        due = since + policy.toleration
        if found is None or found.due > due:
            found = Unhealthy(policy.condition, status, due)
    return found


def unhealthy_threshold(nodes: int) -> int:
    """How many of `nodes` may be unhealthy while repair still acts (20%, rounded up)."""
    return math.ceil(ALLOWED_UNHEALTHY_PERCENT * nodes / 100)


def pool_healthy(nodes: Iterable[Conditions]) -> bool:
    """At most 20% (rounded up) of the pool's nodes have a condition some policy matches."""
    listed = list(nodes)
    sick = sum(1 for conditions in listed if unhealthy(conditions) is not None)
    return sick <= unhealthy_threshold(len(listed))


GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
"""What Go's strconv.ParseBool reads as true (k8s cliflag.MapStringBool parses each value)."""


def gate_on(feature_gates: str) -> bool:
    """Whether the controller's FEATURE_GATES value (the chart renders
    `ReservedCapacity=true,...,NodeRepair=false,...`; options.ParseFeatureGates) turns
    NodeRepair on (default off)."""
    gates = {
        key.strip(): value.strip()
        for key, _, value in (part.partition("=") for part in feature_gates.split(","))
    }
    return gates.get("NodeRepair", "false") in GO_TRUE
