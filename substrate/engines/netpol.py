"""Who can reach whom under a set of Kubernetes objects, decided by np-guard's netpol-analyzer.

The analyzer (engine ``netpol``, ``k8snetpolicy list``) reads Namespaces, workloads (Pods,
Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs) and NetworkPolicies,
AdminNetworkPolicies and BaselineAdminNetworkPolicies, and prints every allowed connection
between workloads and IP ranges. :func:`analyze` runs it once per distinct set of objects
(cached) and :class:`Connectivity` answers "may A reach B on port P" by looking the pair up in
that output: nothing here evaluates a policy.

Objects come from anywhere: the plan's manifests, Helm-rendered releases, the objects EKS
itself runs (:func:`eks_objects`), and stand-ins for pods that controllers create at run time.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from substrate.engines import EngineFailedError, run

ENGINE = "netpol"
WORKLOAD_KINDS = frozenset(
    {
        "Pod",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "ReplicationController",
        "Job",
        "CronJob",
    }
)
POLICY_KINDS = frozenset({"NetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"})
KINDS = WORKLOAD_KINDS | POLICY_KINDS | {"Namespace"}
ALL = "All Connections"
PROTOCOLS = ("TCP", "UDP", "SCTP")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def relevant(objects: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The objects the analyzer reads (Namespaces, workloads, network policies)."""
    return [dict(o) for o in objects if o.get("kind") in KINDS]


def eks_objects() -> list[dict[str, Any]]:
    """What every EKS cluster runs that the plan does not render and tenant policies name:
    the `coredns` add-on's Deployment in kube-system (labels `k8s-app: kube-dns`, DNS on 53
    UDP and TCP, metrics on 9153, as the upstream CoreDNS manifest the add-on ships)."""
    from substrate.components.workloads.tenant_manifests import KUBE_DNS

    ports = [
        {"name": "dns", "containerPort": 53, "protocol": "UDP"},
        {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
        {"name": "metrics", "containerPort": 9153, "protocol": "TCP"},
    ]
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}},
        workload("Deployment", "kube-system", "coredns", dict(KUBE_DNS), ports, replicas=2),
    ]


