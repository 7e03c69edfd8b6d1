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
  allow DNS to kube-dns (R30), plus the tenant's declared allowances (`NetworkSpec`) and what the
  platform's own controllers need (the KubeRay operator to Ray head pods), with the peers
  outside the tenant (`NetworkPeers`) resolved by the workloads layer. Within the tenant, agent
  pods (`substrate.io/workload-class: agent`) are not opened to every tenant pod: each agent's
  own NetworkPolicy (substrate.components.agents.agent_manifests) says who may reach it; they keep
  egress to the tenant. In tenants that run Spark, driver pods (`spark-role: driver`) may open
  the `kubernetes` Service's address on 443 (they create and watch their executors).
- RoleBinding of the tenant-admin ClusterRole to the tenant's admin group, and a ClusterRole
  and ClusterRoleBinding that let that group read its ClusterQueue, ResourceFlavors and Cohorts.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from substrate.components.agents.agent_manifests import NOT_AN_AGENT
from substrate.components.agents.agent_manifests import WORKLOAD_CLASS as AGENT_CLASS
from substrate.components.core.addon import pod_security_labels
from substrate.components.core.labels import (
    GPU_NAMESPACE_LABEL,
    NAMESPACE_NAME_LABEL,
    PRIORITY_TIER_LABEL,
    TENANT_LABEL,
    WORKLOAD_CLASS_LABEL,
)
from substrate.components.workloads.kueue_integrations import KINDS, effective
from substrate.components.workloads.tenancy import TenantSpec

TENANT_ADMIN_ROLE = "substrate:tenant-admin"
"""ClusterRole bound (per namespace, by RoleBinding) to each tenant's admin group."""
DEFAULT_DENY = "default-deny"
ALLOW_DNS = "allow-dns"
ALLOW_TENANT = "allow-within-tenant"
ALLOW_AGENTS_OUT = "allow-agent-egress-within-tenant"
ALLOW_POD_IDENTITY = "allow-pod-identity-agent"
ALLOW_HTTPS = "allow-https-egress"
ALLOW_ENDPOINTS = "allow-aws-endpoints"
ALLOW_S3 = "allow-s3"
ALLOW_KUBERAY = "allow-kuberay-operator"
ALLOW_MONITORING = "allow-monitoring"
ALLOW_FROM_TENANTS = "allow-from-tenants"
ALLOW_TO_TENANTS = "allow-to-tenants"
ALLOW_LOAD_BALANCERS = "allow-load-balancers"
ALLOW_API_SERVER = "allow-spark-driver-to-api-server"
ALLOW_SPARK_METRICS = "allow-spark-driver-metrics"
SPARK_DRIVER = {"spark-role": "driver"}
SPARK_UI_PORT = 4040
"""The driver's UI (`spark.ui.port`'s default, container port `spark-ui`), where Spark serves
its Prometheus metrics (`/metrics/prometheus`, `/metrics/executors/prometheus`)."""
"""Label spark-submit puts on every Spark driver pod (Spark's `spark-role`)."""
RAY_HEAD = {"ray.io/node-type": "head"}
"""Label KubeRay 1.7.0 puts on every Ray head pod (utils.RayNodeTypeLabelKey)."""
RAY_HEAD_PORTS = (8265, 8000)
"""What KubeRay 1.7.0's operator opens on a head pod (its defaults, utils/constant.go): the
dashboard (8265; RayJob and RayService status and Serve config through the head Service) and the
Serve proxy (8000; RayService's proxy health check on the head pod's IP)."""
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


@dataclass(frozen=True)
class PodPeer:
    """Pods of a platform namespace, by label."""

    namespace: str
    """The platform namespace the pods run in."""
    labels: Mapping[str, str]
    """Labels the pods carry (a NetworkPolicy podSelector's matchLabels)."""


