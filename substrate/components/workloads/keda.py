"""KEDA: event-driven autoscaling for inference services and agents.

Chart keys (keda chart 2.20.2, ../shared/crds/keda/chart-values.yaml and kedacore/charts
v2.20.2 templates):

- top-level `nodeSelector` / `tolerations`: the operator, metrics API server and webhooks fall
  back to them (`.Values.operator.nodeSelector | default .Values.nodeSelector`), so one setting
  puts all of KEDA on the system nodes.
- `operator.replicaCount`, `metricsServer.replicaCount`, `webhooks.replicaCount`;
  `podDisruptionBudget.{operator,metricServer,webhooks}` with `minAvailable: 1` when replicated.
- `prometheus.operator.enabled: true`: the operator serves metrics on container port `metrics`
  (8080), which the observability layer's PodMonitor scrapes
  (substrate.components.observability.scrape_targets.keda);
  the chart's own monitors stay off.
- `podIdentity.aws.irsa.enabled` stays false: KEDA authenticates to AWS through EKS Pod
  Identity. With `podIdentity.provider: aws` and no `roleArn`, KEDA v2.20.2 loads the AWS SDK's
  default credential chain (pkg/scalers/aws/aws_config_cache.go), which picks up the Pod Identity
  agent's credentials for the `keda-operator` service account; with a `roleArn` it calls
  `sts:AssumeRole` with those credentials (no web-identity token exists under Pod Identity).

EKS Pod Identity injects credentials when a pod is created: operator pods started before KEDA's
role existed never get them. So the operator's pod template carries
`substrate.io/aws-credentials: pod-identity` exactly while KEDA has a role: the update that
first gives KEDA a role (or removes it) also rolls the operator, whose new pods the Pod Identity
webhook fills in; the release waits for the role and its association
(substrate.components.core.addon).

IAM: only what the configured scalers need: `sqs:GetQueueAttributes` on the listed queues
(aws-sqs-queue scaler), `cloudwatch:GetMetricData` (aws-cloudwatch scaler; CloudWatch has no
resource-level permissions for it), `sts:AssumeRole` on the listed workload roles. Nothing
configured, no role.
"""

from collections.abc import Sequence
from typing import Any, NotRequired

import pulumi

from substrate.components.core import iam, validators
from substrate.components.core._args import check_args
from substrate.components.core.addon import Addon, AddonArgs, AddonSpec
from substrate.components.core.labels import CRITICAL_ADDONS_TOLERATION, SYSTEM_NODE_SELECTOR

SERVICE_ACCOUNT = "keda-operator"
RELEASE_NAME = "keda"
METRICS_PORT = 8080


class KedaArgs(AddonArgs, total=False):
    """Arguments of :class:`Keda`."""

    namespace: NotRequired[str]
    """Namespace of the release. Default `keda`."""
    operator_replicas: NotRequired[int]
    """Operator replicas (1-5). Default 1."""
    metrics_server_replicas: NotRequired[int]
    """Metrics API server replicas (1-5). Default 1."""
    webhook_replicas: NotRequired[int]
    """Admission webhook replicas (1-5). Default 1."""
    sqs_queue_arns: NotRequired[Sequence[str]]
    """SQS queues whose depth KEDA reads (sqs:GetQueueAttributes)."""
    cloudwatch_metrics: NotRequired[bool]
    """KEDA reads CloudWatch metrics (cloudwatch:GetMetricData). Default false."""
    assume_role_arns: NotRequired[Sequence[str]]
    """Workload roles KEDA may assume for TriggerAuthentications that name a roleArn."""


def _check(args: KedaArgs) -> None:
    for key in ("operator_replicas", "metrics_server_replicas", "webhook_replicas"):
        value = args.get(key, 1)
        if not 1 <= value <= 5:
            raise ValueError(f"KedaArgs.{key}: {value} is out of range (1 to 5)")
    namespace = args.get("namespace", "keda")
    if validators.dns_label(namespace):
        raise ValueError(f"KedaArgs.namespace: {namespace!r} is not a DNS label")
    for arn in args.get("sqs_queue_arns", []):
        if not arn.startswith("arn:aws") or ":sqs:" not in arn:
            raise ValueError(f"KedaArgs.sqs_queue_arns: {arn!r} is not an SQS queue ARN")
    for arn in args.get("assume_role_arns", []):
        if validators.iam_principal_arn(arn) or ":role/" not in arn:
            raise ValueError(f"KedaArgs.assume_role_arns: {arn!r} is not an IAM role ARN")


def policy_statements(args: KedaArgs) -> list[iam.Statement]:
    """The least-privilege statements the configured scalers need (empty: no role)."""
    statements: list[iam.Statement] = []
    queues = sorted(set(args.get("sqs_queue_arns", [])))
    if queues:
        statements.append(iam.allow(["sqs:GetQueueAttributes"], queues, sid="ReadQueueDepth"))
    if args.get("cloudwatch_metrics", False):
        statements.append(iam.allow(["cloudwatch:GetMetricData"], "*", sid="ReadMetrics"))
    roles = sorted(set(args.get("assume_role_arns", [])))
    if roles:
        statements.append(iam.allow(["sts:AssumeRole"], roles, sid="AssumeWorkloadRoles"))
    return statements


def _pdb(replicas: int) -> dict[str, Any]:
    return {"minAvailable": 1} if replicas > 1 else {}


CREDENTIALS_ANNOTATION = "substrate.io/aws-credentials"


def chart_values(args: KedaArgs) -> dict[str, Any]:
    operator = args.get("operator_replicas", 1)
    metrics = args.get("metrics_server_replicas", 1)
    webhooks = args.get("webhook_replicas", 1)
    return {
        "nodeSelector": dict(SYSTEM_NODE_SELECTOR),
        "tolerations": [dict(CRITICAL_ADDONS_TOLERATION)],
        "operator": {"replicaCount": operator},
        "metricsServer": {"replicaCount": metrics},
        "webhooks": {"replicaCount": webhooks},
        "podDisruptionBudget": {
            "operator": _pdb(operator),
            "metricServer": _pdb(metrics),
            "webhooks": _pdb(webhooks),
        },
        "prometheus": {"operator": {"enabled": True, "port": METRICS_PORT}},
        "podIdentity": {"aws": {"irsa": {"enabled": False}}},
        "podAnnotations": {
            "keda": {CREDENTIALS_ANNOTATION: "pod-identity"} if policy_statements(args) else {}
        },
    }


class Keda(Addon):
    """KEDA on the system nodes; a Pod Identity role only when AWS scalers are configured."""

    def __init__(
        self, name: str, args: KedaArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        _check(args)
        super().__init__("substrate:workloads:Keda", name, None, opts)
        statements = policy_statements(args)
        self._install(
            name,
            args,
            AddonSpec(
                chart="keda",
                namespace=args.get("namespace", "keda"),
                release_name=RELEASE_NAME,
                values=chart_values(args),
                service_account=SERVICE_ACCOUNT if statements else None,
                policy_json=iam.to_json(statements) if statements else None,
            ),
        )
        self._finish({"awsScalers": bool(statements)})
