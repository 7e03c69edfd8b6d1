"""`substrate:workloads.spark` stack errors: one exact line naming key, value and what is
allowed; `substrate plan` exits 2 with that line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from substrate.config import ConfigError
from tests.helpers import stack_yaml, typed_config

W = "substrate:workloads"
Mutation = Callable[[dict[str, Any]], object]

CASES: list[tuple[str, Mutation, str]] = [
    (
        "a Spark tenant without S3 grants",
        lambda c: c[W]["spark"]["tenants"]["data-eng"].__setitem__("s3", []),
        "substrate:workloads.spark.tenants.data-eng.s3 = []: is empty (allowed: at least one "
        "S3 grant)",
    ),
    (
        "no NVMe pool",
        lambda c: c["substrate:nodePools"].pop("nvme"),
        'substrate:workloads.spark.nodePool = "nvme": is not a pool in substrate:nodePools '
        "(executors need the NVMe pool) (allowed: general, inference, training)",
    ),
    (
        "executors on a pool without local NVMe",
        lambda c: c[W]["spark"].__setitem__("nodePool", "general"),
        'substrate:workloads.spark.nodePool = "general": launches m7i, m6i, c7i, r7i, which '
        "have no local NVMe for Spark's shuffle and spill (allowed: a pool whose every instance "
        "family has instance-store NVMe)",
    ),
    (
        "a Spark tenant that is not a tenant",
        lambda c: c[W]["spark"]["tenants"].__setitem__(
            "marketing", {"s3": [{"bucket": "substrate-prod-datalake"}]}
        ),
        'substrate:workloads.spark.tenants.marketing = "marketing": is not a tenant in '
        "substrate:tenants (allowed: agents, data-eng, inference, ml-research)",
    ),
    (
        "the Spark integration listed without the operator",
        lambda c: (
            c.pop(W),
            c["substrate:kueue"]["integrations"].append("sparkoperator.k8s.io/sparkapplication"),
        ),
        'substrate:kueue.integrations = "sparkoperator.k8s.io/sparkapplication": needs the Spark '
        "Operator, which substrate:workloads.spark installs (allowed: a substrate:workloads.spark "
        "section (it enables this integration itself))",
    ),
    (
        "a Spark tenant whose pods cannot reach S3",
        lambda c: c["substrate:tenants"]["data-eng"]["network"].__setitem__("s3", False),
        "substrate:tenants.data-eng.network.s3 = false: is off, but data-eng runs Spark, whose "
        "driver and executors read and write S3 with Pod Identity credentials (allowed: true, "
        "or data-eng out of substrate:workloads.spark.tenants)",
    ),
    (
        "a Spark tenant whose pods get no Pod Identity credentials",
        lambda c: c["substrate:tenants"]["data-eng"]["network"].pop("podIdentityAgent"),
        "substrate:tenants.data-eng.network.podIdentityAgent = false: is off, but data-eng runs "
        "Spark, whose driver and executors read and write S3 with Pod Identity credentials "
        "(allowed: true, or data-eng out of substrate:workloads.spark.tenants)",
    ),
    (
        "a bucket name S3 refuses",
        lambda c: c[W]["spark"]["tenants"]["data-eng"]["s3"][0].__setitem__("bucket", "Data_Lake"),
        'substrate:workloads.spark.tenants.data-eng.s3[0].bucket = "Data_Lake": is not an S3 '
        'bucket name (allowed: "acme-features-prod")',
    ),
    (
        "a history server image of another Spark version",
        lambda c: c[W]["spark"]["historyServer"].__setitem__(
            "image", "210987654321.dkr.ecr.us-east-1.amazonaws.com/data/spark:3.5.3"
        ),
        'substrate:workloads.spark.historyServer.image = "210987654321.dkr.ecr.us-east-1.'
        'amazonaws.com/data/spark:3.5.3": is not tagged with the pinned Spark version 4.0.1 '
        "(the history server must read the event logs the applications' Spark writes) "
        '(allowed: an image tagged "4.0.1" (or "4.0.1-<suffix>"))',
    ),
    (
        "a history server image from a registry admission refuses",
        lambda c: c[W]["spark"]["historyServer"].__setitem__(
            "image", "docker.io/apache/spark:4.0.1"
        ),
        'substrate:workloads.spark.historyServer.image = "docker.io/apache/spark:4.0.1": is not '
        "from a registry admission allows (R28) (allowed: images under "
        "210987654321.dkr.ecr.us-east-1.amazonaws.com, public.ecr.aws/docker/library, "
        "nvcr.io/nvidia, ghcr.io/spiffe)",
    ),
    (
        "a history server for a tenant without a read-write grant",
        lambda c: c[W]["spark"]["tenants"]["data-eng"]["s3"].pop(),
        'substrate:workloads.spark.tenants.data-eng.s3 = "read grants only": has no read-write '
        "grant, where the event logs the history server reads are written (spark-events/ under "
        "the first read-write grant) (allowed: a read-write grant, or no historyServer)",
    ),
]


@pytest.mark.parametrize(("name", "mutate", "message"), CASES, ids=[c[0] for c in CASES])
def test_invalid_spark_config_gives_exact_one_line_error(
    name: str, mutate: Mutation, message: str
) -> None:
    raw = stack_yaml("prod")
    mutate(raw)
    with pytest.raises(ConfigError) as err:
        typed_config(raw)
    assert str(err.value) == message
    assert "\n" not in str(err.value)


def test_spark_enables_kueues_spark_integration_once() -> None:
    raw = stack_yaml("prod")
    assert typed_config(raw).integrations.count("sparkoperator.k8s.io/sparkapplication") == 1
    raw["substrate:kueue"]["integrations"].append("sparkoperator.k8s.io/sparkapplication")
    assert typed_config(raw).integrations.count("sparkoperator.k8s.io/sparkapplication") == 1
    raw["substrate:kueue"]["integrations"].remove("sparkoperator.k8s.io/sparkapplication")
    raw.pop(W)
    assert "sparkoperator.k8s.io/sparkapplication" not in typed_config(raw).integrations
