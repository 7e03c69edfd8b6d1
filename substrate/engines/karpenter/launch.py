"""The nodes Karpenter v1.14 launches for a gang of identical pending pods on an empty cluster.

kubernetes-sigs/karpenter v1.14.1 `pkg/controllers/provisioning/scheduling/scheduler.go` and the
v1.14 docs (concepts/scheduling.md, concepts/nodepools.md "spec.limits",
concepts/nodeclasses.md "Reserved Resources"), modelled for one workload:

- NodePools are tried by weight (scheduling.order_by_weight); a pod can use a pool when it
  tolerates the template's taints (NoSchedule, NoExecute) and its node selector and required node
  affinity are compatible with the node's labels: the template's labels and requirements, the
  pool's name, and the instance type's labels.
- An instance type of the pool (its requirements on instance labels, the catalog of
  instance_types.py) can hold a pod when its allocatable, less the requests of the DaemonSet pods
  that would run on that node, covers the pod's requests (and one more pod).
- A new NodeClaim takes as many of the pods as one instance type can hold; its options are the
  types that hold them all; the cheapest is launched (on-demand lowest price). Reserved
  capacity, when the pool allows it and a reservation exists, is used first: not knowable
  offline.
- Volume topology (volumes.py): the requirements a pod's bound PersistentVolumes add (an EBS
  volume's zone) narrow the zones the NodeClaim may launch in; a pool whose nodes cannot be in
  such a zone cannot take the pod. Zones come from the pool's requirements, else the node
  class's subnets (the stack's Availability Zones, when given).
- `spec.limits`: an instance type whose capacity would exceed what the pool has left is not
  launched (filterByRemainingResources); the pod then goes to the next pool, or stays pending.
  (Karpenter's first round subtracts the largest option's capacity and may take more rounds;
  what finally runs is what the launched nodes' capacity allows, which is modelled.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from substrate.engines.karpenter import pods as podreq
from substrate.engines.karpenter import volumes as volreq
from substrate.engines.karpenter.instance_types import InstanceType, Resources, catalog
from substrate.engines.karpenter.scheduling import order_by_weight

Obj = Mapping[str, Any]


@dataclass(frozen=True)
class Option:
    """One instance type of a pool, for this pod."""

    type: InstanceType
    free: Resources
    """Allocatable less the DaemonSet pods' requests."""
    per_node: int
    """How many of the pods fit on one node."""
    zones: tuple[str, ...] = ()
    """The zones a node of this type may launch in for the pod (empty: not known)."""


@dataclass
class PoolFit:
    pool: str
    options: list[Option] = field(default_factory=list)
    reason: str = ""
    """Why no node of the pool can hold one pod (empty when some can)."""


@dataclass(frozen=True)
class Node:
    pool: str
    type: InstanceType
    pods: int
    zones: tuple[str, ...] = ()
    """The NodeClaim's zone requirement (empty: not known)."""


@dataclass
class Launch:
    pods: int
    requests: Resources
    pools: list[PoolFit]
    nodes: list[Node] = field(default_factory=list)
    pending: int = 0
    limited: dict[str, str] = field(default_factory=dict)
    """Pool -> the limit that stopped a further node."""

    @property
    def fits(self) -> bool:
        return any(p.options for p in self.pools)


