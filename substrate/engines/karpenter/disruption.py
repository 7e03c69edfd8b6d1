"""Karpenter v1.14's disruption and termination rules over time, as documented on the v1.14
"Disruption" page and implemented in kubernetes-sigs/karpenter v1.14.1
(`pkg/controllers/disruption`, `pkg/controllers/nodeclaim/disruption`,
`pkg/controllers/node/termination/terminator`, `pkg/controllers/state/statenode.go`).

Per tick (one minute; the disruption loop polls every 10 s, so several commands may start):

- Pods that completed leave their node (a pod event: restarts the `consolidateAfter` timer).
- Draining nodes evict pods through the Eviction API: pods with an active
  `karpenter.sh/do-not-disrupt` or a blocking PDB are not evicted; with a NodeClaim
  `terminationGracePeriod` they are deleted anyway at (drain start + grace period - the pod's own
  `terminationGracePeriodSeconds`). A node is terminated once no pod it must drain is left.
- Drift is detected (``drift.drift_reason``) when objects change and every 5 minutes; expired
  NodeClaims (`expireAfter`) start draining at once, whatever the budgets say (forceful).
- `Consolidatable` holds once `consolidateAfter` (not `Never`) passed since the last pod event
  (or initialisation).
- The disruption controller runs one method per pass in order: Emptiness (empty, consolidatable
  nodes, budget reason `Empty`, any consolidation policy), then Drift (budget `Drifted`, empty
  candidates first, then by drift time; one node per command; a replacement is launched first
  and the node deleted once it is initialised). Candidates must be initialised, not already
  deleting, without the node annotation `karpenter.sh/do-not-disrupt: "true"`, and with no pod
  blocking eviction - except that drift ("eventual" disruption) ignores blocking pods when the
  NodeClaim has a `terminationGracePeriod`.

- With `node_repair` (the `NodeRepair` feature gate), the health controller
  (substrate.engines.karpenter.repair) force-terminates an unhealthy node once its condition's
  toleration ended and its NodePool is healthy enough; replicated pods are recreated on a node
  the provisioner launches for them (modelled as the same pool and instance type).

Not modelled: non-empty consolidation (`WhenEmptyOrUnderutilized`/`Balanced` bin packing) and
interruption; NodePool limits when launching replacements.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from substrate.engines.karpenter.budgets import allowed_disruptions
from substrate.engines.karpenter.drift import drift_reason
from substrate.engines.karpenter.hashing import ec2nodeclass_hash, nodepool_hash
from substrate.engines.karpenter.model import (
    DO_NOT_DISRUPT,
    NodeClaim,
    Pod,
    duration,
    launch,
)
from substrate.engines.karpenter.repair import (
    BLOCKED_REQUEUE,
    TERMINATION_TIMESTAMP,
    pool_healthy,
    unhealthy,
)

TICK = timedelta(minutes=1)
PASSES_PER_TICK = 6
DRIFT_RECHECK_MINUTES = 5
"""The drift controller re-checks NodeClaims every 5 minutes, and at once when objects change."""


@dataclass(frozen=True)
class Event:
    at: datetime
    node: str
    kind: str
    """Drifted, DisruptionBlocked, Disrupting, Expired, Evicted, PodDeleted, Completed,
    Launched, Terminated, NodeRepairBlocked."""
    detail: str = ""


def do_not_disrupt_active(pod: Pod, now: datetime) -> bool:
    """pod.IsDoNotDisruptActive: "true", or a Go duration still running since the pod started
    (an unparsable value is ignored)."""
    value = pod.annotations.get(DO_NOT_DISRUPT)
    if value is None:
        return False
    if value == "true":
        return True
    try:
        window = duration(value)
    except ValueError:
        return False
    if window is None:
        return False
    return pod.started is None or now - pod.started < window


@dataclass
class Cluster:
    nodepools: dict[str, Mapping[str, Any]]
    nodeclasses: dict[str, Mapping[str, Any]]
    claims: list[NodeClaim] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    latest_ami: str = "v0"
    placement_group_id: Callable[[Mapping[str, Any]], str | None] = lambda _nc: None
    startup: timedelta = timedelta(minutes=5)
    node_repair: bool = False
    """Karpenter's `NodeRepair` feature gate (alpha, off by default)."""
    _launched: int = 0
    _repair_blocked_until: dict[str, datetime] = field(default_factory=dict)
    _hashes: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    _changed: bool = True

    # -- queries ---------------------------------------------------------------------------
    def live(self) -> list[NodeClaim]:
        return [c for c in self.claims if c.live]

    def claim(self, name: str) -> NodeClaim:
        (found,) = [c for c in self.claims if c.name == name]
        return found

    def of_kind(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]

    # -- changes -----------------------------------------------------------------------------
    def apply(self, nodepools: Mapping[str, Any], nodeclasses: Mapping[str, Any]) -> None:
        """`pulumi up` of new NodePool/EC2NodeClass manifests (Karpenter re-hashes them)."""
        self.nodepools = dict(nodepools)
        self.nodeclasses = dict(nodeclasses)
        self._hashes.clear()
        self._changed = True

    def _hashes_of(self, pool: str, nodeclass: str) -> tuple[str, str]:
        """The hash annotations Karpenter's hash controllers keep on the objects."""
        key = (pool, nodeclass)
        if key not in self._hashes:
            self._hashes[key] = (
                nodepool_hash(self.nodepools[pool]),
                ec2nodeclass_hash(self.nodeclasses[nodeclass]),
            )
        return self._hashes[key]

    def add(self, claim: NodeClaim) -> NodeClaim:
        self.claims.append(claim)
        self.events.append(Event(claim.created, claim.name, "Launched", claim.instance.type))
        return claim

    def replace(self, old: NodeClaim, now: datetime) -> NodeClaim:
        self._launched += 1
        pool = self.nodepools[old.nodepool]
        nodeclass = self.nodeclasses[pool["spec"]["template"]["spec"]["nodeClassRef"]["name"]]
        claim = launch(
            f"{old.nodepool}-r{self._launched}",
            pool,
            nodeclass,
            old.instance,
            now,
            zone=old.labels["topology.kubernetes.io/zone"],
            capacity_type=old.labels["karpenter.sh/capacity-type"],
            latest_ami=self.latest_ami,
            placement_group_id=self.placement_group_id(nodeclass),
            startup=self.startup,
        )
        return self.add(claim)

    # -- the loop ----------------------------------------------------------------------------
    def run(self, start: datetime, until: datetime) -> None:
        now = start
        while now <= until:
            self.tick(now)
            now += TICK

    def tick(self, now: datetime) -> None:
        for claim in self.live():
            self._complete_pods(claim, now)
        self._settle_replacements(now)
        recheck = self._changed or now.minute % DRIFT_RECHECK_MINUTES == 0
        self._changed = False
        for claim in self.live():
            if claim.deleting_since is None:
                self._expire(claim, now)
                if recheck:
                    self._detect(claim, now)
        if self.node_repair:
            self._repair(now)
        for _ in range(PASSES_PER_TICK):
            if not self._disrupt_once(now):
                break
        for claim in self.live():
            if claim.deleting_since is not None:
                self._drain(claim, now)

    def _complete_pods(self, claim: NodeClaim, now: datetime) -> None:
        for pod in [p for p in claim.pods if p.finishes is not None and p.finishes <= now]:
            claim.pods.remove(pod)
            claim.last_pod_event = pod.finishes
            self.events.append(Event(now, claim.name, "Completed", pod.name))

    def _detect(self, claim: NodeClaim, now: datetime) -> None:
        if claim.initialized is None or claim.initialized > now:
            return
        nodeclass = self.nodeclasses.get(claim.nodeclass)
        pool = self.nodepools.get(claim.nodepool)
        if pool is not None and nodeclass is not None:
            reason = drift_reason(
                claim,
                pool,
                nodeclass,
                latest_ami=self.latest_ami,
                placement_group_id=self.placement_group_id,
                hashes=self._hashes_of(claim.nodepool, claim.nodeclass),
            )
            if reason != claim.drifted:
                claim.drifted, claim.drifted_since = reason, now if reason else None
                if reason:
                    self.events.append(Event(now, claim.name, "Drifted", reason))

    def _expire(self, claim: NodeClaim, now: datetime) -> None:
        expire = duration(claim.expire_after)
        if expire is not None and now >= claim.created + expire:
            self._start_deleting(claim, now, "Expired")

    # -- node health controller (node repair) ------------------------------------------------
    def _repair(self, now: datetime) -> None:
        for claim in self.live():
            found = unhealthy(claim.conditions)
            if claim.deleting_since is not None or found is None or now < found.due:
                continue
            if now < self._repair_blocked_until.get(claim.name, now):
                continue
            pool = [c.conditions for c in self.live() if c.nodepool == claim.nodepool]
            if not pool_healthy(pool):
                self._repair_blocked_until[claim.name] = now + BLOCKED_REQUEUE
                self.events.append(
                    Event(now, claim.name, "NodeRepairBlocked", "more than 20% nodes are unhealthy")
                )
                continue
            self.events.append(Event(now, claim.name, "Disrupting", f"Unhealthy/{found.condition}"))
            claim.annotations[TERMINATION_TIMESTAMP] = now.isoformat()
            if any(p.replicated for p in claim.reschedulable(now)):
                claim.replaced_by = self.replace(claim, now).name
            self._start_deleting(claim, now, f"Unhealthy/{found.condition}")

    # -- disruption controller ----------------------------------------------------------------
    def _consolidatable(self, claim: NodeClaim, now: datetime) -> bool:
        pool = self.nodepools.get(claim.nodepool)
        after = duration(pool["spec"]["disruption"].get("consolidateAfter")) if pool else None
        if after is None or claim.initialized is None:
            return False
        since = claim.last_pod_event or claim.initialized
        return now - since >= after

    def _blocked(self, claim: NodeClaim, now: datetime, eventual: bool) -> str | None:
        """ValidateNodeDisruptable + ValidatePodsDisruptable; None when it may be disrupted."""
        if claim.initialized is None or claim.initialized > now:
            return "node isn't initialized"
        if claim.deleting_since is not None or claim.replacement is not None:
            return "node is deleting or marked for deletion"
        if claim.node_annotations.get(DO_NOT_DISRUPT) == "true":
            return f'disruption is blocked through the "{DO_NOT_DISRUPT}" annotation'
        for pod in claim.running(now):
            problem = None
            if do_not_disrupt_active(pod, now):
                problem = f'pod has "{DO_NOT_DISRUPT}" annotation'
            elif pod.pdb_blocks:
                problem = "pdb prevents pod evictions"
            if problem and not (eventual and claim.termination_grace_period is not None):
                return problem
        return None

    def _budget(self, pool: str, reason: str, now: datetime) -> int:
        claims = [
            c for c in self.live() if c.nodepool == pool and c.initialized and c.initialized <= now
        ]
        disrupting = [
            c for c in claims if c.deleting_since is not None or c.replacement or not c.ready
        ]
        return allowed_disruptions(self.nodepools[pool], now, len(claims), len(disrupting), reason)

    def _disrupt_once(self, now: datetime) -> bool:
        return self._emptiness(now) or self._drift(now)

    def _emptiness(self, now: datetime) -> bool:
        started = False
        for claim in self.live():
            if claim.nodepool not in self.nodepools or claim.reschedulable(now):
                continue
            if not self._consolidatable(claim, now) or self._blocked(claim, now, False):
                continue
            if self._budget(claim.nodepool, "Empty", now) == 0:
                continue
            self._start_deleting(claim, now, "Empty")
            started = True
        return started

    def _drift(self, now: datetime) -> bool:
        candidates = []
        for claim in self.live():
            if claim.drifted is None or claim.nodepool not in self.nodepools:
                continue
            if claim.deleting_since is not None or claim.replacement is not None:
                continue
            problem = self._blocked(claim, now, True)
            if problem is not None:
                self._once(claim, now, "DisruptionBlocked", problem)
                continue
            candidates.append(claim)
        candidates.sort(key=lambda c: (bool(c.reschedulable(now)), c.drifted_since or now))
        for claim in candidates:
            if self._budget(claim.nodepool, "Drifted", now) == 0:
                self._once(claim, now, "DisruptionBlocked", "budget allows no Drifted disruption")
                continue
            self.events.append(Event(now, claim.name, "Disrupting", f"Drifted/{claim.drifted}"))
            if claim.reschedulable(now):
                claim.replacement = self.replace(claim, now).name
            else:
                self._start_deleting(claim, now, "Drifted")
            return True
        return False

    def _once(self, claim: NodeClaim, now: datetime, kind: str, detail: str) -> None:
        last = next((e for e in reversed(self.events) if e.node == claim.name), None)
        if last is None or (last.kind, last.detail) != (kind, detail):
            self.events.append(Event(now, claim.name, kind, detail))

    # -- termination controller --------------------------------------------------------------
    def _start_deleting(self, claim: NodeClaim, now: datetime, reason: str) -> None:
        if claim.deleting_since is None:
            claim.deleting_since, claim.deleting_reason = now, reason
            if reason == "Expired":
                self.events.append(Event(now, claim.name, "Expired", claim.expire_after or ""))

    def _drain(self, claim: NodeClaim, now: datetime) -> None:
        if claim.replacement is not None:
            return
        assert claim.deleting_since is not None
        grace = duration(claim.termination_grace_period)
        deadline = claim.deleting_since + grace if grace is not None else None
        if TERMINATION_TIMESTAMP in claim.annotations:
            deadline = datetime.fromisoformat(claim.annotations[TERMINATION_TIMESTAMP])
        for pod in list(claim.running(now)):
            if pod.daemonset:
                continue
            blocked = do_not_disrupt_active(pod, now) or pod.pdb_blocks
            if not blocked:
                self._remove(claim, pod, now, "Evicted", "eviction API")
            elif deadline is not None and now >= deadline - timedelta(seconds=pod.grace_seconds):
                why = "node repair" if TERMINATION_TIMESTAMP in claim.annotations else None
                self._remove(claim, pod, now, "PodDeleted", why or "terminationGracePeriod")
        if not claim.reschedulable(now):
            claim.gone = now
            self.events.append(Event(now, claim.name, "Terminated", claim.deleting_reason or ""))

    def _remove(self, claim: NodeClaim, pod: Pod, now: datetime, kind: str, why: str) -> None:
        claim.pods.remove(pod)
        claim.last_pod_event = now
        self.events.append(Event(now, claim.name, kind, f"{pod.name} ({why})"))
        if pod.replicated:
            self._recreate(claim, pod, now)

    def _recreate(self, old: NodeClaim, pod: Pod, now: datetime) -> None:
        """Its controller recreates an evicted replica; it lands on the replacement, or on
        another schedulable node of the pool."""
        targets = [old.replaced_by] if old.replaced_by else []
        targets += [c.name for c in self.live() if c.nodepool == old.nodepool and c is not old]
        for name in targets:
            target = self.claim(name)
            if target.live and target.deleting_since is None and target.replacement is None:
                copy = Pod(pod.name, pod.owner, dict(pod.annotations), now, None, pod.grace_seconds)
                copy.replicated = True
                target.pods.append(copy)
                target.last_pod_event = now
                return

    def _settle_replacements(self, now: datetime) -> None:
        """A drift command deletes its node once the replacement is initialised."""
        for claim in self.live():
            if claim.replacement is None:
                continue
            new = self.claim(claim.replacement)
            if new.initialized is not None and new.initialized <= now:
                claim.replaced_by, claim.replacement = claim.replacement, None
                self._start_deleting(claim, now, "Drifted")
