"""The Kubeflow Spark Operator (chart spark-operator 2.5.1, github.com/kubeflow/spark-operator
`charts/spark-operator-chart/values.yaml` at tag v2.5.1), in the add-on shape.

- Controller and webhook on the system nodes (`controller.nodeSelector/tolerations`,
  `webhook.nodeSelector/tolerations`); their security contexts are already
  restricted-compliant (non-root, no privilege escalation, all capabilities dropped,
  RuntimeDefault seccomp).
- `spark.jobNamespaces`: only the namespaces of tenants that run Spark. The chart passes them
  to the controller and webhook (`--namespaces`) and scopes every webhook to them
  (`namespaceSelector` on `kubernetes.io/metadata.name`), and creates the `spark` service
  account with the driver's Role (pods, services, configmaps, PVCs) in each.
- Each of those `spark` service accounts gets an IAM role through EKS Pod Identity whose policy
  allows only the tenant's S3 grants (:func:`s3_statements`); with Spark 4.0 (Hadoop 3.4.1,
  AWS SDK v2 2.24.6) S3A's `IAMInstanceCredentialsProvider` reads the Pod Identity credentials
  through the SDK's container credentials provider, so no static keys exist (sources:
  docs/workloads.md, "S3 credentials").
- `prometheus.metrics.enable`: the controller serves metrics on port 8080 (`metrics`).
- `controller.batchScheduler.enable: false`: Kueue, not a batch scheduler, queues the jobs.
- The chart ships no history server (values and templates at v2.5.1); with `history_server`,
  each Spark tenant gets one here (substrate.components.workloads.spark_history), with its own
  read-only Pod Identity role on the tenant's event-log prefix.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NotRequired, Required, cast

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from substrate.components.core import iam
from substrate.components.core._args import check_args
from substrate.components.core.addon import Addon, AddonArgs, AddonSpec
from substrate.components.core.aws_context import aws_context
from substrate.components.core.labels import CRITICAL_ADDONS_TOLERATION, SYSTEM_NODE_SELECTOR
from substrate.components.core.tokens import component_args
from substrate.components.identity.pod_identity import PodIdentityRole
from substrate.components.workloads import spark_history as history
from substrate.components.workloads.kueue_integrations import SPARK

SPARK_VERSION = "4.0.1"
"""The Spark version the platform documents and runs (the operator 2.5.1's own base image and
examples; Hadoop 3.4.1's S3A reads Pod Identity credentials, docs/workloads.md)."""
SERVICE_ACCOUNT = "spark"
"""The service account the chart creates in every job namespace (`spark.serviceAccount.name`)."""
NODE_SELECTOR = {"kubernetes.io/os": "linux", **SYSTEM_NODE_SELECTOR}
RESOURCES = {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "256Mi"}}
"""Controller and webhook containers (the chart sets none)."""
READ = ("s3:GetObject",)
WRITE = ("s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")


class S3Access(StrEnum):
    """What a Spark tenant may do under an S3 prefix."""

    READ = "read"
    """Get and list under the prefix."""
    READ_WRITE = "read-write"
    """Also put, delete and multipart uploads there."""


@dataclass(frozen=True)
class S3Grant:
    """One S3 location a tenant's Spark jobs may use."""

    bucket: str
    """Bucket name (not an ARN), in the stack's partition."""
    prefix: str
    """Key prefix ending in "/", or "" for the whole bucket."""
    access: S3Access
    """"read": get and list under the prefix; "read-write" adds put, delete and multipart
    uploads there."""


@dataclass(frozen=True)
class SparkTenant:
    """A tenant whose namespaces run SparkApplications."""

    name: str
    """Tenant name (its ClusterQueue)."""
    namespaces: Sequence[str]
    """The tenant's namespaces that get the `spark` service account and the operator's
    webhook and controller."""
    grants: Sequence[S3Grant]
    """The S3 locations the `spark` service account's Pod Identity role may use (at least one)."""

    @property
    def event_logs(self) -> S3Grant | None:
        """Where its applications log events: `spark-events/` under its first read-write
        grant (None: it has none)."""
        for g in self.grants:
            if g.access == "read-write":
                return S3Grant(g.bucket, g.prefix + history.EVENTS, S3Access.READ)
        return None


def s3_statements(partition: str, grants: Sequence[S3Grant]) -> list[iam.Statement]:
    """Object actions on each grant's prefix, and listing the bucket under that prefix only."""
    out: list[iam.Statement] = []
    for i, g in enumerate(grants):
        bucket = f"arn:{partition}:s3:::{g.bucket}"
        actions = READ + (WRITE if g.access == "read-write" else ())
        out.append(iam.allow(actions, f"{bucket}/{g.prefix}*", f"Objects{i}"))
        listing = {"StringLike": {"s3:prefix": [f"{g.prefix}*"]}} if g.prefix else None
        out.append(iam.allow(["s3:ListBucket"], bucket, f"List{i}", listing))
        if g.access == "read-write":
            out.append(iam.allow(["s3:ListBucketMultipartUploads"], bucket, f"Uploads{i}"))
    return out


def chart_values(
    namespaces: Sequence[str], controller_replicas: int, webhook_replicas: int
) -> dict[str, Any]:
    placement = {
        "nodeSelector": NODE_SELECTOR,
        "tolerations": [dict(CRITICAL_ADDONS_TOLERATION)],
        "resources": RESOURCES,
    }
    return {
        "controller": {
            "replicas": controller_replicas,
            **placement,
            "batchScheduler": {"enable": False},
            "podDisruptionBudget": {"enable": controller_replicas > 1, "minAvailable": 1},
        },
        "webhook": {
            "replicas": webhook_replicas,
            **placement,
            "podDisruptionBudget": {"enable": webhook_replicas > 1, "minAvailable": 1},
        },
        "hook": {"upgradeCrd": False},
        "spark": {
            "jobNamespaces": sorted(namespaces),
            "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT},
            "rbac": {"create": True},
        },
        "prometheus": {"metrics": {"enable": True}, "podMonitor": {"create": False}},
    }


