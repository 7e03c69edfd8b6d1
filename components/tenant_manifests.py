"""The Kubernetes objects every tenant namespace gets, as plain manifests (pure functions).

- Namespace labels: Pod Security Admission `restricted` (enforce/audit/warn, R27), the tenant,
  whether it may run GPU work (`substrate.io/gpu`, which the Kyverno `gpu-placement` policy
  reads, R32) and its priority tier.
- ResourceQuota: what Kueue could ever admit for the tenant (nominal + borrowable), so it is a
  backstop for work that bypasses Kueue; `requests.nvidia.com/gpu: "0"` for tenants without
  GPU rights (R32).
- LimitRange: default CPU/memory requests for containers that set none, memory limit equal to
  the request (R28).
- NetworkPolicies (enforced by the VPC CNI, `enableNetworkPolicy`): deny all ingress and egress,
  allow DNS to kube-dns (R30), plus the tenant's declared allowances.
- RoleBinding of the tenant-admin ClusterRole to the tenant's admin group.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from components.addon import pod_security_labels
from components.kueue_integrations import KINDS, effective
from components.labels import (
    GPU_NAMESPACE_LABEL,
    NAMESPACE_NAME_LABEL,
    PRIORITY_TIER_LABEL,
    TENANT_LABEL,
)
from components.tenancy import TenantSpec

TENANT_ADMIN_ROLE = "substrate:tenant-admin"
"""ClusterRole bound (per namespace, by RoleBinding) to each tenant's admin group."""
DEFAULT_DENY = "default-deny"
ALLOW_DNS = "allow-dns"
ALLOW_TENANT = "allow-within-tenant"
ALLOW_POD_IDENTITY = "allow-pod-identity-agent"
ALLOW_HTTPS = "allow-https-egress"
POD_IDENTITY_AGENT = "169.254.170.23/32"
"""EKS Pod Identity agent address (hostNetwork DaemonSet, port 80), EKS user guide
"pod-identities": pods fetch their credentials from it."""
KUBE_DNS = {"k8s-app": "kube-dns"}
"""Labels of the CoreDNS pods of the EKS `coredns` add-on."""


def namespace_labels(tenant: TenantSpec) -> dict[str, str]:
    return {
        **pod_security_labels("restricted"),
        TENANT_LABEL: tenant.name,
        GPU_NAMESPACE_LABEL: "true" if tenant.gpu else "false",
        PRIORITY_TIER_LABEL: tenant.tier,
    }


def limit_range_spec(tenant: TenantSpec) -> dict[str, Any]:
    return {
        "limits": [
            {
                "type": "Container",
                "defaultRequest": {"cpu": tenant.container_cpu, "memory": tenant.container_memory},
                "default": {"memory": tenant.container_memory},
            }
        ]
    }


def _policy(types: list[str], **rules: Any) -> dict[str, Any]:
    return {"podSelector": {}, "policyTypes": types, **rules}


def network_policies(tenant: TenantSpec) -> dict[str, dict[str, Any]]:
    """NetworkPolicy name -> spec for each of the tenant's namespaces."""
    out = {
        DEFAULT_DENY: _policy(["Ingress", "Egress"]),
        ALLOW_DNS: _policy(
            ["Egress"],
            egress=[
                {
                    "to": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {NAMESPACE_NAME_LABEL: "kube-system"}
                            },
                            "podSelector": {"matchLabels": dict(KUBE_DNS)},
                        }
                    ],
                    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                }
            ],
        ),
    }
    net = tenant.network
    if net.within_tenant:
        peer = [{"namespaceSelector": {"matchLabels": {TENANT_LABEL: tenant.name}}}]
        out[ALLOW_TENANT] = _policy(
            ["Ingress", "Egress"], ingress=[{"from": peer}], egress=[{"to": peer}]
        )
    if net.pod_identity_agent:
        out[ALLOW_POD_IDENTITY] = _policy(
            ["Egress"],
            egress=[
                {
                    "to": [{"ipBlock": {"cidr": POD_IDENTITY_AGENT}}],
                    "ports": [{"protocol": "TCP", "port": 80}],
                }
            ],
        )
    if net.https_cidrs:
        out[ALLOW_HTTPS] = _policy(
            ["Egress"],
            egress=[
                {
                    "to": [{"ipBlock": {"cidr": c}} for c in net.https_cidrs],
                    "ports": [{"protocol": "TCP", "port": 443}],
                }
            ],
        )
    return out


def role_binding_subjects(tenant: TenantSpec) -> list[dict[str, str]]:
    return [{"kind": "Group", "name": tenant.admin_group, "apiGroup": "rbac.authorization.k8s.io"}]


def tenant_admin_rules(integrations: Sequence[str]) -> list[dict[str, Any]]:
    """What a tenant admin may do inside the tenant's namespaces: run and operate the workload
    kinds Kueue queues in this stack (`integrations`, with the ones they imply; other workload
    kinds are read-only, so nothing a tenant creates bypasses the queues); read (never change)
    quota, limits, network policies, Kueue queues and KEDA objects (KEDA scales with its own AWS
    identity, so elasticity is declared in the stack, not by tenants); no RBAC."""
    write = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]
    read = ["get", "list", "watch"]

    def rule(groups: list[str], resources: list[str], verbs: list[str]) -> dict[str, Any]:
        return {"apiGroups": groups, "resources": resources, "verbs": verbs}

    queued = effective(tuple(integrations))
    workloads: dict[tuple[str, bool], list[str]] = {}
    for name, (group, resources) in KINDS.items():
        workloads.setdefault((group, name in queued), []).extend(resources)
    return [
        rule(
            [""],
            ["services", "configmaps", "secrets", "persistentvolumeclaims", "serviceaccounts"],
            write,
        ),
        *(
            rule([group], resources, write if on else read)
            for (group, on), resources in workloads.items()
        ),
        rule([""], ["pods/log", "pods/status", "events", "endpoints"], read),
        rule([""], ["pods/exec", "pods/portforward"], ["create", "get"]),
        rule([""], ["resourcequotas", "limitranges"], read),
        rule(["apps"], ["replicasets", "controllerrevisions"], read),
        rule(["autoscaling"], ["horizontalpodautoscalers"], write),
        rule(["policy"], ["poddisruptionbudgets"], write),
        rule(["networking.k8s.io"], ["networkpolicies"], read),
        rule(["kueue.x-k8s.io"], ["localqueues", "workloads"], read),
        rule(["keda.sh"], ["scaledobjects", "scaledjobs", "triggerauthentications"], read),
    ]
