"""A Spark history server per Spark tenant: what it reads, how it runs, who may reach it.

Spark's history server (`org.apache.spark.deploy.history.HistoryServer`, started by
`bin/spark-class`, which passes `SPARK_HISTORY_OPTS` and `SPARK_DAEMON_MEMORY` to the JVM:
launcher's SparkClassCommandBuilder) reads ONE directory, `spark.history.fs.logDirectory`
(Spark monitoring guide), so each Spark tenant gets its own server over its own event-log
prefix: `spark-events/` under the tenant's first read-write grant, where the documented
application writes (`spark.eventLog.dir`). Tenants never see each other's applications.

- It runs the stack's Spark image (`substrate:workloads.spark.historyServer.image`): Spark's own
  image cannot read s3a:// (Spark's release build, dev/create-release/release-build.sh, packages
  the binary distribution without the `hadoop-cloud` profile, so no hadoop-aws); the image's
  entrypoint passes any command other than driver/executor through (apache/spark-docker
  4.0.1 entrypoint.sh) and runs as uid 185 (`spark`).
- S3A reads the Pod Identity credentials (`IAMInstanceCredentialsProvider`, as the applications
  do; docs/workloads.md "S3 credentials") of a role that may only get and list the tenant's
  event-log prefix (:func:`event_log_statements`). The cleaner (`spark.history.fs.cleaner.*`)
  stays off: it would need delete rights; the bucket's lifecycle rules expire old logs.
- On the system nodes, restricted Pod Security, read-only root filesystem (`/tmp` is an
  emptyDir: Jetty's and S3A's scratch space).
- Its NetworkPolicy admits no ingress (operators open the UI with `kubectl port-forward`) and
  lets it reach only DNS, the Pod Identity agent and the Region's S3 prefix list on 443.
"""

from collections.abc import Mapping, Sequence
from typing import Any, Required, TypedDict

import pulumi

from substrate.components.core import iam
from substrate.components.core.labels import CRITICAL_ADDONS_TOLERATION, SYSTEM_NODE_SELECTOR
from substrate.components.workloads.tenant_manifests import (
    KUBE_DNS,
    NAMESPACE_NAME_LABEL,
    POD_IDENTITY_AGENT,
)

HISTORY_PORT = 18080
"""`spark.history.ui.port`'s default."""
EVENTS = "spark-events/"
"""Where under a tenant's first read-write grant the event logs live."""
SPARK_UID = 185
"""The `spark` user of Spark's images."""
MAIN_CLASS = "org.apache.spark.deploy.history.HistoryServer"
CREDENTIALS_PROVIDER = "org.apache.hadoop.fs.s3a.auth.IAMInstanceCredentialsProvider"
MEMORY = "1536Mi"
"""Container memory: the JVM's 1 GiB heap (`SPARK_DAEMON_MEMORY`) plus its overhead."""
COMPONENT = "spark-history-server"


class SparkHistoryServerArgs(TypedDict, total=False):
    """The history servers of :class:`SparkOperator` (one per Spark tenant)."""

    image: Required[str]
    """Spark image at the pinned Spark version with hadoop-aws and the AWS SDK v2 bundle."""
    region: Required[str]
    """AWS Region of the buckets (`fs.s3a.endpoint.region`)."""
    replicas: Required[int]
    """Replicas of each server."""
    s3_cidrs: Required[pulumi.Input[Sequence[str]]]
    """The Region's S3 prefix list entries (the server's only egress besides DNS and the Pod
    Identity agent)."""


def server_name(tenant: str) -> str:
    """Deployment, Service, ServiceAccount and NetworkPolicy name of ``tenant``'s server."""
    return f"spark-history-{tenant}"


