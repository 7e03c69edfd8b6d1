"""Karpenter: the controller (Helm, on the system node group), its Pod Identity role, the node
IAM role with its EC2_LINUX access entry, the interruption queue, and the discovery tag on the
EKS cluster security group.

Controller: `replicas` pods (default 2) that tolerate `CriticalAddonsOnly` and select
`substrate.io/pool: system` (the chart also keeps them off Karpenter-launched nodes and spreads
them over zones and hosts), a PodDisruptionBudget of maxUnavailable 1, equal CPU/memory
requests and limits, `settings.clusterName` and `settings.interruptionQueue`. Its IAM policy is
the upstream reference's (see substrate/components/capacity/karpenter_iam.py) plus use of the EBS
volume key.
"""

from collections.abc import Mapping
from enum import StrEnum
from typing import NotRequired, Required

import pulumi
import pulumi_aws as aws

from substrate.components.capacity.interruption_queue import InterruptionQueue
from substrate.components.capacity.karpenter_iam import ControllerScope, controller_policy
from substrate.components.cluster.node_role import node_role as make_node_role
from substrate.components.core import validators
from substrate.components.core._args import check_args
from substrate.components.core.addon import Addon, AddonArgs, AddonSpec
from substrate.components.core.aws_context import aws_context
from substrate.components.core.labels import CRITICAL_ADDONS_TOLERATION, SYSTEM_NODE_SELECTOR

NAMESPACE = "karpenter"
SERVICE_ACCOUNT = "karpenter"


class LogLevel(StrEnum):
    """Karpenter controller log level."""

    DEBUG = "debug"
    INFO = "info"
    ERROR = "error"


class KarpenterArgs(AddonArgs, total=False):
    cluster_security_group_id: Required[pulumi.Input[str]]
    """EKS-created cluster security group; tagged `karpenter.sh/discovery: <cluster>` so node
    classes select it (the private subnets carry the same tag)."""
    volume_kms_key_arn: Required[pulumi.Input[str]]
    """Customer managed key of node volumes; the controller may use it only through EC2."""
    queue_name: Required[str]
    """Name of the interruption queue (settings.interruptionQueue)."""
    replicas: NotRequired[int]
    """Controller replicas, 2-5 (default 2)."""
    log_level: NotRequired[LogLevel]
    """Controller log level (default info)."""
    controller_cpu: NotRequired[str]
    """Controller CPU request and limit (default "1")."""
    controller_memory: NotRequired[str]
    """Controller memory request and limit (default "1Gi")."""
    zonal_shift: NotRequired[bool]
    """settings.enableZonalShift (default false)."""
    feature_gates: NotRequired[Mapping[str, bool]]
    """settings.featureGates entries to set (chart keys, e.g. `nodeOverlay`); the chart's
    defaults apply to the others (NodeOverlay is alpha and off by default)."""


def helm_values(args: KarpenterArgs) -> dict[str, object]:
    resources = {
        "cpu": args.get("controller_cpu", "1"),
        "memory": args.get("controller_memory", "1Gi"),
    }
    return {
        "replicas": args.get("replicas", 2),
        "logLevel": args.get("log_level", "info"),
        "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT},
        "nodeSelector": {"kubernetes.io/os": "linux", **SYSTEM_NODE_SELECTOR},
        "tolerations": [dict(CRITICAL_ADDONS_TOLERATION)],
        "podDisruptionBudget": {"name": "karpenter", "maxUnavailable": 1},
        "controller": {"resources": {"requests": resources, "limits": dict(resources)}},
        "settings": {
            "clusterName": args["cluster_name"],
            "interruptionQueue": args["queue_name"],
            "enableZonalShift": args.get("zonal_shift", False),
            **({"featureGates": dict(gates)} if (gates := args.get("feature_gates")) else {}),
        },
    }


def _validate(args: KarpenterArgs) -> None:
    replicas = args.get("replicas", 2)
    if not 2 <= replicas <= 5:
        raise ValueError(f"KarpenterArgs.replicas: {replicas} must be 2..5 (a PDB keeps one up)")
    for key in ("controller_cpu", "controller_memory"):
        value = args.get(key, "1")
        problem = validators.quantity(str(value))
        if problem:
            raise ValueError(f"KarpenterArgs.{key}: {value!r} {problem}")


class Karpenter(Addon):
    node_role_name: pulumi.Output[str]
    node_role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: KarpenterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__("substrate:capacity:Karpenter", name, None, opts)
        _validate(args)
        tags = dict(args.get("tags", {}))
        child = pulumi.ResourceOptions(parent=self)
        ctx = aws_context(self)

        nodes = make_node_role(self, name, ctx, "Nodes launched by Karpenter", tags)
        node_role, attachments = nodes.role, nodes.attachments
        access = aws.eks.AccessEntry(
            f"{name}-node-access",
            cluster_name=args["cluster_name"],
            principal_arn=node_role.arn,
            type="EC2_LINUX",
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=attachments),
        )
        discovery = aws.ec2.Tag(
            f"{name}-cluster-sg-discovery",
            resource_id=args["cluster_security_group_id"],
            key=validators.KARPENTER_DISCOVERY_TAG,
            value=args["cluster_name"],
            opts=child,
        )
        self.interruption_queue: InterruptionQueue = InterruptionQueue(
            f"{name}-interruption",
            {"queue_name": args["queue_name"], "tags": tags},
            opts=child,
        )
        policy = pulumi.Output.all(
            ctx.partition,
            ctx.region,
            ctx.account_id,
            args["cluster_name"],
            node_role.arn,
            self.interruption_queue.queue_arn,
            args["volume_kms_key_arn"],
        ).apply(lambda v: controller_policy(ControllerScope(*v)))
        self._install(
            name,
            args,
            AddonSpec(
                chart="karpenter",
                namespace=NAMESPACE,
                values=helm_values(args),
                service_account=SERVICE_ACCOUNT,
                policy_json=policy,
                depends_on=[access, discovery, self.interruption_queue],
            ),
        )
        self.node_role_name = node_role.name
        self.node_role_arn = node_role.arn
        self._finish(
            {
                "nodeRoleName": node_role.name,
                "nodeRoleArn": node_role.arn,
                "interruptionQueue": self.interruption_queue.queue_name,
            }
        )
