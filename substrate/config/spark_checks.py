"""Rules spanning `substrate:workloads.spark`, `substrate:tenants`, `substrate:kueue` and the
node pools. Called from PlatformConfig.check.

- Spark needs Kueue (SparkApplications are queued by its SparkApplication integration) and runs
  only for declared tenants.
- Executors shuffle and spill to Spark's local dirs, which must be on instance-store NVMe: the
  configured pool must exist and launch only families with local NVMe.
- The SparkApplication integration is enabled by the Spark section, never by itself.
- A Spark tenant's pods reach S3 and get their Pod Identity credentials: its
  `network.s3` and `network.podIdentityAgent` are on (tenant NetworkPolicies deny both by
  default, and the driver and executors read and write S3 as the tenant's `spark` role).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from substrate.components.capacity.instance_families import FAMILIES
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
