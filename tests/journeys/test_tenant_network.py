"""What a tenant's pods may reach, and who may reach them, decided by the NetworkPolicy analyzer
(np-guard netpol-analyzer) over each stack's plan plus the pods that exist only at run time
(tests/network.py). One analyzer run per stack."""

from __future__ import annotations

import ipaddress
from itertools import permutations

import pytest

from substrate.engines.netpol import Ports
from tests.helpers import STACKS, stack_yaml
from tests.journeys.journey import journey
from tests.network import POD_IDENTITY_AGENT, RAY_HEAD_PORTS, StackNetwork, stack_network

KUBERAY_STACKS = [
    s
    for s in STACKS
    if any(i.startswith("ray.io/") for i in stack_yaml(s)["substrate:kueue"]["integrations"])
]
CALLER_STACKS = [
    s
    for s in STACKS
    if any(a.get("callers", {}).get("agents") for a in stack_yaml(s)["substrate:agents"].values())
]
TENANTS_DOC = "docs/workloads.md#tenants"
AGENT_DOC = "docs/agents.md#what-an-agent-may-call-at-run-time"
DNS = "kube-system/coredns"


def _every_pod(net: StackNetwork) -> list[tuple[str, str]]:
    return [(t, pod) for t in net.config.tenants for pod in net.pods(t)]


def _declares(net: StackNetwork, tenant: str, address: str) -> bool:
    """The stack file lists a CIDR holding ``address`` in the tenant's httpsEgressCidrs."""
    cidrs = net.config.tenants[tenant].network.https_egress_cidrs
    return any(ipaddress.ip_address(address) in ipaddress.ip_network(c) for c in cidrs)


@journey(
    user="ML engineer of any tenant",
    stack="dev, staging, prod",
    steps=["runs a pod in one of the tenant's namespaces", "the pod looks up a Service name"],
    outcome="the pod reaches CoreDNS (kube-system, k8s-app: kube-dns) on UDP 53 and TCP 53 and "
    "not on CoreDNS's metrics port 9153",
    docs=[TENANTS_DOC],
)
@pytest.mark.parametrize("stack", STACKS)
def test_tenant_pod_resolves_names_through_coredns(stack: str) -> None:
    net = stack_network(stack)
    for _, pod in _every_pod(net):
        ports = net.reach.ports(pod, DNS)
        assert ports.allows(53, "UDP") and ports.allows(53, "TCP"), pod
        assert not ports.allows(9153), pod


@journey(
    user="ML engineer of any tenant",
    stack="dev, staging, prod",
    steps=["runs a pod that calls AWS with the SDK's default credential chain"],
    outcome="pods of tenants with network.podIdentityAgent reach the EKS Pod Identity agent "
    "(169.254.170.23) on TCP 80 and on no other port; pods of other tenants cannot reach it",
    docs=[TENANTS_DOC],
)
@pytest.mark.parametrize("stack", STACKS)
def test_tenant_pod_gets_credentials_only_when_the_tenant_allows_aws(stack: str) -> None:
    net = stack_network(stack)
    for tenant, pod in _every_pod(net):
        ports = net.reach.ports(pod, POD_IDENTITY_AGENT)
        if net.config.tenants[tenant].network.pod_identity_agent:
            assert ports == Ports(False, (("TCP", 80, 80),)), pod
        else:
            assert ports == Ports(False, ()), pod


@journey(
    user="ML engineer of any tenant",
    stack="dev, staging, prod",
    steps=["runs a pod that calls STS, ECR, SSM or Bedrock through their interface endpoints"],
    outcome="pods of tenants whose httpsEgressCidrs hold the endpoints' subnets reach an "
    "address in each of those subnets on TCP 443 and not on 80; pods of other tenants reach "
    "none of them",
    docs=[TENANTS_DOC],
)
@pytest.mark.parametrize("stack", STACKS)
def test_tenant_pod_reaches_vpc_endpoints_over_https_when_allowed(stack: str) -> None:
    net = stack_network(stack)
    addresses = net.endpoint_addresses()
    assert len(addresses) >= 2, "interface endpoints span the private subnets"
    for tenant, pod in _every_pod(net):
        for address in addresses:
            expected = _declares(net, tenant, address)
            assert net.reach.allows(pod, address, 443) is expected, (pod, address)
            assert not net.reach.allows(pod, address, 80), (pod, address)


