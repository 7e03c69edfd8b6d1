"""A stack's cluster as the NetworkPolicy analyzer sees it, and the addresses journeys dial.

The analyzed objects are everything the cluster holds for the plan (its manifests plus every
Helm release as Helm renders it, `substrate.engines.cluster`: the KubeRay operator, Kueue,
Karpenter, ... as their charts run them), what EKS runs (CoreDNS,
`substrate.engines.netpol.eks_objects`) and stand-ins for the pods that only exist at run time,
each with the labels and ports its creator gives it:

- one ordinary pod per tenant namespace (`<namespace>/tenant-pod`, HTTP on 8080): what a
  tenant's Job or Deployment runs;
- Prometheus, as prometheus-operator creates it for the chart's Prometheus resource;
- with KubeRay on, the head pod of a RayCluster `demo` in the first GPU tenant's first
  namespace (KubeRay 1.7.0's `labelPod` labels, default ports gcs-server 6379, dashboard 8265,
  client 10001, serve 8000).

One analyzer run per stack, cached for the session.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from substrate.config import PlatformConfig
from substrate.engines import netpol
from substrate.engines.netpol import Connectivity, workload
from substrate.plan.command import PlanResult
from substrate.plan.mocks import EC2_ID_PREFIX, S3_PREFIX_LIST_STAND_IN, digest
from tests.conftest import planned
from tests.helm.rendered import rendered
from tests.helpers import stack_yaml, typed_config

TENANT_POD = "tenant-pod"
RAY_CLUSTER = "demo"
RAY_HEAD_PORTS = {"gcs-server": 6379, "dashboard": 8265, "client": 10001, "serve": 8000}
POD_IDENTITY_AGENT = "169.254.170.23"
"""EKS Pod Identity agent (EKS user guide, "pod-id-how-it-works"): port 80."""
SUBNET = "aws:ec2/subnet:Subnet"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"


def _host(cidr: str, n: int = 10) -> str:
    """An address inside ``cidr`` (AWS assigns interface addresses at deploy time)."""
    return str(ipaddress.ip_network(cidr).network_address + n)


@dataclass(frozen=True)
class StackNetwork:
    stack: str
    config: PlatformConfig
    plan: PlanResult
    reach: Connectivity
    prometheus: str
    kuberay_operator: str | None
    ray_head: str | None

    @property
    def region(self) -> str:
        return str(stack_yaml(self.stack)["aws:region"])

    def pods(self, tenant: str) -> list[str]:
        """The stand-in tenant pod of each of the tenant's namespaces."""
        return [f"{ns}/{TENANT_POD}" for ns in self.config.tenants[tenant].namespaces]

    def agent(self, name: str) -> str:
        agent = self.config.agents[name]
        namespace = agent.namespace or self.config.tenants[agent.tenant].namespaces[0]
        return f"{namespace}/{name}"

    def subnets(self) -> dict[str, str]:
        """Subnet id (as the plan's mock engine assigns it) -> CIDR."""
        prefix = EC2_ID_PREFIX[SUBNET]
        return {
            f"{prefix}-{digest(SUBNET, r.name)}": r.inputs["cidrBlock"]
            for r in self.plan.records
            if r.type == SUBNET
        }

    def endpoint_subnets(self) -> list[str]:
        """CIDRs of the subnets the interface VPC endpoints put their addresses in."""
        ids = {
            s
            for r in self.plan.records
            if r.type == ENDPOINT and r.inputs.get("vpcEndpointType") == "Interface"
            for s in r.inputs["subnetIds"]
        }
        return sorted(cidr for sid, cidr in self.subnets().items() if sid in ids)

    def endpoint_addresses(self) -> list[str]:
        return [_host(c) for c in self.endpoint_subnets()]

    def public_subnets(self) -> list[str]:
        return sorted(str(c) for c in self.config.network.public_subnet_cidrs)

    def other_vpc_addresses(self) -> list[str]:
        """An address in each VPC subnet that holds no interface endpoint (public subnets) and
        the VPC's last address, which no subnet holds."""
        inside = set(self.endpoint_subnets())
        vpc = self.config.network.vpc_cidr
        assert vpc is not None
        unassigned = str(vpc.broadcast_address)
        assert not any(ipaddress.ip_address(unassigned) in ipaddress.ip_network(c) for c in inside)
        return sorted([*(_host(c) for c in self.subnets().values() if c not in inside), unassigned])

    def s3_addresses(self) -> list[str]:
        """An address in each entry of the Region's S3 prefix list, as the plan resolves it
        (substrate.plan.mocks: stand-ins; `pulumi up` reads AWS's own entries)."""
        return [_host(c) for c in S3_PREFIX_LIST_STAND_IN]


def _release(plan: PlanResult, chart: str) -> dict[str, Any] | None:
    return next((r for r in plan.releases if r["chart"].endswith(chart)), None)


def runtime_objects(
    config: PlatformConfig, plan: PlanResult, cluster: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    objects = [
        workload("Deployment", ns, TENANT_POD, {"app": TENANT_POD}, [_http(8080)], replicas=2)
        for tenant in config.tenants.values()
        for ns in tenant.namespaces
    ]
    (prometheus,) = [o for o in cluster if o["kind"] == "Prometheus"]
    name, namespace = prometheus["metadata"]["name"], prometheus["metadata"]["namespace"]
    # prometheus-operator's pod labels (operator.ApplicationNameLabelKey, `prometheus`) and
    # its StatefulSet name, `prometheus-<Prometheus name>`.
    labels = {"app.kubernetes.io/name": "prometheus", "prometheus": name}
    objects.append(workload("StatefulSet", namespace, f"prometheus-{name}", labels, [_http(9090)]))
    if _release(plan, "kuberay-operator") is not None:
        objects.append(_ray_head(config))
    return objects


def _http(port: int, name: str = "http") -> dict[str, Any]:
    return {"name": name, "containerPort": port, "protocol": "TCP"}


def _ray_head(config: PlatformConfig) -> dict[str, Any]:
    gpu_tenant = next(t for t in config.tenants.values() if t.gpu)
    head = {
        "ray.io/is-ray-node": "yes",
        "ray.io/cluster": RAY_CLUSTER,
        "ray.io/node-type": "head",
        "ray.io/group": "headgroup",
        "ray.io/identifier": f"{RAY_CLUSTER}-head",
        "app.kubernetes.io/name": "kuberay",
        "app.kubernetes.io/created-by": "kuberay-operator",
    }
    ports = [_http(p, n) for n, p in RAY_HEAD_PORTS.items()]
    return workload("Deployment", gpu_tenant.namespaces[0], f"{RAY_CLUSTER}-head", head, ports)


@functools.cache
def stack_network(stack: str) -> StackNetwork:
    plan = planned(stack)
    config = typed_config(stack_yaml(stack))
    cluster = list(rendered(stack).objects)
    runtime = runtime_objects(config, plan, cluster)
    reach = netpol.analyze([*cluster, *netpol.eks_objects(), *runtime])
    names = {f"{o['metadata']['namespace']}/{o['metadata']['name']}" for o in runtime}
    prometheus = next(n for n in names if "/prometheus-" in n)
    operator = "kuberay-system/kuberay-operator"
    head = next((n for n in names if n.endswith(f"/{RAY_CLUSTER}-head")), None)
    return StackNetwork(stack, config, plan, reach, prometheus, operator if head else None, head)


def services(agents: Mapping[str, Any]) -> dict[str, Any]:
    """The agents that serve sessions (a task agent has no port anyone calls)."""
    return {n: a for n, a in agents.items() if a.mode == "service"}
