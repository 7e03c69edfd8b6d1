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
from tests.network import POD_IDENTITY_AGENT, RAY_HEAD_PORTS, StackNetwork, services, stack_network

KUBERAY_STACKS = [
    s
    for s in STACKS
    if any(i.startswith("ray.io/") for i in stack_yaml(s)["substrate:kueue"]["integrations"])
]
LOAD_BALANCER_STACKS = [
    s
    for s in STACKS
    if any(
        (t.get("network") or {}).get("ingress", {}).get("loadBalancers")
        for t in stack_yaml(s)["substrate:tenants"].values()
    )
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
    """The tenant's `network` opens HTTPS to ``address``: awsEndpoints (``address`` is an
    endpoint's) or a CIDR holding it in httpsEgressCidrs."""
    cfg = net.config.tenants[tenant].network
    return cfg.aws_endpoints or any(
        ipaddress.ip_address(address) in ipaddress.ip_network(c) for c in cfg.https_egress_cidrs
    )


def tcp(*ports: int) -> Ports:
    """Exactly these TCP ports, as the analyzer lists them."""
    return Ports(False, tuple(("TCP", p, p) for p in sorted(ports)))


def _tenant_of(net: StackNetwork, peer: str) -> str | None:
    owner = {ns: t for t, cfg in net.config.tenants.items() for ns in cfg.namespaces}
    return owner.get(peer.split("/", maxsplit=1)[0])


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
    outcome="pods of tenants with network.awsEndpoints reach an address in each of the "
    "endpoints' subnets on TCP 443 and not on 80; pods of other tenants reach none of them",
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
    "direction, except on the ports the other declared for it (network.ingress.tenants); with "
    "allowWithinTenant a tenant's namespaces reach each other",
    docs=[TENANTS_DOC],
)
@pytest.mark.parametrize("stack", STACKS)
def test_tenants_cannot_reach_each_other(stack: str) -> None:
    net = stack_network(stack)
    tenant_workloads = [w for w in net.reach.workloads if _tenant_of(net, w)]
    assert len(tenant_workloads) > len(net.config.tenants), "agents and pods are both analyzed"
    for src in tenant_workloads:
        mine = _tenant_of(net, src)
        assert mine is not None
        for dst, ports in net.reach.reachable_from(src).items():
            theirs = _tenant_of(net, dst)
            if theirs in (None, mine):
                continue
            declared = net.config.tenants[theirs].network.ingress.tenants.get(mine, [])
            assert ports == tcp(*declared) and declared, (src, dst, ports)
    for tenant, cfg in net.config.tenants.items():
        for a, b in permutations(net.pods(tenant), 2):
            assert net.reach.ports(a, b).everything is cfg.network.allow_within_tenant, (a, b)


@journey(
    user="developer of an agent that calls the inference tenant's model servers",
    stack="dev, staging, prod",
    steps=[
        "the inference tenant declares network.ingress.tenants: {agents: [8000]}",
        "a pod of the agents tenant opens port 8000, then 8080, on an inference pod",
        "an inference pod opens a connection to an agents pod",
    ],
    outcome="the agents pod reaches the inference pod on TCP 8000 and nothing else; the "
    "inference pod reaches no agents pod; tenants the inference tenant did not name reach none "
    "of its pods",
    docs=[TENANTS_DOC],
)
@pytest.mark.parametrize("stack", STACKS)
def test_a_tenant_reaches_another_only_on_the_ports_it_declared(stack: str) -> None:
    net = stack_network(stack)
    declared = [
        (server, client, ports)
        for server, cfg in net.config.tenants.items()
        for client, ports in cfg.network.ingress.tenants.items()
    ]
    assert declared, "no tenant declares ingress from another"
    for server, client, ports in declared:
        for a in net.pods(client):
            for b in net.pods(server):
                assert net.reach.ports(a, b) == tcp(*ports), (a, b)
                back = net.config.tenants[client].network.ingress.tenants.get(server, [])
                assert net.reach.ports(b, a) == tcp(*back), (b, a)
        for other in set(net.config.tenants) - {server, client}:
            if other in net.config.tenants[server].network.ingress.tenants:
                continue
            for a in net.pods(other):
                for b in net.pods(server):
                    assert net.reach.ports(a, b) == Ports(False, ()), (a, b)


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
    for name, agent in services(net.config.agents).items():
        ports = net.reach.ports(net.prometheus, net.agent(name))
        if agent.metrics_path:
            assert ports == Ports(False, (("TCP", agent.port, agent.port),)), name
        else:
            assert ports == Ports(False, ()), name
    for tenant, pod in _every_pod(net):
        if not net.config.tenants[tenant].network.ingress.monitoring:
            assert net.reach.ports(net.prometheus, pod) == Ports(False, ()), pod