def workload(
    kind: str,
    namespace: str,
    name: str,
    labels: Mapping[str, str],
    ports: Iterable[Mapping[str, Any]] = (),
    *,
    replicas: int = 1,
) -> dict[str, Any]:
    """A minimal workload object (Deployment, StatefulSet, DaemonSet or Job) whose pods carry
    ``labels`` and declare ``ports``: a stand-in for pods created at run time."""
    api = "batch/v1" if kind == "Job" else "apps/v1"
    template = {
        "metadata": {"labels": dict(labels)},
        "spec": {"containers": [{"name": "main", "image": "stand-in", "ports": list(ports)}]},
    }
    spec: dict[str, Any] = {"template": template}
    if kind == "Job":
        spec["parallelism"] = replicas
    else:
        spec["selector"] = {"matchLabels": dict(labels)}
        if kind != "DaemonSet":
            spec["replicas"] = replicas
    return {
        "apiVersion": api,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


@dataclass(frozen=True)
class Ports:
    """A connection set as the analyzer prints it ("All Connections", "TCP 53,UDP 53",
    "TCP 1-79,81-65535,UDP 53")."""

    everything: bool
    ranges: tuple[tuple[str, int, int], ...]
    """(protocol, first port, last port)."""

    @classmethod
    def parse(cls, text: str) -> Ports:
        if text.strip() == ALL:
            return cls(True, ())
        ranges: list[tuple[str, int, int]] = []
        protocol = ""
        for token in (t.strip() for t in text.split(",")):
            head, _, rest = token.partition(" ")
            span = token
            if head in PROTOCOLS:
                protocol, span = head, rest
            if not protocol:
                raise ValueError(f"unexpected connection set from the analyzer: {text!r}")
            first, _, last = span.partition("-")
            if first.isdigit():  # a named port the destination does not declare reaches nothing
                ranges.append((protocol, int(first), int(last or first)))
        return cls(False, tuple(ranges))

    def allows(self, port: int, protocol: str = "TCP") -> bool:
        return self.everything or any(
            p == protocol and lo <= port <= hi for p, lo, hi in self.ranges
        )


@dataclass(frozen=True)
class Connection:
    src: str
    """`namespace/name[Kind]` or IP ranges `a-b, c-d`, as the analyzer prints them."""
    dst: str
    conn: str
    """The allowed connection set, as printed."""

    @property
    def ports(self) -> Ports:
        return Ports.parse(self.conn)


def _workload_of(peer: str) -> str | None:
    """`namespace/name` of a workload peer `namespace/name[Kind]`; None for IP ranges."""
    return peer.split("[", 1)[0] if peer.endswith("]") else None


def _contains(peer: str, address: Address) -> bool:
    if _workload_of(peer) is not None:
        return False
    for span in peer.split(","):
        first, _, last = span.strip().partition("-")
        lo = ipaddress.ip_address(first)
        hi = ipaddress.ip_address(last) if last else lo
        if lo.version == address.version and int(lo) <= int(address) <= int(hi):
            return True
    return False


class Connectivity:
    """Every allowed connection among the analyzed objects (the analyzer's own list)."""

    def __init__(self, connections: Iterable[Connection], workloads: Iterable[str]) -> None:
        self.connections = tuple(connections)
        self.workloads = frozenset(workloads)
        """`namespace/name` of every workload the analyzer was given."""

    def _matches(self, peer: str, end: str) -> bool:
        name = _workload_of(peer)
        if name is not None:
            return name == end
        try:
            return _contains(peer, ipaddress.ip_address(end))
        except ValueError:
            return False

    def _check(self, end: str) -> None:
        if "/" in end and end not in self.workloads:
            raise KeyError(f"no workload {end!r} was analyzed (known: {sorted(self.workloads)})")
        if "/" not in end:
            ipaddress.ip_address(end)  # ValueError for anything else

    def ports(self, src: str, dst: str) -> Ports:
        """What ``src`` may open to ``dst``; each is a workload `namespace/name` or an IP."""
        self._check(src)
        self._check(dst)
        if src == dst:
            raise ValueError(f"the analyzer does not report a workload's traffic to itself: {src}")
        found = [
            c for c in self.connections if self._matches(c.src, src) and self._matches(c.dst, dst)
        ]
        if len(found) > 1:
            raise ValueError(f"the analyzer listed {src} -> {dst} more than once: {found}")
        return found[0].ports if found else Ports(False, ())

    def allows(self, src: str, dst: str, port: int, protocol: str = "TCP") -> bool:
        return self.ports(src, dst).allows(port, protocol)

    def reachable_from(self, src: str) -> dict[str, Ports]:
        """What ``src`` reaches: workload `namespace/name` or IP ranges (as printed) -> ports."""
        self._check(src)
        return {
            _workload_of(c.dst) or c.dst: c.ports
            for c in self.connections
            if self._matches(c.src, src)
        }

    def reaching(self, dst: str) -> dict[str, Ports]:
        """Who reaches ``dst``: workload `namespace/name` or IP ranges (as printed) -> ports."""
        self._check(dst)
        return {
            _workload_of(c.src) or c.src: c.ports
            for c in self.connections
            if self._matches(c.dst, dst)
        }


_CACHE: dict[str, Connectivity] = {}


def _digest(objects: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(objects, sort_keys=True).encode()).hexdigest()


def _workload_names(objects: Iterable[Mapping[str, Any]]) -> set[str]:
    return {
        f"{o['metadata'].get('namespace', 'default')}/{o['metadata']['name']}"
        for o in objects
        if o["kind"] in WORKLOAD_KINDS
    }


def analyze(objects: Iterable[Mapping[str, Any]]) -> Connectivity:
    """One analyzer run over ``objects`` (those it does not read are dropped), cached by
    content. EngineFailedError when the analyzer rejects or cannot read an object."""
    objs = sorted(
        relevant(objects),
        key=lambda o: (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]),
    )
    key = _digest(objs)
    if key not in _CACHE:
        with tempfile.TemporaryDirectory(prefix="substrate-netpol-") as tmp:
            for i, obj in enumerate(objs):
                Path(tmp, f"{i:04d}.yaml").write_text(yaml.safe_dump(obj, sort_keys=True))
            done = run(ENGINE, ["list", "--dirpath", tmp, "-o", "json"])
        if done.stderr.strip():
            # v1.4.4 drops an unreadable object (and warns of a named port no destination
            # declares) on stderr yet exits 0, and its --fail flag drops every result: any
            # message means the verdict may be missing something, so it is an error.
            raise EngineFailedError(f"{ENGINE} list complained:\n{done.stderr[-4000:]}")
        listed = json.loads(done.stdout) if done.stdout.strip() else []
        _CACHE[key] = Connectivity(
            (Connection(c["src"], c["dst"], c["conn"]) for c in listed), _workload_names(objs)
        )
    return _CACHE[key]
