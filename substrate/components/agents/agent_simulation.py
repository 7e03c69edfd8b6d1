"""The agent simulation namespace: where a tenant's CI runs its agents on injected memory.

Renders the namespace (restricted Pod Security; its own `substrate.io/tenant` value, so no
production tenant's NetworkPolicy, agent session policy or SPIFFE registration matches it), a
ResourceQuota, default-deny NetworkPolicies with the egress an agent needs (DNS, the Pod
Identity agent, the AWS interface endpoints), a ClusterQueue in no cohort with Kueue
preemption off and a `default` LocalQueue, a Role for the owning tenant's admins (run Jobs,
create claims and VolumeSnapshots, read pods and logs; nothing else), and per simulated agent a
ServiceAccount `<agent>` with its own Bedrock role (the agent's grants and guardrail, trusted only
by that service account in this namespace). Jobs here must bound and clean up their runs: the
Kyverno policy `agent-simulation`
(substrate.components.admission.admission_policies.agent_simulation).
"""

from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, Required, TypedDict, cast

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.apiextensions import CustomResource
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from substrate.components.agents.bedrock_agent_role import BedrockAgentRole, BedrockAgentRoleArgs
from substrate.components.core._args import check_args
from substrate.components.core.addon import pod_security_labels
from substrate.components.core.labels import GPU_NAMESPACE_LABEL, GPU_RESOURCE, TENANT_LABEL
from substrate.components.core.tokens import component_args
from substrate.components.workloads.tenancy import DEFAULT_FLAVOR, TenantSpec
from substrate.components.workloads.tenant_manifests import limit_range_spec

KUEUE_API_VERSION = "kueue.x-k8s.io/v1beta2"
SIMULATION_TAG = "substrate.io/agent-simulation"
"""Tag on the simulation roles (value: the namespace), beside the Bedrock agent tag the endpoint
policy admits: invocation logs and IAM show a simulated call for what it is."""
MANAGED_BY = {"app.kubernetes.io/managed-by": "substrate", "app.kubernetes.io/part-of": "substrate"}
QUOTA = "agent-simulation"
ROLE = "agent-simulation"
LOCAL_QUEUE = "default"
LIMITS = "agent-simulation-defaults"


class SimulationQuota(TypedDict):
    cpu: int
    """CPUs: the ClusterQueue's nominal quota and the namespace's `requests.cpu`."""
    memory: str
    """Memory: nominal quota, `requests.memory` and `limits.memory`."""
    storage: str
    """`requests.storage` of all claims."""
    claims: int
    """`persistentvolumeclaims`."""
    jobs: int
    """`count/jobs.batch`."""


class SimulatedAgent(TypedDict, total=False):
    name: Required[str]
    """The agent (its service account here has the same name)."""
    bedrock: NotRequired[BedrockAgentRoleArgs | None]
    """Its Bedrock role's args with this namespace and service account; none: no role."""


class AgentSimulationArgs(TypedDict, total=False):
    namespace: Required[str]
    """The simulation namespace."""
    admin_group: Required[str]
    """Kubernetes group of the tenant admins who run simulations (their CI)."""
    quota: Required[SimulationQuota]
    """ResourceQuota of the namespace and nominal quota of its ClusterQueue."""
    agents: Required[Sequence[SimulatedAgent]]
    """The agents that may be simulated: a ServiceAccount each, and a Bedrock role for those
    with models."""
    network_policies: NotRequired[Mapping[str, Mapping[str, Any]]]
    """NetworkPolicy name -> spec (substrate.components.workloads.tenant_manifests
    .network_policies)."""


def namespace_labels(namespace: str) -> dict[str, str]:
    """Kueue manages namespaces that carry the tenant label; its value is the namespace's own,
    so nothing that trusts a production tenant's namespaces trusts this one."""
    return {
        **pod_security_labels("restricted"),
        TENANT_LABEL: namespace,
        GPU_NAMESPACE_LABEL: "false",
    }


def quota_hard(quota: SimulationQuota) -> dict[str, str]:
    return {
        "requests.cpu": str(quota["cpu"]),
        "requests.memory": quota["memory"],
        "limits.memory": quota["memory"],
        "requests.storage": quota["storage"],
        "persistentvolumeclaims": str(quota["claims"]),
        "count/jobs.batch": str(quota["jobs"]),
        f"requests.{GPU_RESOURCE}": "0",
    }


def cluster_queue_spec(namespace: str, quota: SimulationQuota) -> dict[str, Any]:
    """No `cohortName`: the queue neither borrows nor lends, and with preemption off a run
    beyond its quota waits for an earlier run to finish."""
    return {
        "namespaceSelector": {
            "matchExpressions": [
                {"key": "kubernetes.io/metadata.name", "operator": "In", "values": [namespace]}
            ]
        },
        "queueingStrategy": "BestEffortFIFO",
        "resourceGroups": [
            {
                "coveredResources": ["cpu", "memory"],
                "flavors": [
                    {
                        "name": DEFAULT_FLAVOR,
                        "resources": [
                            {"name": "cpu", "nominalQuota": str(quota["cpu"])},
                            {"name": "memory", "nominalQuota": quota["memory"]},
                        ],
                    }
                ],
            }
        ],
        "preemption": {"reclaimWithinCohort": "Never", "withinClusterQueue": "Never"},
    }