def labels(tenant: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": COMPONENT, "app.kubernetes.io/instance": server_name(tenant)}


def event_log_uri(bucket: str, prefix: str) -> str:
    """The s3a:// directory a tenant's applications log to and its history server reads."""
    return f"s3a://{bucket}/{prefix}{EVENTS}"


def event_log_statements(partition: str, bucket: str, prefix: str) -> list[iam.Statement]:
    """Get the event logs and list their directory; nothing else (no put, no delete, no other
    prefix). S3A also probes the directory's own key (`spark-events`, without the slash)."""
    arn = f"arn:{partition}:s3:::{bucket}"
    events = f"{prefix}{EVENTS}"
    return [
        iam.allow(["s3:GetObject"], [f"{arn}/{events[:-1]}", f"{arn}/{events}*"], "EventLogs"),
        iam.allow(
            ["s3:ListBucket"],
            arn,
            "ListEventLogs",
            {"StringLike": {"s3:prefix": [events[:-1], f"{events}*"]}},
        ),
    ]


def history_opts(log_dir: str, region: str) -> str:
    """`SPARK_HISTORY_OPTS`: the directory, the port and S3A's credentials and Region."""
    conf = {
        "spark.history.fs.logDirectory": log_dir,
        "spark.history.ui.port": str(HISTORY_PORT),
        "spark.history.fs.cleaner.enabled": "false",
        "spark.hadoop.fs.s3a.aws.credentials.provider": CREDENTIALS_PROVIDER,
        "spark.hadoop.fs.s3a.endpoint.region": region,
    }
    return " ".join(f"-D{k}={v}" for k, v in conf.items())


def deployment_spec(
    tenant: str, image: str, log_dir: str, region: str, replicas: int
) -> dict[str, Any]:
    """Stateless replicas (each reads S3 itself), spread over zones, probed (R31)."""
    selector = labels(tenant)
    container = {
        "name": "history-server",
        "image": image,
        "args": ["/opt/spark/bin/spark-class", MAIN_CLASS],
        "env": [
            {"name": "SPARK_HISTORY_OPTS", "value": history_opts(log_dir, region)},
            {"name": "SPARK_DAEMON_MEMORY", "value": "1g"},
        ],
        "ports": [{"name": "http", "containerPort": HISTORY_PORT, "protocol": "TCP"}],
        "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 10},
        "livenessProbe": {
            "httpGet": {"path": "/", "port": "http"},
            "initialDelaySeconds": 60,
            "periodSeconds": 30,
        },
        "resources": {
            "requests": {"cpu": "250m", "memory": MEMORY},
            "limits": {"memory": MEMORY},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    return {
        "replicas": replicas,
        "selector": {"matchLabels": selector},
        "template": {
            "metadata": {"labels": selector},
            "spec": {
                "serviceAccountName": server_name(tenant),
                "automountServiceAccountToken": False,
                "nodeSelector": {"kubernetes.io/os": "linux", **SYSTEM_NODE_SELECTOR},
                "tolerations": [dict(CRITICAL_ADDONS_TOLERATION)],
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": SPARK_UID,
                    "runAsGroup": SPARK_UID,
                    "fsGroup": SPARK_UID,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "topologySpreadConstraints": [
                    {
                        "maxSkew": 1,
                        "topologyKey": "topology.kubernetes.io/zone",
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": selector},
                    }
                ],
                "containers": [container],
                "volumes": [{"name": "tmp", "emptyDir": {}}],
            },
        },
    }


def pdb_spec(tenant: str) -> dict[str, Any]:
    """One pod may always be evicted (drains never block)."""
    return {"maxUnavailable": 1, "selector": {"matchLabels": labels(tenant)}}


def service_spec(tenant: str) -> dict[str, Any]:
    return {
        "type": "ClusterIP",
        "selector": labels(tenant),
        "ports": [{"name": "http", "port": HISTORY_PORT, "targetPort": "http", "protocol": "TCP"}],
    }


def _s3_peers(cidrs: Any) -> Any:
    def build(values: Sequence[str]) -> list[dict[str, Any]]:
        if not values:
            raise ValueError("spark history server: no S3 CIDRs (an empty peer list is everyone)")
        return [{"ipBlock": {"cidr": str(c)}} for c in values]

    apply = getattr(cidrs, "apply", None)
    return apply(build) if apply is not None else build(list(cidrs))


def network_policy_spec(tenant: str, s3_cidrs: Any) -> Mapping[str, Any]:
    """No ingress; egress to DNS, the Pod Identity agent and S3 (HTTPS) only."""
    dns = {
        "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: "kube-system"}},
        "podSelector": {"matchLabels": dict(KUBE_DNS)},
    }
    return {
        "podSelector": {"matchLabels": labels(tenant)},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [],
        "egress": [
            {
                "to": [dns],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
            },
            {
                "to": [{"ipBlock": {"cidr": POD_IDENTITY_AGENT}}],
                "ports": [{"protocol": "TCP", "port": 80}],
            },
            {"to": _s3_peers(s3_cidrs), "ports": [{"protocol": "TCP", "port": 443}]},
        ],
    }