@dataclass(frozen=True)
class NetworkPeers:
    """What tenant NetworkPolicies name outside the tenant. CIDR lists are plain sequences or
    values resolved at deploy time (anything with ``apply``, e.g. a ``pulumi.Output``)."""

    endpoint_cidrs: Any = ()
    """Subnets holding the VPC's interface endpoints (for `aws_endpoints`)."""
    s3_cidrs: Any = ()
    """The Region's S3 prefix list entries (for `s3`)."""
    public_subnet_cidrs: Any = ()
    """The VPC's public subnets: where load balancers connect from unless a tenant says."""
    kuberay_operator: PodPeer | None = None
    """The KubeRay operator's pods, when KubeRay is installed."""
    prometheus: PodPeer | None = None
    """The platform Prometheus pods (for `monitoring_ports`)."""
    tenants: Sequence[TenantSpec] = field(default_factory=tuple)
    """Every tenant: those that accept this one's pods get its egress."""
    spark_tenants: Sequence[str] = ()
    """Tenants that run Spark: their drivers get `api_server_cidrs` on 443, and Prometheus
    reaches their UI port (Spark's metrics)."""
    api_server_cidrs: Any = ()
    """The `kubernetes` Service's cluster IP (/32): what a pod dials for the API server, and
    what the VPC CNI's policy agent matches (it sees the address before kube-proxy translates
    it to the control plane's)."""


def _ip_blocks(cidrs: Any, what: str) -> Any:
    """`to`/`from` peers for ``cidrs``; refuses an empty list, which a NetworkPolicy rule would
    read as "everywhere"."""

    def build(values: Sequence[str]) -> list[dict[str, Any]]:
        if not values:
            raise ValueError(f"{what}: no CIDRs, and an empty peer list means every address")
        return [{"ipBlock": {"cidr": str(c)}} for c in values]

    apply: Callable[[Callable[[Sequence[str]], Any]], Any] | None = getattr(cidrs, "apply", None)
    return apply(build) if apply is not None else build(list(cidrs))


def _tcp(ports: Sequence[int]) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": p} for p in ports]


def _pods(peer: PodPeer) -> dict[str, Any]:
    return {
        "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: peer.namespace}},
        "podSelector": {"matchLabels": dict(peer.labels)},
    }


def _tenant_pods(name: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {TENANT_LABEL: name}}}


def network_policies(
    tenant: TenantSpec, peers: NetworkPeers | None = None
) -> dict[str, dict[str, Any]]:
    """NetworkPolicy name -> spec for each of the tenant's namespaces."""
    peers = peers or NetworkPeers()
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
        out[ALLOW_TENANT] = {
            **_policy(["Ingress", "Egress"], ingress=[{"from": peer}], egress=[{"to": peer}]),
            "podSelector": {"matchExpressions": [NOT_AN_AGENT]},
        }
        out[ALLOW_AGENTS_OUT] = {
            **_policy(["Egress"], egress=[{"to": peer}]),
            "podSelector": {"matchLabels": {WORKLOAD_CLASS_LABEL: AGENT_CLASS}},
        }
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
    https = _tcp([443])
    if net.https_cidrs:
        out[ALLOW_HTTPS] = _policy(
            ["Egress"], egress=[{"to": _ip_blocks(net.https_cidrs, ALLOW_HTTPS), "ports": https}]
        )
    if net.aws_endpoints:
        to = _ip_blocks(peers.endpoint_cidrs, ALLOW_ENDPOINTS)
        out[ALLOW_ENDPOINTS] = _policy(["Egress"], egress=[{"to": to, "ports": https}])
    if net.s3:
        to = _ip_blocks(peers.s3_cidrs, ALLOW_S3)
        out[ALLOW_S3] = _policy(["Egress"], egress=[{"to": to, "ports": https}])
    if tenant.name in peers.spark_tenants:
        to = _ip_blocks(peers.api_server_cidrs, ALLOW_API_SERVER)
        out[ALLOW_API_SERVER] = {
            **_policy(["Egress"], egress=[{"to": to, "ports": https}]),
            "podSelector": {"matchLabels": dict(SPARK_DRIVER)},
        }
        if peers.prometheus is not None:
            out[ALLOW_SPARK_METRICS] = {
                **_policy(
                    ["Ingress"],
                    ingress=[{"from": [_pods(peers.prometheus)], "ports": _tcp([SPARK_UI_PORT])}],
                ),
                "podSelector": {"matchLabels": dict(SPARK_DRIVER)},
            }
    out.update(_ingress_policies(tenant, peers))
    return out