def node_labels(nodepool: Obj, it: InstanceType) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The labels a node of ``nodepool`` with instance type ``it`` carries: fixed ones, and the
    keys whose value is one of several (capacity type, zone) as the pool allows."""
    template = nodepool["spec"]["template"]
    fixed = {**(template.get("metadata") or {}).get("labels", {}), **it.labels}
    fixed[podreq.NODEPOOL] = str(nodepool["metadata"]["name"])
    choices: dict[str, list[str]] = {}
    for r in template["spec"].get("requirements") or ():
        if r["key"] not in fixed and r["operator"] == "In":
            choices[r["key"]] = [str(v) for v in r.get("values") or ()]
    return fixed, choices


def pool_types(nodepool: Obj) -> list[InstanceType]:
    """The catalog's instance types the pool's requirements allow."""
    requirements = nodepool["spec"]["template"]["spec"].get("requirements") or ()
    keys = {k for it in catalog() for k in it.labels}
    instance = [r for r in requirements if r["key"] in keys]
    return [it for it in catalog() if podreq.satisfies(it.labels, {}, instance)]


def taints(nodepool: Obj) -> list[Obj]:
    return list(nodepool["spec"]["template"]["spec"].get("taints") or ())


def daemon_overhead(
    daemonsets: Sequence[Obj],
    labels: Mapping[str, str],
    choices: Mapping[str, list[str]],
    node_taints: Sequence[Obj],
) -> Resources:
    total: Resources = {}
    for ds in daemonsets:
        spec = ds["spec"]["template"]["spec"]
        if podreq.schedulable(spec, labels, choices, node_taints):
            total = podreq.add(total, podreq.requests(spec))
    return total


def _zones(
    pod: Obj,
    labels: Mapping[str, str],
    choices: Mapping[str, list[str]],
    alternatives: Sequence[volreq.Alternative],
) -> tuple[str, ...] | None:
    """The zones a node with these labels may launch in for ``pod``: each where the pod's
    selection and one of its volumes' alternatives hold; None when there is none."""
    known = [labels[volreq.ZONE]] if volreq.ZONE in labels else choices.get(volreq.ZONE)
    candidates: list[str | None] = list(known) if known else [None]
    found: list[str] = []
    for z in candidates:
        at = {**choices, volreq.ZONE: [z]} if z is not None else choices
        if not podreq.selects(pod, labels, at):
            continue
        if alternatives and not any(podreq.satisfies(labels, at, a) for a in alternatives):
            continue
        if z is None:
            return ()
        found.append(z)
    return tuple(found) if found else None


def fit_pool(
    pod: Obj,
    nodepool: Obj,
    nodeclass: Obj | None,
    daemonsets: Sequence[Obj],
    *,
    zones: Sequence[str] = (),
    volumes: Sequence[Obj] = (),
) -> PoolFit:
    """The pool's instance types that hold at least one ``pod`` (its spec), or why none does.
    ``zones``: the zones of the node class's subnets (a pool without a zone requirement
    launches in any of them); ``volumes``: the PersistentVolumes the pod's claims are bound to
    (volumes.alternatives)."""
    name = str(nodepool["metadata"]["name"])
    found = PoolFit(name)
    untolerated = [t for t in taints(nodepool) if not podreq.tolerated(pod, t)]
    if untolerated:
        t = untolerated[0]
        found.reason = f"does not tolerate taint {t['key']}={t.get('value', '')}:{t['effect']}"
        return found
    kubelet = (nodeclass or {}).get("spec", {}).get("kubelet") or {}
    need = podreq.requests(pod)
    alternatives = volreq.alternatives(volumes)
    selected, by_volume = [], False
    for it in pool_types(nodepool):
        labels, choices = node_labels(nodepool, it)
        if zones and volreq.ZONE not in labels and volreq.ZONE not in choices:
            choices[volreq.ZONE] = list(zones)
        where = _zones(pod, labels, choices, alternatives)
        if where is None:
            by_volume = by_volume or podreq.selects(pod, labels, choices)
            continue
        selected.append(it)
        free = podreq.subtract(
            it.allocatable(kubelet),
            daemon_overhead(daemonsets, labels, choices, taints(nodepool)),
        )
        per_node = podreq.how_many(need, free)
        if per_node:
            found.options.append(Option(it, free, per_node, where))
    if not selected:
        found.reason = (
            "its volumes' node affinity (zone) matches no node of the pool"
            if by_volume
            else "its node selector or node affinity matches no node of the pool"
        )
    elif not found.options:
        found.reason = podreq.short_of(need, [it.allocatable(kubelet) for it in selected], selected)
    return found


def _price(it: InstanceType) -> tuple[float, str]:
    return (it.price if it.price is not None else float("inf"), it.name)


def _limits(nodepool: Obj) -> Resources:
    return {k: podreq.amount(k, v) for k, v in (nodepool["spec"].get("limits") or {}).items()}