@journey(
    user="ML engineer of a tenant that exports metrics",
    stack="dev, staging, prod",
    steps=[
        "the tenant declares network.ingress.monitoring: [8080]",
        "Prometheus scrapes the tenant's pods; a pod of another namespace of the monitoring "
        "stack (Grafana, the operator) tries the same port",
    ],
    outcome="Prometheus reaches every pod of the tenant on exactly the declared ports; pods "
    "of tenants that declare none it does not reach; no other monitoring pod reaches them",
    docs=[TENANTS_DOC],
)
@pytest.mark.parametrize("stack", STACKS)
def test_prometheus_scrapes_the_metrics_ports_a_tenant_declares(stack: str) -> None:
    net = stack_network(stack)
    declaring = [t for t, c in net.config.tenants.items() if c.network.ingress.monitoring]
    assert declaring, "no tenant declares monitoring ports"
    monitoring = net.prometheus.split("/", maxsplit=1)[0]
    others = [w for w in net.reach.workloads if w.startswith(f"{monitoring}/")]
    others.remove(net.prometheus)
    assert others, "the monitoring stack's other pods are analyzed"
    for tenant, pod in _every_pod(net):
        ports = net.config.tenants[tenant].network.ingress.monitoring
        assert net.reach.ports(net.prometheus, pod) == tcp(*ports), pod
        for other in others:
            assert net.reach.ports(other, pod) == Ports(False, ()), (other, pod)


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
    for name, agent in services(net.config.agents).items():
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
    agents = services(net.config.agents)
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
    user="ML engineer of a tenant that uses S3",
    stack="dev, staging, prod",
    steps=[
        "reads a training dataset from S3 (the S3 gateway endpoint routes the Region's S3 "
        "prefix list privately)"
    ],
    outcome="pods of tenants with network.s3 reach an address in every entry of the Region's "
    "S3 prefix list on TCP 443 and not on 80; pods of other tenants reach none of them",
    docs=[TENANTS_DOC],
)
@pytest.mark.parametrize("stack", STACKS)
def test_tenant_pod_reaches_s3_through_the_gateway_endpoint(stack: str) -> None:
    net = stack_network(stack)
    assert any(t.network.s3 for t in net.config.tenants.values()), "no tenant uses S3"
    assert len(net.s3_addresses()) >= 2, "the prefix list has several entries"
    for tenant, pod in _every_pod(net):
        for address in net.s3_addresses():
            expected = net.config.tenants[tenant].network.s3
            assert net.reach.allows(pod, address, 443) is expected, (pod, address)
            assert not net.reach.allows(pod, address, 80), (pod, address)


@journey(
    user="ML engineer of a GPU tenant",
    stack="staging, prod",
    steps=[
        "creates a RayCluster (or a RayJob or RayService)",
        "the KubeRay operator, as its chart runs it, polls the head's dashboard and checks its "
        "Serve proxy",
    ],
    outcome="the KubeRay operator reaches the Ray head pod on exactly the dashboard (8265) and "
    "Serve (8000) ports, and no other pod of any tenant",
    docs=[TENANTS_DOC],
)
@pytest.mark.parametrize("stack", KUBERAY_STACKS)
def test_kuberay_operator_reaches_ray_head_pods(stack: str) -> None:
    net = stack_network(stack)
    if net.kuberay_operator is None or net.ray_head is None:
        pytest.fail("KubeRay is on but its operator or head pod was not analyzed")
    ports = (RAY_HEAD_PORTS["dashboard"], RAY_HEAD_PORTS["serve"])
    assert net.reach.ports(net.kuberay_operator, net.ray_head) == tcp(*ports)
    for _, pod in _every_pod(net):
        assert net.reach.ports(net.kuberay_operator, pod) == Ports(False, ()), pod


@journey(
    user="ML engineer of a tenant whose model servers sit behind a load balancer",
    stack="staging, prod",
    steps=[
        "the tenant declares network.ingress.loadBalancers: {ports: [8443]}",
        "an internet-facing load balancer (its addresses in the public subnets) forwards to a "
        "pod; a node or pod in a private subnet tries the same port",
    ],
    outcome="addresses in every public subnet reach the tenant's pods on exactly the declared "
    "ports; private-subnet addresses do not; other tenants' pods are not reachable from the "
    "public subnets",
    docs=[TENANTS_DOC],
)
@pytest.mark.parametrize("stack", LOAD_BALANCER_STACKS)
def test_load_balancers_reach_only_the_declared_ports(stack: str) -> None:
    net = stack_network(stack)
    public = [str(ipaddress.ip_network(c).network_address + 10) for c in net.public_subnets()]
    private = net.endpoint_addresses()
    for tenant, pod in _every_pod(net):
        lb = net.config.tenants[tenant].network.ingress.load_balancers
        for address in public:
            expected = tcp(*lb.ports) if lb else Ports(False, ())
            assert net.reach.ports(address, pod) == expected, (address, pod)
        for address in private:
            assert net.reach.ports(address, pod) == Ports(False, ()), (address, pod)


@journey(
    user="ML engineer of a tenant that uses AWS",
    stack="dev, staging, prod",
    steps=[
        "a pod opens HTTPS to a VPC address that is no endpoint's (a public subnet, an "
        "address outside every subnet)"
    ],
    outcome="the connection is denied: HTTPS egress reaches the endpoints' subnets only",
    docs=[TENANTS_DOC],
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
