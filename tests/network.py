"""A stack's cluster as the NetworkPolicy analyzer sees it, and the addresses journeys dial.

The analyzed objects are the plan's own (Namespaces, NetworkPolicies, agent StatefulSets), what
EKS runs (CoreDNS, `substrate.engines.netpol.eks_objects`) and stand-ins for the pods that only
exist at run time, each with the labels and ports its creator gives it:

- one ordinary pod per tenant namespace (`<namespace>/tenant-pod`, HTTP on 8080): what a
  tenant's Job or Deployment runs;
- Prometheus, as prometheus-operator creates it for the kube-prometheus-stack release;
- with KubeRay on, the operator's Deployment (labels of the kuberay-operator chart) and the
  head pod of a RayCluster `demo` in the first GPU tenant's first namespace (KubeRay 1.7.0's
  `labelPod` labels, default ports gcs-server 6379, dashboard 8265, client 10001, serve 8000).

One analyzer run per stack, cached for the session.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass
from typing import Any

from substrate.config import PlatformConfig
from substrate.engines import netpol
from substrate.engines.netpol import Connectivity, workload
from substrate.plan.command import PlanResult
from substrate.plan.mocks import EC2_ID_PREFIX, digest
from tests.conftest import planned
from tests.helpers import stack_yaml, typed_config

TENANT_POD = "tenant-pod"
RAY_CLUSTER = "demo"
RAY_HEAD_PORTS = {"gcs-server": 6379, "dashboard": 8265, "client": 10001, "serve": 8000}
POD_IDENTITY_AGENT = "169.254.170.23"
"""EKS Pod Identity agent (EKS user guide, "pod-id-how-it-works"): port 80."""
S3_RANGES = {"us-east-1": "52.216.0.0/15", "us-west-2": "52.218.128.0/17"}
"""One S3 range per Region from AWS's ip-ranges.json (service S3), part of the Region's
`com.amazonaws.<region>.s3` prefix list: what the S3 gateway endpoint route carries."""
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

    def _subnets(self) -> dict[str, str]:
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
        return sorted(cidr for sid, cidr in self._subnets().items() if sid in ids)

    def endpoint_addresses(self) -> list[str]:
        return [_host(c) for c in self.endpoint_subnets()]

    def other_vpc_addresses(self) -> list[str]:
        """An address in each VPC subnet that holds no interface endpoint (public subnets)."""
        inside = set(self.endpoint_subnets())
        return sorted(_host(c) for c in self._subnets().values() if c not in inside)

    def s3_address(self) -> str:
        return _host(S3_RANGES[self.region])


def _release(plan: PlanResult, chart: str) -> dict[str, Any] | None:
    return next((r for r in plan.releases if r["chart"].endswith(chart)), None)


def _runtime_objects(config: PlatformConfig, plan: PlanResult) -> list[dict[str, Any]]:
    objects = [
        workload("Deployment", ns, TENANT_POD, {"app": TENANT_POD}, [_http(8080)], replicas=2)
        for tenant in config.tenants.values()
        for ns in tenant.namespaces
    ]
    stack = _release(plan, "kube-prometheus-stack")
    assert stack is not None, "the analyzer journeys need the Prometheus release"
    name = f"{stack['name']}-prometheus"  # the chart's Prometheus CR; the operator prefixes it
    labels = {"app.kubernetes.io/name": "prometheus", "prometheus": name}
    objects.append(
        workload("StatefulSet", stack["namespace"], f"prometheus-{name}", labels, [_http(9090)])
    )
    ray = _release(plan, "kuberay-operator")
    if ray is not None:
        objects += _kuberay(config, ray)
    return objects


def _http(port: int, name: str = "http") -> dict[str, Any]:
    return {"name": name, "containerPort": port, "protocol": "TCP"}


def _kuberay(config: PlatformConfig, release: dict[str, Any]) -> list[dict[str, Any]]:
    operator = {
        "app.kubernetes.io/name": "kuberay-operator",
        "app.kubernetes.io/instance": release["name"],
        "app.kubernetes.io/component": "kuberay-operator",
    }
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
    return [
        workload("Deployment", release["namespace"], "kuberay-operator", operator, [_http(8080)]),
        workload("Deployment", gpu_tenant.namespaces[0], f"{RAY_CLUSTER}-head", head, ports),
    ]


@functools.cache
def stack_network(stack: str) -> StackNetwork:
    plan = planned(stack)
    config = typed_config(stack_yaml(stack))
    runtime = _runtime_objects(config, plan)
    reach = netpol.analyze([*plan.manifests.values(), *netpol.eks_objects(), *runtime])
    names = {f"{o['metadata']['namespace']}/{o['metadata']['name']}" for o in runtime}
    prometheus = next(n for n in names if "/prometheus-" in n)
    operator = next((n for n in names if n.endswith("/kuberay-operator")), None)
    head = next((n for n in names if n.endswith(f"/{RAY_CLUSTER}-head")), None)
    return StackNetwork(stack, config, plan, reach, prometheus, operator, head)
