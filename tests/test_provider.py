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


def test_every_public_component_is_in_the_schema() -> None:
    """Every public component class (all of `PUBLIC` but the `XArgs` types and the `Addon`
    base class) is in the schema the analyzer infers."""
    names = {n for n in PUBLIC if not n.endswith("Args")} - {"Addon"}
    assert provider.component_names() == sorted(names)
    assert set(_schema()["resources"]) == {f"substrate:index:{n}" for n in names}


def test_addon_is_a_base_class_the_analyzer_refuses() -> None:
    """Addon has no args of its own: it is public to subclass, and not a component."""
    from substrate.components.core.addon import Addon

    with warnings.catch_warnings(), pytest.raises(Exception, match="requires an argument named"):
        warnings.simplefilter("ignore", ResourceWarning)  # pulumi-plugin.json left open
        Analyzer("substrate").analyze([Addon])


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


GPU_POOL = {
    "name": "inference",
    "nodeClass": "gpu",
    "amiFamily": "al2023",
    "instanceFamilies": ["g6e"],
    "capacityTypes": ["on-demand", "reserved"],
    "limits": {"cpu": 64, "memory": "512Gi", "gpu": 8},
    "consolidationPolicy": "WhenEmpty",
    "consolidateAfter": "10m",
    "budgets": [{"nodes": "1", "reasons": ["Drifted", "Empty"]}],
    "expireAfter": "720h",
    "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}],
    "labels": [{"key": "team", "value": "ml"}],
    "gpuSharing": {"mode": "time-slicing", "replicas": 4},
    "kind": "inference",
}


def test_construct_builds_the_pools_a_program_in_another_language_describes(plugin: Any) -> None:
    """PoolSpec over the wire: Enum lists, nested dataclasses and defaulted fields left out
    reach the component as the types its Python callers pass (NodePools refuses anything
    else), and its NodePool carries them."""
    monitor, address, stub = plugin
    monitor.registrations.clear()
    urn, state = construct(
        stub, address, "substrate:index:NodePools", "pools", {"pools": [GPU_POOL]}
    )
    assert state == {"names": ["inference"]}
    (pool,) = [r for r in monitor.registrations if r.parent == urn]
    spec = pool.inputs["spec"]
    assert pool.inputs["metadata"]["labels"]["substrate.io/pool-kind"] == "inference"
    requirements = {r["key"]: r["values"] for r in spec["template"]["spec"]["requirements"]}
    assert requirements["karpenter.sh/capacity-type"] == ["on-demand", "reserved"]
    assert spec["template"]["spec"]["taints"] == [
        {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}
    ]
    labels = spec["template"]["metadata"]["labels"]
    assert labels["team"] == "ml"
    assert labels["nvidia.com/device-plugin.config"] == "time-sliced-4"
    assert spec["disruption"]["budgets"] == [{"nodes": "1", "reasons": ["Drifted", "Empty"]}]
    assert spec["limits"]["nvidia.com/gpu.shared"] == "32"  # 8 GPUs x 4 slices


def test_construct_refuses_a_value_outside_an_enum_list(plugin: Any) -> None:
    _, address, stub = plugin
    pool = {**GPU_POOL, "capacityTypes": ["on-demand", "ondemand"]}
    with pytest.raises(grpc.RpcError) as error:
        construct(stub, address, "substrate:index:NodePools", "bad", {"pools": [pool]})
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    details: dict[Any, Any] = dict(error.value.trailing_metadata())  # type: ignore[attr-defined]
    reason = details["grpc-status-details-bin"]
    assert b"pools[0].capacityTypes" in reason
    assert b"'ondemand' is not a valid CapacityType" in reason


