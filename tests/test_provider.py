"""Substrate as a Pulumi component package: Pulumi's schema analyzer reads the components, and
the plugin in provider/ answers GetSchema and Construct as the engine calls them."""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import json
import textwrap
import warnings
from pathlib import Path
from typing import Any

import grpc
import pytest
from pulumi.provider.experimental.analyzer import Analyzer
from pulumi.runtime import proto

from substrate import provider
from substrate.components import PUBLIC
from substrate.components.core.versions import CHARTS
from substrate.components.workloads.kueue_integrations import JOBSET
from tests.provider_engine import construct, fake_engine, provider_process

ROOT = Path(__file__).resolve().parents[1]
KEY = "arn:aws:kms:us-west-2:123456789012:key/k"


@functools.cache
def _schema() -> dict[str, Any]:
    return provider.schema()


def test_every_public_component_is_hosted_or_says_why_not() -> None:
    assert set(provider.NOT_HOSTED) <= set(provider.component_names())
    hosted = {f"substrate:index:{c.__name__}" for c in provider.hosted()}
    assert set(_schema()["resources"]) == hosted


@pytest.mark.parametrize("name", sorted(provider.NOT_HOSTED))
def test_what_is_not_hosted_is_what_the_analyzer_refuses(name: str) -> None:
    """When a component becomes readable, it must move to the hosted set (and the docs)."""
    cls = getattr(importlib.import_module(PUBLIC[name]), name)
    with warnings.catch_warnings(), pytest.raises(Exception):  # noqa: B017
        warnings.simplefilter("ignore", ResourceWarning)  # pulumi-plugin.json left open
        Analyzer("substrate").analyze([cls])


def _inherited(token: str) -> set[str]:
    """Inputs an args TypedDict inherits (AddonArgs, SpireServerArgs): the analyzer reads field
    docstrings from the class's own source only, so these reach the schema without one."""
    name = token.rsplit(":", 1)[-1]
    init = getattr(importlib.import_module(PUBLIC[name]), name).__init__
    args = inspect.get_annotations(init)["args"]
    body = ast.parse(textwrap.dedent(inspect.getsource(args))).body[0]
    assert isinstance(body, ast.ClassDef)
    own = {n.target.id for n in body.body if isinstance(n, ast.AnnAssign)}  # type: ignore[union-attr]
    return {_camel(k) for k in set(inspect.get_annotations(args)) - own}


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(p.title() for p in rest)


def test_every_input_has_the_description_of_its_docstring() -> None:
    missing = [
        f"{token}.{key}"
        for token, resource in _schema()["resources"].items()
        for key, spec in resource.get("inputProperties", {}).items()
        if not spec.get("description") and key not in _inherited(token)
    ]
    assert not missing, f"inputs without a docstring: {missing}"


def test_choices_are_enums_with_their_values() -> None:
    types = _schema()["types"]
    storage = _schema()["resources"]["substrate:index:StorageClasses"]["inputProperties"]
    assert storage["reclaimPolicy"]["$ref"] == "#/types/substrate:index:ReclaimPolicy"
    assert [e["value"] for e in types["substrate:index:ReclaimPolicy"]["enum"]] == [
        "Delete",
        "Retain",
    ]
    network = types["substrate:index:NatGateways"]["enum"]
    assert {e["value"] for e in network} == {"single", "perAz"}


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Any:
    program = tmp_path_factory.mktemp("program")
    with (
        fake_engine() as (monitor, address),
        provider_process(ROOT / "provider", address, ROOT, program) as stub,
    ):
        yield monitor, address, stub


def test_the_plugin_serves_the_analyzed_schema(plugin: Any) -> None:
    _, _, stub = plugin
    served = json.loads(stub.GetSchema(proto.GetSchemaRequest()).schema)
    assert served["name"] == "substrate"
    assert served["resources"] == _schema()["resources"]


def test_construct_registers_the_children_under_the_component(plugin: Any) -> None:
    monitor, address, stub = plugin
    monitor.registrations.clear()
    inputs = {"volumeKmsKeyArn": KEY, "reclaimPolicy": "Retain"}
    urn, state = construct(stub, address, "substrate:index:StorageClasses", "storage", inputs)
    assert state == {"defaultClass": "gp3"}
    children = {(r.type, r.name): r for r in monitor.registrations if r.parent == urn}
    classes = "kubernetes:storage.k8s.io/v1:StorageClass"
    assert set(children) == {
        (classes, "storage-gp3"),
        (classes, "storage-agent-gp3"),
        (classes, "storage-nvme-fast"),
        ("kubernetes:snapshot.storage.k8s.io/v1:VolumeSnapshotClass", "storage-snapshot-class"),
        (
            "kubernetes:snapshot.storage.k8s.io/v1:VolumeSnapshotClass",
            "storage-scheduled-snapshot-class",
        ),
    }
    # The stack's string became the Enum member the component reads, and reached every child.
    assert {children[(classes, n)].inputs["reclaimPolicy"] for n in ("storage-gp3",)} == {"Retain"}
    snapshot = children[
        ("kubernetes:snapshot.storage.k8s.io/v1:VolumeSnapshotClass", "storage-snapshot-class")
    ]
    assert snapshot.inputs["deletionPolicy"] == "Retain"


def test_construct_refuses_a_value_outside_the_enum(plugin: Any) -> None:
    _, address, stub = plugin
    inputs = {"volumeKmsKeyArn": KEY, "reclaimPolicy": "Keep"}
    with pytest.raises(grpc.RpcError) as error:
        construct(stub, address, "substrate:index:StorageClasses", "bad", inputs)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    details: dict[Any, Any] = dict(error.value.trailing_metadata())  # type: ignore[attr-defined]
    reason = details["grpc-status-details-bin"]  # google.rpc.Status + InputPropertiesError
    assert b"reclaimPolicy" in reason
    assert b"Invalid value Keep" in reason
    assert b"ReclaimPolicy" in reason


def test_construct_hands_the_component_the_types_its_args_declare(plugin: Any) -> None:
    """Over gRPC an int arrives as a float and a nested object as a dict; the component gets
    `replicas: int` and `operator: Operator` (a frozen dataclass) all the same."""
    monitor, address, stub = plugin
    monitor.registrations.clear()
    jobset = {"chart": JOBSET.chart, "namespace": JOBSET.namespace, "title": JOBSET.title}
    inputs = {"clusterName": "c", "replicas": 2, "operator": jobset}
    urn, state = construct(stub, address, "substrate:index:WorkloadOperator", "jobset", inputs)
    children = {(r.type, r.name): r for r in monitor.registrations if r.parent == urn}
    namespace = children[("kubernetes:core/v1:Namespace", "jobset-namespace")]
    assert namespace.inputs["metadata"]["name"] == "jobset-system"
    release = children[("kubernetes:helm.sh/v3:Release", "jobset-release")]
    assert release.inputs["values"]["controller"]["replicas"] == 2
    assert release.inputs["values"]["controller"]["podDisruptionBudget"]["enabled"] is True
    # A dataclass output (the pinned chart) reaches the caller as an object.
    chart = CHARTS["jobset"]
    assert state["chart"] == {
        "name": chart.name,
        "repository": chart.repository,
        "version": chart.version,
        "appVersion": chart.app_version,
    }
