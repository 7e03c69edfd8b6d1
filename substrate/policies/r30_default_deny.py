"""R30: every tenant namespace has a default-deny NetworkPolicy (all pods, Ingress and Egress,
no rules) and one that lets its pods resolve names through kube-dns (egress to port 53), so
anything else a tenant reaches is allowed on purpose (BPG network security, CIS 4.3.2).
Enforced on EKS by the VPC CNI's network policy agent (`enableNetworkPolicy`)."""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from substrate.components.core.labels import NAMESPACE_NAME_LABEL
from substrate.components.workloads.tenant_manifests import ALLOW_DNS, DEFAULT_DENY

from ._tenancy import Found, in_namespace, tenant_namespaces
from ._types import NETWORK_POLICY

KUBE_DNS_LABEL = ("k8s-app", "kube-dns")


def _selects_all(spec: dict[str, Any]) -> bool:
    selector = spec.get("podSelector")
    return (
        isinstance(selector, dict)
        and not selector.get("matchLabels")
        and not selector.get("matchExpressions")
    )


def is_default_deny(policy: dict[str, Any]) -> bool:
    spec = policy.get("spec")
    if not isinstance(spec, dict) or not _selects_all(spec):
        return False
    types = set(spec.get("policyTypes") or [])
    return {"Ingress", "Egress"} <= types and not spec.get("ingress") and not spec.get("egress")


def _dns_peer(peer: Any) -> bool:
    if not isinstance(peer, dict) or "ipBlock" in peer:
        return False
    pods = (peer.get("podSelector") or {}).get("matchLabels") or {}
    namespaces = (peer.get("namespaceSelector") or {}).get("matchLabels") or {}
    return (
        pods.get(KUBE_DNS_LABEL[0]) == KUBE_DNS_LABEL[1]
        and namespaces.get(NAMESPACE_NAME_LABEL, "kube-system") == "kube-system"
    )


def allows_dns(policy: dict[str, Any]) -> bool:
    spec = policy.get("spec")
    if not isinstance(spec, dict) or not _selects_all(spec):
        return False
    for rule in spec.get("egress") or []:
        if not isinstance(rule, dict):
            continue
        ports = rule.get("ports") or []
        udp = any(
            isinstance(p, dict)
            and p.get("port") in (53, 53.0, "53", "dns")
            and p.get("protocol", "TCP") == "UDP"
            for p in ports
        )
        if udp and any(_dns_peer(peer) for peer in rule.get("to") or []):
            return True
    return False


def _named(policies: list[Found], name: str) -> Found | None:
    return next((p for p in policies if p.name == name), None)


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Violations point at the NetworkPolicy Substrate names for the job when it exists but is
    wrong (`default-deny`, `allow-dns`), otherwise at the namespace."""
    for ns in tenant_namespaces(args.resources):
        policies = in_namespace(args.resources, NETWORK_POLICY, ns.name)
        by_urn: dict[str, list[str]] = {}
        if not any(is_default_deny(p.props) for p in policies):
            culprit = _named(policies, DEFAULT_DENY)
            by_urn.setdefault(culprit.urn if culprit else ns.resource.urn, []).append(
                "a default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)"
            )
        if not any(allows_dns(p.props) for p in policies):
            culprit = _named(policies, ALLOW_DNS)
            by_urn.setdefault(culprit.urn if culprit else ns.resource.urn, []).append(
                "a NetworkPolicy allowing egress to kube-dns on UDP 53"
            )
        for urn, missing in by_urn.items():
            report_violation(
                f"tenant {ns.tenant!r} namespace {ns.name!r} lacks {' and '.join(missing)}", urn
            )


POLICY = StackValidationPolicy(
    name="r30-default-deny",
    description="R30: every tenant namespace has a default-deny NetworkPolicy (Ingress and "
    "Egress) and a DNS allowance to kube-dns (BPG network security, CIS 4.3.2).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate,
)
