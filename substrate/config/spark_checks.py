"""Rules spanning `substrate:workloads.spark`, `substrate:tenants`, `substrate:kueue` and the
node pools. Called from PlatformConfig.check.

- Spark needs Kueue (SparkApplications are queued by its SparkApplication integration) and runs
  only for declared tenants.
- Executors shuffle and spill to Spark's local dirs, which must be on instance-store NVMe: the
  configured pool must exist and launch only families with local NVMe.
- The SparkApplication integration is enabled by the Spark section, never by itself.
- With a history server, every Spark tenant has a `read-write` grant (its applications write
  their event logs under it, the history server reads them there), and the server's image is
  Spark at the pinned version from an allowed registry.
- A Spark tenant's pods reach S3 and get their Pod Identity credentials: its
  `network.s3` and `network.podIdentityAgent` are on (tenant NetworkPolicies deny both by
  default, and the driver and executors read and write S3 as the tenant's `spark` role).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from substrate.components.capacity.instance_families import FAMILIES
from substrate.components.core import validators
from substrate.components.workloads.spark_operator import SPARK_VERSION
from substrate.config.schema import ConfigError, key_path
from substrate.config.workloads import SPARK_INTEGRATION

if TYPE_CHECKING:
    from substrate.config.platform import PlatformConfig

SPARK = "substrate:workloads.spark"


def check_spark(cfg: PlatformConfig) -> None:
    spark = cfg.workloads.spark
    if spark is None:
        if cfg.kueue is not None and SPARK_INTEGRATION in cfg.kueue.integrations:
            raise ConfigError(
                "substrate:kueue.integrations",
                SPARK_INTEGRATION,
                "needs the Spark Operator, which substrate:workloads.spark installs",
                f"a {SPARK} section (it enables this integration itself)",
            )
        return
    if cfg.kueue is None:
        raise ConfigError(
            SPARK,
            "{...}",
            "needs substrate:kueue (Spark jobs are queued)",
            "a substrate:kueue section",
        )
    for name in spark.tenants:
        if name not in cfg.tenants:
            raise ConfigError(
                key_path(f"{SPARK}.tenants", name),
                name,
                "is not a tenant in substrate:tenants",
                ", ".join(sorted(cfg.tenants)) or "no tenants are configured",
            )
    for name in spark.tenants:
        network = cfg.tenants[name].network
        for key, on in (("s3", network.s3), ("podIdentityAgent", network.pod_identity_agent)):
            if not on:
                raise ConfigError(
                    f"substrate:tenants.{name}.network.{key}",
                    on,
                    f"is off, but {name} runs Spark, whose driver and executors read and write "
                    "S3 with Pod Identity credentials",
                    f"true, or {name} out of {SPARK}.tenants",
                )
    _check_history(cfg)
    pool = cfg.node_pools.get(spark.node_pool)
    where = f"{SPARK}.nodePool"
    if pool is None:
        raise ConfigError(
            where,
            spark.node_pool,
            "is not a pool in substrate:nodePools (executors need the NVMe pool)",
            ", ".join(sorted(cfg.node_pools)) or "no pools are configured",
        )
    plain = [f for f in pool.instance_families if f in FAMILIES and not FAMILIES[f].local_nvme]
    if plain:
        raise ConfigError(
            where,
            spark.node_pool,
            f"launches {', '.join(plain)}, which have no local NVMe for Spark's shuffle and spill",
            "a pool whose every instance family has instance-store NVMe",
        )


def _spark_tag(image: str) -> str:
    """The tag of ``image`` ("" when it has only a digest)."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else ""


def _check_history(cfg: PlatformConfig) -> None:
    spark = cfg.workloads.spark
    assert spark is not None
    history = spark.history_server
    if history is None:
        return
    key = f"{SPARK}.historyServer.image"
    tag = _spark_tag(history.image)
    if tag != SPARK_VERSION and not tag.startswith(f"{SPARK_VERSION}-"):
        raise ConfigError(
            key,
            history.image,
            f"is not tagged with the pinned Spark version {SPARK_VERSION} (the history server "
            "must read the event logs the applications' Spark writes)",
            f'an image tagged "{SPARK_VERSION}" (or "{SPARK_VERSION}-<suffix>")',
        )
    registries = cfg.admission.allowed_registries
    if not validators.image_allowed(history.image, registries):
        raise ConfigError(
            key,
            history.image,
            "is not from a registry admission allows (R28)",
            "images under " + ", ".join(registries),
        )
    for name, tenant in spark.tenants.items():
        if not any(g.access == "read-write" for g in tenant.s3):
            raise ConfigError(
                key_path(f"{SPARK}.tenants", name) + ".s3",
                "read grants only",
                "has no read-write grant, where the event logs the history server reads are "
                "written (spark-events/ under the first read-write grant)",
                "a read-write grant, or no historyServer",
            )