@journey(
    user="ML engineers of two different tenants",
    stack="dev, staging, prod",
    steps=[
        "each runs pods (and agents, Ray clusters) in their tenant's namespaces",
        "one tries to open any port on a pod of the other",
    ],
    outcome="no workload of a tenant reaches any workload of another tenant, in either "
    "direction; with allowWithinTenant a tenant's namespaces reach each other",
    docs=[TENANTS_DOC],
)
@pytest.mark.parametrize("stack", STACKS)
def test_tenants_cannot_reach_each_other(stack: str) -> None:
    net = stack_network(stack)
    owner = {ns: t for t, cfg in net.config.tenants.items() for ns in cfg.namespaces}

    def tenant_of(peer: str) -> str | None:
        return owner.get(peer.split("/", maxsplit=1)[0])

    tenant_workloads = [w for w in net.reach.workloads if tenant_of(w)]
    assert len(tenant_workloads) > len(owner), "agents and pods are both analyzed"
    for src in tenant_workloads:
        reached = net.reach.reachable_from(src)
        assert [w for w in reached if tenant_of(w) not in (None, tenant_of(src))] == [], src
    for tenant, cfg in net.config.tenants.items():
        for a, b in permutations(net.pods(tenant), 2):
            assert net.reach.ports(a, b).everything is cfg.network.allow_within_tenant, (a, b)


@journey(
    user="platform engineer",
    stack="dev, staging, prod",
    steps=["sets metricsPath on an agent", "Prometheus scrapes the agent's ServiceMonitor"],
    outcome="Prometheus (monitoring namespace) reaches each agent with metricsPath on exactly "
    "the agent's port; it reaches no agent without metricsPath and no other tenant pod",
    docs=[AGENT_DOC],
)
@pytest.mark.parametrize("stack", STACKS)
def test_prometheus_scrapes_only_agents_that_publish_metrics(stack: str) -> None:
    net = stack_network(stack)
    for name, agent in net.config.agents.items():
        ports = net.reach.ports(net.prometheus, net.agent(name))
        if agent.metrics_path:
            assert ports == Ports(False, (("TCP", agent.port, agent.port),)), name
        else:
            assert ports == Ports(False, ()), name
    for _, pod in _every_pod(net):
        assert net.reach.ports(net.prometheus, pod) == Ports(False, ()), pod


@journey(
    user="developer of a tenant that runs an agent",
    stack="dev, staging, prod",
    steps=["runs a client pod in the agent's tenant", "opens a session on the agent's port"],
    outcome="the tenant's own pods reach the agent's port; pods of every other tenant do not",
    docs=[AGENT_DOC],
)
@pytest.mark.parametrize("stack", STACKS)
def test_agent_session_port_is_reachable_from_its_own_tenant(stack: str) -> None:
    net = stack_network(stack)
    assert net.config.agents, "every stack runs agents"
    for name, agent in net.config.agents.items():
        for tenant, pod in _every_pod(net):
            allowed = net.reach.allows(pod, net.agent(name), agent.port)
            assert allowed is (tenant == agent.tenant), (pod, name)


@journey(
    user="developer of a tenant that runs two agents",
    stack="dev, staging, prod",
    steps=[
        "agent B (compromised or buggy) connects to agent A's session port, where A did not "
        "declare B among its callers"
    ],
    outcome="agent B cannot reach agent A's port: sessions come from clients and from declared "
    "caller agents only",
    docs=[AGENT_DOC],
)
@pytest.mark.parametrize("stack", STACKS)
def test_another_agent_cannot_reach_an_agents_session_port(stack: str) -> None:
    net = stack_network(stack)
    agents = net.config.agents
    pairs = [
        (a, b)
        for a in agents
        for b in agents
        if a != b and agents[a].tenant == agents[b].tenant and b not in agents[a].callers.agents
    ]
    if not pairs:
        pytest.fail("the stack runs no two agents in one tenant")
    for a, b in pairs:
        assert not net.reach.allows(net.agent(b), net.agent(a), agents[a].port), (b, a)
        assert net.reach.ports(net.agent(b), net.agent(a)) == Ports(False, ()), (b, a)