def test_construct_scales_on_the_trigger_a_program_sets(plugin: Any) -> None:
    monitor, address, stub = plugin
    monitor.registrations.clear()
    queue = "https://sqs.us-east-1.amazonaws.com/210987654321/sessions"
    inputs = {
        "target": {"kind": "StatefulSet", "name": "support", "namespace": "agents"},
        "maxReplicas": 5,
        "triggers": [{"sqs": {"queueUrl": queue, "messagesPerReplica": 3}}],
        "region": "us-east-1",
    }
    urn, _ = construct(stub, address, "substrate:index:ElasticWorkload", "support", inputs)
    children = {r.type: r.inputs for r in monitor.registrations if r.parent == urn}
    spec = children["kubernetes:keda.sh/v1alpha1:ScaledObject"]["spec"]
    assert spec["scaleTargetRef"]["kind"] == "StatefulSet"
    assert spec["maxReplicaCount"] == 5
    (trigger,) = spec["triggers"]
    assert trigger["type"] == "aws-sqs-queue"
    assert trigger["metadata"]["queueURL"] == queue
    assert trigger["metadata"]["queueLength"] == "3"


def test_construct_builds_a_tenant_from_nested_shares_and_returns_its_spec(plugin: Any) -> None:
    """TenantSpec over the wire: its GPU shares and cross-tenant port grants (lists of nested
    dataclasses) reach the ClusterQueue and NetworkPolicies, and the `spec` output, with those
    lists, goes back to the engine in schema names."""
    monitor, address, stub = plugin
    monitor.registrations.clear()
    tenant = {
        "name": "ml",
        "namespaces": ["ml"],
        "gpu": True,
        "gpus": [{"pool": "training", "share": {"nominal": 8, "borrowingLimit": 4}}],
        "cpu": {"nominal": 16},
        "memory": {"nominal": 64 * 2**30},
        "network": {"fromTenants": [{"tenant": "web", "ports": [8080]}]},
    }
    inputs = {"tenant": tenant, "quotaHard": {"requests.cpu": "16"}, "gpuPools": ["training"]}
    urn, state = construct(stub, address, "substrate:index:Tenant", "ml", inputs)
    children = {r.name: r.inputs for r in monitor.registrations if r.parent == urn}
    groups = children["ml-cluster-queue"]["spec"]["resourceGroups"]
    (training,) = [f for g in groups for f in g["flavors"] if f["name"] == "training"]
    assert {"name": "nvidia.com/gpu", "nominalQuota": "8", "borrowingLimit": "4"} in training[
        "resources"
    ]
    (rule,) = children["ml-ml-allow-from-tenants"]["spec"]["ingress"]
    assert rule["from"] == [{"namespaceSelector": {"matchLabels": {"substrate.io/tenant": "web"}}}]
    assert [p["port"] for p in rule["ports"]] == [8080]
    assert state["spec"]["gpus"] == [
        {"pool": "training", "share": {"nominal": 8, "borrowingLimit": 4}}
    ]
    assert state["spec"]["network"]["fromTenants"] == [{"tenant": "web", "ports": [8080]}]


def test_construct_bounds_the_simulation_namespace_a_program_names(plugin: Any) -> None:
    """The simulation bounds (a nested TypedDict of integers) reach the agent-simulation
    policy as integers, not the floats the wire carries."""
    monitor, address, stub = plugin
    monitor.registrations.clear()
    inputs = {
        "validationActions": ["Deny"],
        "excludedNamespaces": ["kube-system", "kube-node-lease", "kube-public"],
        "allowedRegistries": ["public.ecr.aws/karpenter"],
        "simulation": {"namespace": "agent-sim", "maxRunSeconds": 600, "cleanupSeconds": 120},
    }
    urn, _ = construct(stub, address, "substrate:index:AdmissionPolicySet", "adm", inputs)
    (policy,) = [
        r.inputs
        for r in monitor.registrations
        if r.parent == urn and r.name == "adm-agent-simulation"
    ]
    conditions = {c["name"]: c["expression"] for c in policy["spec"]["matchConditions"]}
    assert conditions["in-the-simulation-namespace"].endswith('== "agent-sim"')
    messages = [v["message"] for v in policy["spec"]["validations"]]
    assert "Simulation Jobs set spec.activeDeadlineSeconds of at most 600." in messages
    assert "Simulation Jobs set spec.ttlSecondsAfterFinished of at most 120." in messages
