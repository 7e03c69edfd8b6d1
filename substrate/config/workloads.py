"""``substrate:workloads``: optional workload operators beyond the Kueue integrations' own.

``spark``: the Kubeflow Spark Operator. Tenants listed under it get a `spark` service account in
each of their namespaces with an S3 role (EKS Pod Identity) scoped to their grants, and may
create SparkApplications, which Kueue queues as one workload (driver + executors) on the
tenant's ClusterQueue. Executors run on the NVMe pool (Spark's local dirs on the instance-store
RAID0). Cross-section rules (tenants exist, the pool has local NVMe) live in
``substrate.config.spark_checks``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

__all__ = [
    "SPARK_INTEGRATION",
    "SparkConfig",
    "SparkHistoryConfig",
    "SparkTenantConfig",
    "WorkloadsConfig",
]

from substrate.components.core import validators
from substrate.components.workloads.kueue_integrations import SPARK_INTEGRATION
from substrate.config.checks import between, non_empty, rule
from substrate.config.schema import Invalid, doc

Name = Annotated[str, rule(validators.dns_label, 63)]


def _bucket(value: str) -> None:
    # S3 general purpose bucket naming rules (docs.aws.amazon.com/AmazonS3/latest/userguide/
    # bucketnamingrules.html): 3-63 of [a-z0-9.-], begins and ends with a letter or digit.
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", value) or ".." in value:
        raise Invalid("is not an S3 bucket name", '"acme-features-prod"')


def _prefix(value: str) -> None:
    if value and (value.startswith("/") or not value.endswith("/") or "*" in value):
        raise Invalid("is not a key prefix", '"" (whole bucket) or "features/" (ends with /)')


@dataclass(frozen=True)
class S3GrantConfig:
    """One S3 location a tenant's Spark jobs may use."""

    bucket: Annotated[str, _bucket] = doc("Bucket name.")
    prefix: Annotated[str, _prefix] = doc(
        'Key prefix ending in "/" ("": the whole bucket).', default=""
    )
    access: Literal["read", "read-write"] = doc(
        "`read`: list and get; `read-write`: also put and delete.", default="read"
    )


@dataclass(frozen=True)
class SparkTenantConfig:
    """A tenant that runs Spark."""

    s3: Annotated[list[S3GrantConfig], non_empty("S3 grant")] = doc(
        "S3 locations its `spark` service account may use; the first `read-write` grant also "
        "holds the Spark event logs (`spark-events/` under its prefix)."
    )


@dataclass(frozen=True)
class SparkHistoryConfig:
    """One Spark history server per Spark tenant, on the system nodes, reading that tenant's
    event logs (`spark-events/` under its first `read-write` grant) from S3 with its own
    read-only Pod Identity role."""

    image: Annotated[str, rule(validators.image_reference)] = doc(
        "Spark image at the pinned Spark version (tag or digest of Spark 4.0.1) with `hadoop-aws` "
        "3.4.1 and the AWS SDK v2 bundle on the classpath (Spark's own `spark:4.0.1` image has "
        "neither: its distribution is built without the `hadoop-cloud` profile), e.g. the image "
        "the applications run; from a registry in `substrate:admission.allowedRegistries`."
    )
    replicas: Annotated[int, between(1, 5)] = doc(
        "Replicas of each tenant's server (stateless: each reads S3).", default=1
    )


@dataclass(frozen=True)
class SparkConfig:
    """The Kubeflow Spark Operator on the system nodes; SparkApplications are queued by Kueue's
    `sparkoperator.k8s.io/sparkapplication` integration (enabled with this section)."""

    tenants: Annotated[dict[str, SparkTenantConfig], non_empty("tenant")] = doc(
        "Tenants that run Spark, by tenant name (keys of `substrate:tenants`)."
    )
    namespace: Name = doc("Namespace of the operator release.", default="spark-operator")
    controller_replicas: Annotated[int, between(1, 5)] = doc(
        "Operator controller replicas (leader-elected).", default=1
    )
    webhook_replicas: Annotated[int, between(1, 5)] = doc(
        "Replicas of the operator's admission webhook (mutates Spark pods).", default=1
    )
    node_pool: Name = doc(
        "Karpenter NodePool the executors run on: every instance family must have local NVMe "
        "(the node class keeps ephemeral storage, hence Spark's local dirs, on the RAID0).",
        default="nvme",
    )
    history_server: SparkHistoryConfig | None = doc(
        "A Spark history server per Spark tenant (absent: none; the event logs stay in S3).",
        default=None,
    )


@dataclass(frozen=True)
class WorkloadsConfig:
    """Optional workload operators."""

    spark: SparkConfig | None = doc(
        "The Kubeflow Spark Operator (absent: no Spark; SparkApplications are not accepted).",
        default=None,
    )


SparkAccess = Literal["read", "read-write"]