def _ingress_policies(tenant: TenantSpec, peers: NetworkPeers) -> dict[str, dict[str, Any]]:
    """Who outside the tenant may open which ports on its pods, and the egress the tenant needs
    toward the tenants that accept it."""
    net, out = tenant.network, {}
    if peers.kuberay_operator is not None:
        out[ALLOW_KUBERAY] = {
            "podSelector": {"matchLabels": dict(RAY_HEAD)},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [_pods(peers.kuberay_operator)], "ports": _tcp(RAY_HEAD_PORTS)}],
        }
    if net.monitoring_ports:
        if peers.prometheus is None:
            raise ValueError(f"tenant {tenant.name!r}: monitoring ports but no Prometheus peer")
        out[ALLOW_MONITORING] = _policy(
            ["Ingress"],
            ingress=[{"from": [_pods(peers.prometheus)], "ports": _tcp(net.monitoring_ports)}],
        )
    if net.from_tenants:
        out[ALLOW_FROM_TENANTS] = _policy(
            ["Ingress"],
            ingress=[
                {"from": [_tenant_pods(other.tenant)], "ports": _tcp(other.ports)}
                for other in net.from_tenants
            ],
        )
    accepting = [(t.name, t.network.accepts(tenant.name)) for t in peers.tenants]
    egress = [
        {"to": [_tenant_pods(other)], "ports": _tcp(ports)}
        for other, ports in accepting
        if ports and other != tenant.name
    ]
    if egress:
        out[ALLOW_TO_TENANTS] = _policy(["Egress"], egress=egress)
    if net.load_balancer_ports:
        cidrs = (
            peers.public_subnet_cidrs
            if net.load_balancer_cidrs is None
            else net.load_balancer_cidrs
        )
        out[ALLOW_LOAD_BALANCERS] = _policy(
            ["Ingress"],
            ingress=[
                {
                    "from": _ip_blocks(cidrs, ALLOW_LOAD_BALANCERS),
                    "ports": _tcp(net.load_balancer_ports),
                }
            ],
        )
    return out


def role_binding_subjects(tenant: TenantSpec) -> list[dict[str, str]]:
    return [{"kind": "Group", "name": tenant.admin_group, "apiGroup": "rbac.authorization.k8s.io"}]


def queue_reader_name(tenant: TenantSpec) -> str:
    """The ClusterRole (and its ClusterRoleBinding) that lets the tenant's admins read the
    cluster-scoped queue objects of their tenant."""
    return f"substrate:tenant-queues:{tenant.name}"


def queue_reader_rules(tenant: TenantSpec) -> list[dict[str, Any]]:
    """Cluster-scoped Kueue objects the docs tell a tenant admin to inspect: the tenant's own
    ClusterQueue (`kubectl get clusterqueue <tenant>`, by name only: other tenants' quotas stay
    private; RBAC cannot limit `list` by name), and the shared ResourceFlavors and Cohorts that
    explain its flavors and borrowing."""
    read = ["get", "list", "watch"]
    return [
        {
            "apiGroups": ["kueue.x-k8s.io"],
            "resources": ["clusterqueues", "clusterqueues/status"],
            "resourceNames": [tenant.queue_name],
            "verbs": ["get", "watch"],
        },
        {
            "apiGroups": ["kueue.x-k8s.io"],
            "resources": ["resourceflavors", "cohorts"],
            "verbs": read,
        },
    ]


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