def role_rules() -> list[dict[str, Any]]:
    """What the tenant's admins (their CI) do here: run Jobs, inject memory (claims, snapshots)
    and read what ran. No service accounts, secrets, RBAC or long-running workloads."""
    run = ["get", "list", "watch", "create", "delete"]
    read = ["get", "list", "watch"]
    return [
        {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": run},
        {"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": run},
        {"apiGroups": ["snapshot.storage.k8s.io"], "resources": ["volumesnapshots"], "verbs": run},
        {"apiGroups": [""], "resources": ["pods", "pods/log", "events"], "verbs": read},
        {"apiGroups": ["kueue.x-k8s.io"], "resources": ["workloads", "localqueues"], "verbs": read},
        {"apiGroups": [""], "resources": ["resourcequotas"], "verbs": read},
    ]


class AgentSimulation(pulumi.ComponentResource):
    """The simulation namespace, its quota, queue, network policies, RBAC and agent identities."""

    role_arns: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: AgentSimulationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__(*component_args("substrate:agents:AgentSimulation", name, opts))
        ns = args["namespace"]
        labels = {**MANAGED_BY, TENANT_LABEL: ns}
        child = pulumi.ResourceOptions(parent=self)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=ObjectMetaArgs(name=ns, labels=namespace_labels(ns)),
            opts=child,
        )
        inside = pulumi.ResourceOptions(parent=self, depends_on=[namespace])

        def meta(obj: str) -> ObjectMetaArgs:
            return ObjectMetaArgs(name=obj, namespace=ns, labels=labels)

        k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata=meta(QUOTA),
            spec={"hard": quota_hard(args["quota"])},
            opts=inside,
        )
        k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata=meta(LIMITS),
            # The tenants' container defaults (250m, 512Mi): a run states its own sizes.
            spec=cast(Any, limit_range_spec(TenantSpec(ns, (ns,)))),
            opts=inside,
        )
        for policy, spec in sorted(args.get("network_policies", {}).items()):
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{policy}", metadata=meta(policy), spec=cast(Any, spec), opts=inside
            )
        queue = CustomResource(
            f"{name}-cluster-queue",
            api_version=KUEUE_API_VERSION,
            kind="ClusterQueue",
            metadata=ObjectMetaArgs(name=ns, labels=labels),
            spec=cluster_queue_spec(ns, args["quota"]),
            opts=child,
        )
        CustomResource(
            f"{name}-local-queue",
            api_version=KUEUE_API_VERSION,
            kind="LocalQueue",
            metadata=meta(LOCAL_QUEUE),
            spec={"clusterQueue": ns},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, queue]),
        )
        role = k8s.rbac.v1.Role(
            f"{name}-role", metadata=meta(ROLE), rules=cast(Any, role_rules()), opts=inside
        )
        k8s.rbac.v1.RoleBinding(
            f"{name}-role-binding",
            metadata=meta(ROLE),
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="Role", name=ROLE
            ),
            subjects=[
                k8s.rbac.v1.SubjectArgs(
                    kind="Group", name=args["admin_group"], api_group="rbac.authorization.k8s.io"
                )
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role]),
        )
        self.role_arns = {}
        for agent in args["agents"]:
            self._agent(name, ns, agent, labels, inside)
        self.register_outputs({"namespace": ns, "clusterQueue": ns, "roleArns": self.role_arns})

    def _agent(
        self,
        name: str,
        ns: str,
        agent: SimulatedAgent,
        labels: Mapping[str, str],
        inside: pulumi.ResourceOptions,
    ) -> None:
        k8s.core.v1.ServiceAccount(
            f"{name}-{agent['name']}-service-account",
            metadata=ObjectMetaArgs(name=agent["name"], namespace=ns, labels=dict(labels)),
            automount_service_account_token=False,
            opts=inside,
        )
        bedrock = agent.get("bedrock")
        if bedrock is None:
            return
        if bedrock["namespace"] != ns or bedrock["service_account"] != agent["name"]:
            raise ValueError(
                f"SimulatedAgent {agent['name']!r}: its Bedrock role must trust "
                f"{ns}/{agent['name']}, not {bedrock['namespace']}/{bedrock['service_account']}"
            )
        tagged: BedrockAgentRoleArgs = {
            **bedrock,
            "tags": {**bedrock.get("tags", {}), SIMULATION_TAG: ns},
        }
        role = BedrockAgentRole(
            f"{name}-{agent['name']}-bedrock", tagged, opts=pulumi.ResourceOptions(parent=self)
        )
        self.role_arns[agent["name"]] = role.role_arn
