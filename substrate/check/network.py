"""The network question: may the workload's pods open the connections it declares it needs, and
may the peers it declares reach it? Decided by np-guard's NetworkPolicy analyzer
(substrate.engines.netpol) over the cluster the plan builds (every NetworkPolicy, namespace and
workload, Helm releases included), what EKS runs (CoreDNS), the manifests being checked, and a
stand-in pod for a named peer that is not among them.

A workload declares what it needs with annotations, comma-separated:

- ``substrate.io/egress``: what its pods call. ``s3`` (HTTPS to the Region's S3 prefix list),
  ``aws:<service>`` (HTTPS to the interface VPC endpoint of ``com.amazonaws.<region>.<service>``,
  e.g. ``aws:bedrock-runtime``, ``aws:sts``), ``pod-identity`` (the EKS Pod Identity agent),
  ``<namespace>/<name>:<port>`` (a Service, or a workload, of the cluster or of the checked
  manifests; a Service's port is mapped to its target port), ``<address>:<port>``.
- ``substrate.io/ingress``: who calls it, ``<namespace>/<name>:<port>`` (a workload; the port on
  this workload's pods) or ``<address>:<port>``.

A port may end in ``/UDP`` (TCP otherwise).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from substrate.check.context import SUBNET, Context
from substrate.check.inputs import Manifest
from substrate.engines import netpol
from substrate.engines.aws_plan import ENDPOINT
from substrate.plan.mocks import EC2_ID_PREFIX, S3_PREFIX_LIST_STAND_IN, digest

EGRESS = "substrate.io/egress"
INGRESS = "substrate.io/ingress"
POD_IDENTITY_AGENT = ("169.254.170.23", 80)
"""EKS Pod Identity agent (EKS user guide, "pod-id-how-it-works"): port 80."""
HTTPS = 443
Status = Literal["ok", "fail"]
Obj = Mapping[str, Any]


class NeedError(ValueError):
    """An annotation entry that names no peer (reported, not judged)."""


@dataclass(frozen=True)
class Need:
    direction: Literal["egress", "ingress"]
    text: str
    """The annotation entry, as written."""
    peers: tuple[str, ...]
    """Analyzer ends: workload `namespace/name` or IP addresses (every one must be allowed)."""
    port: int
    protocol: str = "TCP"


def declared(obj: Obj) -> list[tuple[str, str]]:
    """(direction, entry) for every entry of the workload's two annotations."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    out = []
    for direction, key in (("egress", EGRESS), ("ingress", INGRESS)):
        out += [(direction, e.strip()) for e in str(annotations.get(key, "")).split(",")]
    return [(d, e) for d, e in out if e]


def _port(text: str) -> tuple[int, str]:
    port, _, protocol = text.partition("/")
    if not port.isdigit() or protocol not in {"", "TCP", "UDP", "SCTP"}:
        raise NeedError(f"not a port: {text!r}")
    return int(port), protocol or "TCP"


def _host(cidr: str, n: int = 10) -> str:
    """An address inside ``cidr``: AWS assigns the real ones at deploy time."""
    return str(ipaddress.ip_network(cidr).network_address + n)


def endpoint_addresses(context: Context, service: str) -> list[str]:
    """An address in each subnet of the interface endpoint whose service name ends in
    ``.<service>`` (the plan's mock engine names subnets by their Pulumi name)."""
    prefix = EC2_ID_PREFIX[SUBNET]
    subnets = {
        f"{prefix}-{digest(SUBNET, r.name)}": str(r.inputs["cidrBlock"])
        for r in context.records
        if r.type == SUBNET
    }
    for r in context.records:
        name = str(r.inputs.get("serviceName", ""))
        if r.type == ENDPOINT and name.endswith(f".{service}") and r.inputs.get("subnetIds"):
            return [_host(subnets[s]) for s in r.inputs["subnetIds"]]
    raise NeedError(f"the stack has no interface endpoint for {service}")