@journey(
    user="developer of a tenant whose research agent takes tasks from its support agent",
    stack="staging, prod",
    steps=[
        "declares callers: {agents: [support]} on the research agent",
        "the support agent opens a session on the research agent's port",
        "the research agent tries the support agent's port",
    ],
    outcome="support reaches research on exactly research's port; research does not reach "
    "support (callers are one-way)",
    docs=[AGENT_DOC],
)
@pytest.mark.parametrize("stack", CALLER_STACKS)
def test_a_declared_caller_agent_reaches_the_agent(stack: str) -> None:
    net = stack_network(stack)
    agents = net.config.agents
    declared = [(a, b) for a in agents for b in agents[a].callers.agents]
    assert declared, "the stack declares no caller agent"
    for a, b in declared:
        port = agents[a].port
        assert net.reach.ports(net.agent(b), net.agent(a)) == Ports(False, (("TCP", port, port),))
        if a not in agents[b].callers.agents:
            assert net.reach.ports(net.agent(a), net.agent(b)) == Ports(False, ()), (a, b)


@journey(
    user="ML engineer of a tenant that uses AWS",
    stack="dev, staging, prod",
    steps=[
        "reads a training dataset from S3 (the S3 gateway endpoint routes the Region's S3 "
        "prefix list privately)"
    ],
    outcome="pods of tenants with podIdentityAgent reach the Region's S3 addresses on TCP 443",
    docs=[TENANTS_DOC],
)
@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue 13: no policy admits the S3 prefix list the gateway routes",
)
@pytest.mark.parametrize("stack", STACKS)
def test_tenant_pod_reaches_s3_through_the_gateway_endpoint(stack: str) -> None:
    net = stack_network(stack)
    for tenant, pod in _every_pod(net):
        if net.config.tenants[tenant].network.pod_identity_agent:
            assert net.reach.allows(pod, net.s3_address(), 443), pod


@journey(
    user="ML engineer of a GPU tenant",
    stack="staging, prod",
    steps=["creates a RayCluster", "the KubeRay operator polls the head's dashboard and Serve"],
    outcome="the KubeRay operator reaches the Ray head pod on the dashboard (8265) and Serve "
    "(8000) ports",
    docs=[TENANTS_DOC],
)
@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue 13: tenant ingress admits only the tenant, not the KubeRay operator",
)
@pytest.mark.parametrize("stack", KUBERAY_STACKS)
def test_kuberay_operator_reaches_ray_head_pods(stack: str) -> None:
    net = stack_network(stack)
    if net.kuberay_operator is None or net.ray_head is None:
        pytest.fail("KubeRay is on but its operator or head pod was not analyzed")
    for port in (RAY_HEAD_PORTS["dashboard"], RAY_HEAD_PORTS["serve"]):
        assert net.reach.allows(net.kuberay_operator, net.ray_head, port), port


@journey(
    user="ML engineer of a tenant that uses AWS",
    stack="dev, staging, prod",
    steps=["a pod opens HTTPS to a VPC address that is no endpoint (a public subnet)"],
    outcome="the connection is denied: HTTPS egress reaches the endpoints' subnets only",
    docs=[TENANTS_DOC],
)
@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue 13: allow-https-egress opens the whole VPC, public subnets too",
)
@pytest.mark.parametrize("stack", STACKS)
def test_https_egress_stops_at_the_endpoints(stack: str) -> None:
    net = stack_network(stack)
    others = net.other_vpc_addresses()
    if not others:
        pytest.fail("the VPC has no subnet without endpoints")
    for _, pod in _every_pod(net):
        for address in others:
            assert not net.reach.allows(pod, address, 443), (pod, address)