def _within(capacity: Resources, remaining: Resources) -> str | None:
    """The first limit ``capacity`` exceeds, or None."""
    return next((k for k, v in sorted(remaining.items()) if capacity.get(k, 0) > v), None)


def nodeclass_of(nodepool: Obj, nodeclasses: Mapping[str, Obj]) -> Obj | None:
    return nodeclasses.get(str(nodepool["spec"]["template"]["spec"]["nodeClassRef"]["name"]))


def kubelet_of(nodepool: Obj, nodeclasses: Mapping[str, Obj]) -> Mapping[str, Any]:
    return (nodeclass_of(nodepool, nodeclasses) or {}).get("spec", {}).get("kubelet") or {}


@dataclass(frozen=True)
class Cluster:
    """What Karpenter launches from: the NodePools, their EC2NodeClasses, the DaemonSets."""

    nodepools: Sequence[Obj]
    nodeclasses: Mapping[str, Obj]
    daemonsets: Sequence[Obj]
    zones: Sequence[str] = ()
    """The zones of the node classes' subnets (the stack's Availability Zones); empty: not
    known."""

    def empty_limits(self) -> dict[str, Resources]:
        """Each pool's limits with no node launched yet."""
        return {str(np["metadata"]["name"]): _limits(np) for np in self.nodepools}


def launch(
    pod: Obj,
    count: int,
    cluster: Cluster,
    remaining: dict[str, Resources] | None = None,
    *,
    volumes: Sequence[Obj] = (),
) -> Launch:
    """The nodes Karpenter launches for ``count`` pods like ``pod`` (a pod spec) on an empty
    cluster, or on what ``remaining`` (pool -> limits left, updated) says is left; ``volumes``:
    the PersistentVolumes the pod's claims are bound to."""
    ordered = order_by_weight(cluster.nodepools)
    fits = [
        fit_pool(
            pod,
            np,
            nodeclass_of(np, cluster.nodeclasses),
            cluster.daemonsets,
            zones=cluster.zones,
            volumes=volumes,
        )
        for np in ordered
    ]
    out = Launch(count, podreq.requests(pod), fits)
    remaining = cluster.empty_limits() if remaining is None else remaining
    kubelets = [kubelet_of(np, cluster.nodeclasses) for np in ordered]
    left = count
    while left > 0:
        node = _next_node(fits, kubelets, remaining, left, out.limited)
        if node is None:
            break
        out.nodes.append(node)
        left -= node.pods
    out.pending = left
    return out


def _next_node(
    fits: Sequence[PoolFit],
    kubelets: Sequence[Mapping[str, Any]],
    remaining: dict[str, Resources],
    left: int,
    limited: dict[str, str],
) -> Node | None:
    """The next NodeClaim: the first pool (by weight) with an option within its limits, as many
    pods as one option holds, the cheapest option that holds them."""
    for fit, kubelet in zip(fits, kubelets, strict=True):
        allowed = []
        for o in fit.options:
            over = _within(o.type.capacity(kubelet), remaining[fit.pool])
            if over is None:
                allowed.append(o)
            else:
                limited.setdefault(fit.pool, over)
        if not allowed:
            continue
        take = min(left, max(o.per_node for o in allowed))
        best = min((o for o in allowed if o.per_node >= take), key=lambda o: _price(o.type))
        capacity = best.type.capacity(kubelet)
        remaining[fit.pool] = {k: v - capacity.get(k, 0) for k, v in remaining[fit.pool].items()}
        return Node(fit.pool, best.type, take, best.zones)
    return None


def cheapest(fit: PoolFit, pods: int) -> tuple[InstanceType, int, float] | None:
    """The cheapest way the pool holds ``pods`` pods without limits: (type, nodes, USD/hour)."""
    priced = [o for o in fit.options if o.type.price is not None]
    if not priced:
        return None
    best = min(priced, key=lambda o: (_nodes(pods, o.per_node) * (o.type.price or 0), o.type.name))
    nodes = _nodes(pods, best.per_node)
    return best.type, nodes, nodes * (best.type.price or 0.0)


def _nodes(pods: int, per_node: int) -> int:
    return -(-pods // per_node)