@dataclass
class Peers:
    """The analyzer's world: cluster objects, the checked manifests, stand-ins added on demand."""

    objects: list[dict[str, Any]]
    services: list[Obj]

    def workload(self, namespace: str, name: str) -> Obj | None:
        return next(
            (
                o
                for o in self.objects
                if o["kind"] in netpol.WORKLOAD_KINDS
                and o["metadata"].get("namespace") == namespace
                and o["metadata"]["name"] == name
            ),
            None,
        )

    def resolve(self, namespace: str, name: str, port: int) -> tuple[str, int]:
        """The analyzer end and port behind ``namespace/name:port``: a Service's backing
        workload and target port, a workload, or a stand-in pod in that namespace."""
        service = next(
            (
                s
                for s in self.services
                if s["metadata"].get("namespace") == namespace and s["metadata"]["name"] == name
            ),
            None,
        )
        if service is not None:
            return self._behind(service, port)
        if self.workload(namespace, name) is None:
            ports = [{"containerPort": port, "protocol": "TCP"}]
            self.objects.append(
                netpol.workload("Deployment", namespace, name, {"app": name}, ports)
            )
        return f"{namespace}/{name}", port

    def _behind(self, service: Obj, port: int) -> tuple[str, int]:
        spec, namespace = service.get("spec") or {}, str(service["metadata"]["namespace"])
        selector = spec.get("selector") or {}
        entry = next((p for p in spec.get("ports") or () if p.get("port") == port), None)
        if entry is None:
            raise NeedError(f"Service {namespace}/{service['metadata']['name']} has no port {port}")
        for o in self.objects:
            labels = _template_labels(o)
            if (
                o["metadata"].get("namespace") == namespace
                and selector
                and labels is not None
                and all(labels.get(k) == v for k, v in selector.items())
            ):
                return f"{namespace}/{o['metadata']['name']}", _target(entry, o)
        raise NeedError(f"no workload behind Service {namespace}/{service['metadata']['name']}")


def _template_labels(o: Obj) -> dict[str, str] | None:
    if o["kind"] not in netpol.WORKLOAD_KINDS:
        return None
    if o["kind"] == "Pod":
        return dict(o["metadata"].get("labels") or {})
    spec = o.get("spec") or {}
    template = (spec.get("jobTemplate") or {}).get("spec", spec).get("template") or {}
    return dict((template.get("metadata") or {}).get("labels") or {})


def _target(entry: Obj, workload: Obj) -> int:
    target = entry.get("targetPort", entry["port"])
    if isinstance(target, int) or str(target).isdigit():
        return int(target)
    spec = workload.get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or spec
    for c in pod.get("containers") or ():
        for p in c.get("ports") or ():
            if p.get("name") == target:
                return int(p["containerPort"])
    raise NeedError(f"named port {target} is declared by no container")


def need_of(context: Context, peers: Peers, direction: str, text: str) -> Need:
    """One annotation entry as connections to judge."""
    kind: Literal["egress", "ingress"] = "egress" if direction == "egress" else "ingress"
    if text == "s3" and kind == "egress":
        return Need(kind, text, tuple(_host(c) for c in S3_PREFIX_LIST_STAND_IN), HTTPS)
    if text.startswith("aws:") and kind == "egress":
        return Need(kind, text, tuple(endpoint_addresses(context, text[4:])), HTTPS)
    if text == "pod-identity" and kind == "egress":
        return Need(kind, text, (POD_IDENTITY_AGENT[0],), POD_IDENTITY_AGENT[1])
    target, sep, port_text = text.rpartition(":")
    if not sep:
        raise NeedError(f"{text!r}: expected s3, aws:<service>, pod-identity or <peer>:<port>")
    port, protocol = _port(port_text)
    if "/" in target:
        namespace, name = target.split("/", 1)
        if kind == "ingress":
            peers.resolve(namespace, name, port)
            return Need(kind, text, (f"{namespace}/{name}",), port, protocol)
        end, port = peers.resolve(namespace, name, port)
        return Need(kind, text, (end,), port, protocol)
    try:
        ipaddress.ip_address(target)
    except ValueError as err:
        raise NeedError(f"{text!r}: not <namespace>/<name> nor an IP address") from err
    return Need(kind, text, (target,), port, protocol)


