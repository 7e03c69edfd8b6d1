"""One stateful agent with Bedrock access, from Substrate's components.

What a team writes to run a single agent on a cluster it already has: the agent's namespace
(Pod Security `restricted`, default-deny network policies that let it reach only DNS, the EKS
Pod Identity agent and HTTPS inside the VPC), and an `AgentRuntime` — a StatefulSet whose
replica keeps its memory on a retained volume, with probes, a PDB and alert rules — whose role
may invoke exactly two Bedrock models and only through a pinned guardrail version.
"""

from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from substrate.components.agents.agent_runtime import AgentRuntime
from substrate.components.bedrock.bedrock_logging import BedrockInvocationLogging
from substrate.components.bedrock.bedrock_models import ModelKind, ModelRef
from substrate.components.workloads.tenancy import (
    NetworkSpec,
    Share,
    TenantSpec,
    resource_quota_hard,
)
from substrate.components.workloads.tenant import LIMITS_NAME, QUOTA_NAME
from substrate.components.workloads.tenant_manifests import (
    limit_range_spec,
    namespace_labels,
    network_policies,
)

config = pulumi.Config()
cluster_name = config.require("clusterName")
region = pulumi.Config("aws").require("region")

cluster = k8s.Provider("cluster", kubeconfig=config.require_secret("kubeconfig"))
on_cluster = pulumi.ResourceOptions(providers={"kubernetes": cluster})

team = TenantSpec(
    name="support",
    namespaces=("support",),
    tier="inference-critical",
    cpu=Share(4),
    memory=Share(16 * 2**30),
    network=NetworkSpec(pod_identity_agent=True, https_cidrs=(config.require("vpcCidr"),)),
)
namespace = k8s.core.v1.Namespace(
    "namespace",
    metadata={"name": "support", "labels": namespace_labels(team)},
    opts=on_cluster,
)
in_namespace = pulumi.ResourceOptions.merge(
    on_cluster, pulumi.ResourceOptions(depends_on=[namespace])
)
# The namespace's guard rails, as the Tenant component would set them: a quota that is the
# team's whole share (and no GPUs), container defaults, and default-deny network policies.
guards: list[pulumi.Resource] = [
    k8s.core.v1.ResourceQuota(
        "quota",
        metadata={"name": QUOTA_NAME, "namespace": "support"},
        spec={"hard": resource_quota_hard(team, [team])},
        opts=in_namespace,
    ),
    k8s.core.v1.LimitRange(
        "limits",
        metadata={"name": LIMITS_NAME, "namespace": "support"},
        spec=cast(Any, limit_range_spec(team)),
        opts=in_namespace,
    ),
]
guards += [
    k8s.networking.v1.NetworkPolicy(
        f"network-policy-{policy}",
        metadata={"name": policy, "namespace": "support"},
        spec=cast(Any, spec),
        opts=in_namespace,
    )
    for policy, spec in network_policies(team).items()
]
# Bedrock model invocation logging is one configuration per account and Region: declare it
# here only if no other program owns it (then pass the pack `requireInvocationLogging: false`).
if config.get_bool("manageInvocationLogging") is not False:
    BedrockInvocationLogging(
        "bedrock-logging",
        {
            "log_group_name": f"/aws/bedrock/{cluster_name}/model-invocations",
            "retention_days": 365,
            "tags": {"team": "support"},
        },
    )

agent = AgentRuntime(
    "agent-support",
    {
        "agent": "support",
        "tenant": team.name,
        "namespace": "support",
        "image": config.require("image"),
        "cpu": "500m",
        "memory": "2Gi",
        "memory_volume": {"size": "20Gi", "storage_class": config.require("storageClass")},
        "probes": {
            "liveness": {"path": "/healthz"},
            "readiness": {"path": "/ready"},
            "startup": {"path": "/healthz", "failure_threshold": 30},
        },
        "region": region,
        # No SPIRE on this cluster: the agent proves who it is to AWS through Pod Identity only.
        "spiffe": False,
        "bedrock": {
            "cluster_name": cluster_name,
            "cluster_arn": config.require("clusterArn"),
            "namespace": "support",
            "service_account": "support",
            "models": [
                ModelRef("nova-pro", ModelKind.INFERENCE_PROFILE, "us.amazon.nova-pro-v1:0"),
                ModelRef("titan-embed", ModelKind.FOUNDATION_MODEL, "amazon.titan-embed-text-v2:0"),
            ],
            "guardrail": {
                "id": config.require("guardrailId"),
                "version": config.require("guardrailVersion"),
            },
            "tags": {"team": "support"},
        },
        "monitoring": {"namespace": "support", "metrics_path": "/metrics"},
    },
    opts=pulumi.ResourceOptions.merge(
        on_cluster, pulumi.ResourceOptions(depends_on=[namespace, *guards])
    ),
)
pulumi.export("roleArn", agent.role_arn)
pulumi.export("service", agent.service)