class SparkOperatorArgs(AddonArgs, total=False):
    """Arguments of :class:`SparkOperator`."""

    tenants: Required[Sequence[SparkTenant]]
    """Tenants that run Spark: their namespaces become the operator's job namespaces."""
    namespace: Required[str]
    """Namespace of the release."""
    controller_replicas: Required[int]
    """Operator controller replicas (leader-elected)."""
    webhook_replicas: Required[int]
    """Webhook replicas."""
    history_server: NotRequired[history.SparkHistoryServerArgs]
    """A Spark history server per tenant (absent: none)."""


class SparkOperator(Addon):
    """The Spark Operator, watching only the Spark tenants' namespaces, each with an S3 role."""

    spark_role_arns: dict[str, pulumi.Output[str]]
    """Namespace -> the ARN of the Pod Identity role of its `spark` service account."""
    history_role_arns: dict[str, pulumi.Output[str]]
    """Tenant -> the ARN of its history server's read-only event-log role (empty without
    `history_server`)."""

    def __init__(
        self, name: str, args: SparkOperatorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        tenants = list(args["tenants"])
        if not tenants or any(not t.grants for t in tenants):
            raise ValueError("SparkOperatorArgs.tenants: every Spark tenant needs an S3 grant")
        super().__init__(*component_args("substrate:workloads:SparkOperator", name, opts))
        namespaces = [ns for t in tenants for ns in t.namespaces]
        self._install(
            name,
            args,
            AddonSpec(
                chart=SPARK.chart,
                namespace=args["namespace"],
                values=chart_values(
                    namespaces, args["controller_replicas"], args["webhook_replicas"]
                ),
            ),
        )
        # Not a class annotation: the package schema cannot reference this package's own
        # components as outputs (`spark_role_arns` carries their ARNs).
        self.roles: dict[str, PodIdentityRole] = {}
        self.history_roles: dict[str, PodIdentityRole] = {}
        partition = aws_context(self).partition
        for tenant in tenants:
            policy = partition.apply(lambda p, t=tenant: iam.to_json(s3_statements(p, t.grants)))
            for ns in tenant.namespaces:
                self.roles[ns] = PodIdentityRole(
                    f"{name}-{ns}-s3",
                    {
                        "cluster_name": args["cluster_name"],
                        "namespace": ns,
                        "service_account": SERVICE_ACCOUNT,
                        "policy_json": policy,
                        "tags": dict(args.get("tags", {})),
                    },
                    opts=pulumi.ResourceOptions(parent=self),
                )
        self.spark_role_arns = {ns: r.role_arn for ns, r in self.roles.items()}
        self.job_namespaces = tuple(sorted(namespaces))
        self.history_roles = {}
        servers = args.get("history_server")
        if servers is not None:
            for tenant in tenants:
                self._history(name, args, servers, tenant, partition)
        self.history_role_arns = {t: r.role_arn for t, r in self.history_roles.items()}
        self._finish(
            {
                "jobNamespaces": sorted(namespaces),
                "sparkRoleArns": self.spark_role_arns,
                "historyRoleArns": self.history_role_arns,
            }
        )

    def _history(
        self,
        name: str,
        args: SparkOperatorArgs,
        servers: history.SparkHistoryServerArgs,
        tenant: SparkTenant,
        partition: pulumi.Output[str],
    ) -> None:
        """ServiceAccount, read-only event-log role, Deployment, Service and NetworkPolicy of
        ``tenant``'s history server."""
        logs = tenant.event_logs
        if logs is None:
            raise ValueError(
                f"SparkOperatorArgs.history_server: tenant {tenant.name!r} has no read-write "
                "grant to hold its event logs"
            )
        ns, server = args["namespace"], history.server_name(tenant.name)
        base = logs.prefix[: -len(history.EVENTS)]
        # After the release, which waits for the namespace.
        child = pulumi.ResourceOptions(parent=self, depends_on=[self.release])
        meta = ObjectMetaArgs(name=server, namespace=ns, labels=history.labels(tenant.name))
        account = k8s.core.v1.ServiceAccount(
            f"{name}-{server}", metadata=meta, automount_service_account_token=False, opts=child
        )
        policy = partition.apply(
            lambda p: iam.to_json(history.event_log_statements(p, logs.bucket, base))
        )
        self.history_roles[tenant.name] = PodIdentityRole(
            f"{name}-{server}-s3",
            {
                "cluster_name": args["cluster_name"],
                "namespace": ns,
                "service_account": server,
                "policy_json": policy,
                "tags": dict(args.get("tags", {})),
            },
            opts=child,
        )
        spec = history.deployment_spec(
            tenant.name,
            servers["image"],
            history.event_log_uri(logs.bucket, base),
            servers["region"],
            servers["replicas"],
        )
        pdb = k8s.policy.v1.PodDisruptionBudget(
            f"{name}-{server}-pdb",
            metadata=meta,
            spec=cast(Any, history.pdb_spec(tenant.name)),
            opts=child,
        )
        k8s.apps.v1.Deployment(
            f"{name}-{server}-deployment",
            metadata=meta,
            spec=cast(Any, spec),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release, account, pdb]),
        )
        k8s.core.v1.Service(
            f"{name}-{server}-service",
            metadata=meta,
            spec=cast(Any, history.service_spec(tenant.name)),
            opts=child,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-{server}-network",
            metadata=meta,
            spec=cast(Any, history.network_policy_spec(tenant.name, servers["s3_cidrs"])),
            opts=child,
        )
