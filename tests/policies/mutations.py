"""Break one field of a planned stack: the starting point of mutation tests.

MUTATIONS maps each mandatory pack policy to one change of one resource in the prod plan that
must make exactly that policy fire. Values are written as in YAML fixtures (ints become the
engine's floats).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from substrate.plan.recorder import ResourceRecord
from tests.policies.fixtures import Break, broken


@dataclass(frozen=True)
class Mutation:
    policy: str
    type: str
    name: str
    change: Break
    add: dict[str, Any] | None = None
    """Instead of changing a resource, add one with these inputs (for rules about resource
    types the prod plan does not declare, e.g. ECR repositories)."""

    def apply(self, records: Sequence[ResourceRecord]) -> list[ResourceRecord]:
        if self.add is not None:
            stack = records[0].urn.split("::")[0].removeprefix("urn:pulumi:")
            return [
                *records,
                ResourceRecord(
                    urn=f"urn:pulumi:{stack}::substrate::{self.type}::{self.name}",
                    type=self.type,
                    name=self.name,
                    parent=None,
                    custom=True,
                    remote=False,
                    dependencies=[],
                    property_dependencies={},
                    provider=None,
                    raw_inputs=_engine(self.add),
                ),
            ]
        out, hits = [], 0
        for record in records:
            if record.type == self.type and record.name == self.name:
                hits += 1
                out.append(
                    replace(record, raw_inputs=_engine(broken(record.raw_inputs, self.change)))
                )
            else:
                out.append(record)
        assert hits == 1, f"{self.policy}: {self.type} {self.name} matched {hits} resources"
        return out


def _engine(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _engine(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_engine(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return copy.deepcopy(value)


EKS = "eks:index:Cluster"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NAMESPACE = "kubernetes:core/v1:Namespace"
CLUSTER_QUEUE = "kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"

MUTATIONS: list[Mutation] = [
    Mutation(
        "r1-control-plane-logs",
        EKS,
        "cluster-eks",
        Break(set={"enabledClusterLogTypes": ["api", "audit"]}),
    ),
    Mutation(
        "r2-private-endpoint", EKS, "cluster-eks", Break(set={"endpointPrivateAccess": False})
    ),
    Mutation(
        "r3-public-endpoint",
        EKS,
        "cluster-eks",
        Break(set={"endpointPublicAccess": True, "publicAccessCidrs": ["10.0.0.0/8"]}),
    ),
    Mutation("r4-secrets-encryption", EKS, "cluster-eks", Break(delete="encryptionConfigKeyArn")),
    Mutation(
        "r5-kms-key-rotation",
        "aws:kms/key:Key",
        "cluster-volume-key",
        Break(set={"enableKeyRotation": False}),
    ),
    Mutation("r6-supported-version", EKS, "cluster-eks", Break(set={"version": "1.30"})),
    Mutation(
        "r7-api-authentication",
        EKS,
        "cluster-eks",
        Break(set={"authenticationMode": "API_AND_CONFIG_MAP"}),
    ),
    Mutation(
        "r8-no-creator-admin",
        "aws:eks/accessEntry:AccessEntry",
        "cluster-admin-substrate-platform-admin",
        Break(set={"kubernetesGroups": ["system:masters"]}),
    ),
    Mutation(
        "r9-imdsv2-required",
        LT,
        "system-nodes-lt",
        Break(set={"metadataOptions.httpTokens": "optional"}),
    ),
    Mutation(
        "r10-imds-hop-limit",
        LT,
        "system-nodes-lt",
        Break(set={"metadataOptions.httpPutResponseHopLimit": 2}),
    ),
    Mutation(
        "r13-encrypted-volumes",
        LT,
        "system-nodes-lt",
        Break(set={"blockDeviceMappings.0.ebs.encrypted": "false"}),
    ),
    Mutation(
        "r34-webhook-scope",
        "kubernetes:helm.sh/v3:Release",
        "kyverno-release",
        Break(set={"values.admissionController.replicas": 1}),
    ),
    Mutation(
        "r34-admission-enforce",
        "kubernetes:policies.kyverno.io/v1:ValidatingPolicy",
        "admission-policies-gpu-placement",
        Break(set={"spec.validationActions": ["Audit"]}),
    ),
    Mutation(
        "p2-spire-trust-domain",
        "kubernetes:helm.sh/v3:Release",
        "spire-release",
        Break(set={"values.global.spire.trustDomain": "example.org"}),
    ),
    Mutation(
        "r14-pinned-ami",
        NODE_CLASS,
        "node-classes-gpu",
        Break(set={"spec.amiSelectorTerms": [{"alias": "al2023@latest"}]}),
    ),
    Mutation("r15-nodepool-limits", NODE_POOL, "node-pools-training", Break(delete="spec.limits")),
    Mutation(
        "r16-disruption-budgets",
        NODE_POOL,
        "node-pools-training",
        Break(set={"spec.disruption.budgets": [{"nodes": "10%"}]}),
    ),
    Mutation(
        "r16-interruption-queue",
        "aws:sqs/queue:Queue",
        "karpenter-interruption-queue",
        Break(set={"messageRetentionSeconds": 1209600}),
    ),
    Mutation(
        "r17-gpu-pools", NODE_POOL, "node-pools-training", Break(delete="spec.template.spec.taints")
    ),
    Mutation(
        "p1-dcgm-exporter-for-gpu-pools",
        "kubernetes:helm.sh/v3:Release",
        "dcgm-exporter-release",
        Break(set={"values.tolerations": []}),
    ),
    Mutation(
        "r11-private-nodes",
        NODE_CLASS,
        "node-classes-gpu",
        Break(set={"spec.associatePublicIPAddress": True}),
    ),
    Mutation(
        "r12-no-open-ssh",
        "aws:ec2/securityGroup:SecurityGroup",
        "debug-ssh",
        Break(),
        add={
            "ingress": [
                {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}
            ]
        },
    ),
    Mutation(
        "r18-zone-spread",
        NODE_CLASS,
        "node-classes-gpu",
        Break(
            set={
                "spec.subnetSelectorTerms": [
                    {"tags": {"Name": "substrate-prod-private-us-east-1a"}}
                ]
            }
        ),
    ),
    Mutation(
        "r26-ecr-repositories",
        "aws:ecr/repository:Repository",
        "models",
        Break(),
        add={"imageTagMutability": "MUTABLE", "imageScanningConfiguration": {"scanOnPush": True}},
    ),
]

# Bedrock access and IAM posture (R19-R25). Endpoint policies are JSON strings, so a mutation
# replaces the whole document with one that breaks exactly the rule under test.
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
_AGENTS = '{"StringEquals": {"aws:PrincipalAccount": "123456789012"'
_GUARD = "arn:aws:bedrock:us-east-1:123456789012:guardrail/pr0dguard01x"
_NOVA = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0"
"""A model that supports guardrails (an embedding model may be granted without one)."""
_INVOKE = '["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]'
_GUARDED_ANYTHING = (
    '{"Statement": ['
    f'{{"Effect": "Allow", "Principal": "*", "Action": {_INVOKE}, "Resource": "*", '
    f'"Condition": {_AGENTS}, "bedrock:GuardrailIdentifier": "{_GUARD}:3"}}}}}},'
    f'{{"Effect": "Deny", "Principal": "*", "Action": {_INVOKE}, "Resource": "*", '
    f'"Condition": {{"StringNotEquals": {{"bedrock:GuardrailIdentifier": "{_GUARD}:3"}}}}}},'
    f'{{"Effect": "Allow", "Principal": "*", "Action": "bedrock:ApplyGuardrail", '
    f'"Resource": "{_GUARD}", "Condition": {_AGENTS}}}}}}}]}}'
)
_UNGUARDED_NOVA = (
    '{"Statement": ['
    f'{{"Effect": "Allow", "Principal": "*", "Action": {_INVOKE}, "Resource": ["{_NOVA}"], '
    f'"Condition": {_AGENTS}}}}}}}]}}'
)

MUTATIONS += [
    Mutation(
        "r19-iam-least-privilege",
        "aws:iam/rolePolicy:RolePolicy",
        "karpenter-pod-identity-policy",
        Break(
            set={"policy": '{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'}
        ),
    ),
    Mutation(
        "r20-workload-role-trust",
        "aws:iam/role:Role",
        "karpenter-pod-identity-role",
        Break(
            set={
                "assumeRolePolicy": '{"Statement": [{"Effect": "Allow", "Principal": '
                '{"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
            }
        ),
    ),
    Mutation(
        "r21-node-role-policies",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "karpenter-node-AmazonEC2ContainerRegistryPullOnly",
        Break(set={"policyArn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"}),
    ),
    # Any endpoint policy granting InvokeModel is judged; the bedrock-runtime one is R23's here
    # (the agreement test applies every mutation at once).
    Mutation(
        "r22-bedrock-invoke-scope",
        ENDPOINT,
        "endpoints-ssm",
        Break(set={"policy": _GUARDED_ANYTHING}),
    ),
    Mutation(
        "r23-bedrock-guardrail",
        ENDPOINT,
        "endpoints-bedrock-runtime",
        Break(set={"policy": _UNGUARDED_NOVA}),
    ),
    Mutation(
        "r24-vpc-endpoints", ENDPOINT, "endpoints-sts", Break(set={"privateDnsEnabled": False})
    ),
    Mutation(
        "r25-bedrock-invocation-logging",
        "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration",
        "bedrock-logging-configuration",
        Break(delete="loggingConfig.cloudwatchConfig"),
    ),
    Mutation(
        "r27-pod-security-labels",
        NAMESPACE,
        "tenant-ml-research-ml-research-namespace",
        Break(
            set={
                "metadata.labels": {
                    "pod-security.kubernetes.io/enforce": "baseline",
                    "pod-security.kubernetes.io/audit": "restricted",
                    "pod-security.kubernetes.io/warn": "restricted",
                    "substrate.io/tenant": "ml-research",
                    "substrate.io/gpu": "true",
                }
            }
        ),
    ),
    Mutation(
        "r28-tenant-quota",
        "kubernetes:core/v1:LimitRange",
        "tenant-data-eng-data-eng-limits",
        Break(delete="spec.limits"),
    ),
    Mutation(
        "r30-default-deny",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        "tenant-ml-research-ml-research-default-deny",
        Break(set={"spec.policyTypes": ["Ingress"]}),
    ),
    Mutation(
        "r32-gpu-quota",
        "kubernetes:core/v1:ResourceQuota",
        "tenant-data-eng-data-eng-quota",
        Break(
            set={
                "spec.hard": {
                    "requests.cpu": "192",
                    "requests.memory": "768Gi",
                    "limits.memory": "768Gi",
                    "requests.nvidia.com/gpu": "8",
                }
            }
        ),
    ),
    Mutation(
        "p3-gpu-quota-within-pool-limits",
        CLUSTER_QUEUE,
        "tenant-inference-cluster-queue",
        Break(set={"spec.resourceGroups.1.flavors.0.resources.0.nominalQuota": "40"}),
    ),
]

# Agents (R31, P4): the prod plan's support agent StatefulSet.
AGENT_STATEFULSET = "kubernetes:apps/v1:StatefulSet"
MUTATIONS += [
    Mutation(
        "r31-workload-availability",
        AGENT_STATEFULSET,
        "agent-support-statefulset",
        Break(delete="spec.template.spec.topologySpreadConstraints"),
    ),
    Mutation(
        "p4-agent-memory-retained",
        AGENT_STATEFULSET,
        "agent-support-statefulset",
        Break(set={"spec.persistentVolumeClaimRetentionPolicy.whenScaled": "Delete"}),
    ),
]