def allowed(reach: netpol.Connectivity, me: str, need: Need) -> list[str]:
    """The need's peers the analyzer does not allow (empty: allowed)."""
    out = []
    for peer in need.peers:
        src, dst = (me, peer) if need.direction == "egress" else (peer, me)
        if not reach.allows(src, dst, need.port, need.protocol):
            out.append(peer)
    return out


def pod_labels(obj: Any) -> dict[str, str]:
    """The labels of the first pod template in ``obj`` (a JobSet's, a RayJob's head, ...)."""
    if isinstance(obj, Mapping):
        spec = obj.get("spec")
        if isinstance(spec, Mapping) and "containers" in spec and "metadata" in obj:
            return dict((obj.get("metadata") or {}).get("labels") or {})
        for value in obj.values():
            if isinstance(value, Mapping | list) and (found := pod_labels(value)):
                return found
    elif isinstance(obj, list):
        for value in obj:
            if found := pod_labels(value):
                return found
    return {}


def subject(manifest: Manifest) -> dict[str, Any]:
    """What the analyzer reads for the workload: the object itself when it is a kind the
    analyzer reads, else a Deployment stand-in whose pods carry its pod template's labels."""
    if manifest.kind in netpol.WORKLOAD_KINDS:
        return dict(manifest.obj)
    labels = pod_labels(manifest.obj.get("spec")) or {"app": manifest.name}
    return netpol.workload("Deployment", manifest.namespace, manifest.name, labels)


def judge_all(
    context: Context, manifests: Sequence[Manifest]
) -> dict[int, tuple[Status, str, tuple[str, ...]]]:
    """The network verdict of every manifest that declares needs (keyed by id(manifest)),
    from one analyzer run over the cluster and every checked manifest."""
    asking = [m for m in manifests if m.is_workload and declared(m.obj)]
    if not asking:
        return {}
    objects = [dict(o) for o in context.network if o["kind"] != "Service"]
    objects += netpol.eks_objects()
    objects += [subject(m) for m in manifests if m.is_workload]
    services = [
        *(o for o in context.network if o["kind"] == "Service"),
        *(m.obj for m in manifests if m.kind == "Service"),
    ]
    peers = Peers(objects, services)
    needs: dict[int, list[Need | str]] = {}
    for m in asking:
        for direction, text in declared(m.obj):
            try:
                needs.setdefault(id(m), []).append(need_of(context, peers, direction, text))
            except NeedError as err:
                needs.setdefault(id(m), []).append(f"{direction} {text}: {err}")
    reach = netpol.analyze(peers.objects)
    return {id(m): _finding(reach, f"{m.namespace}/{m.name}", needs[id(m)]) for m in asking}


def _finding(
    reach: netpol.Connectivity, me: str, needs: Sequence[Need | str]
) -> tuple[Status, str, tuple[str, ...]]:
    lines, denied = [], []
    for need in needs:
        if isinstance(need, str):
            denied.append(need)
            lines.append(need)
            continue
        refused = allowed(reach, me, need)
        where = f"{need.protocol} {need.port}"
        if refused:
            denied.append(f"{need.direction} {need.text}")
            lines.append(f"{need.direction} {need.text} ({where}): denied to {', '.join(refused)}")
        else:
            lines.append(f"{need.direction} {need.text} ({where}): allowed")
    total = len(needs)
    if denied:
        return "fail", f"denied: {'; '.join(denied)}", tuple(lines)
    return "ok", f"{total} declared connection{'s' if total != 1 else ''} allowed", tuple(lines)
