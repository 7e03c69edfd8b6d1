"""Where `substrate check` accepts a SparkApplication: only in the namespaces the stack's Spark
Operator watches; on a stack without Spark, nowhere (one line, exit 2 in the CLI)."""

from __future__ import annotations

import pytest

from substrate.check import spark
from substrate.check.inputs import Manifest, ManifestError

APP = {
    "apiVersion": "sparkoperator.k8s.io/v1beta2",
    "kind": "SparkApplication",
    "metadata": {"name": "features", "namespace": "data-eng"},
}
JOB = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "etl", "namespace": "x"}}


def placed(*objs: dict) -> list[tuple[str, Manifest]]:
    return [("t", Manifest(f"f.yaml#{i}", o)) for i, o in enumerate(objs, 1)]


def test_a_spark_application_in_a_watched_namespace_passes() -> None:
    spark.refuse_unwatched(placed(APP, JOB), ["data-eng"])


def test_a_stack_without_spark_refuses_every_spark_application_but_nothing_else() -> None:
    spark.refuse_unwatched(placed(JOB), [])
    with pytest.raises(
        ManifestError,
        match=r"f.yaml#2: SparkApplication/features: this stack "
        r"runs no Spark Operator \(substrate:workloads.spark\)",
    ):
        spark.refuse_unwatched(placed(JOB, APP), [])
