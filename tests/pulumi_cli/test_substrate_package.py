"""Substrate's component package (provider/) through the real Pulumi CLI, and the TypeScript
example (examples/typescript) planned against the SDK the CLI generates.

Offline, `pulumi package get-schema` serves the analyzer's schema but then fails to bind it: the
outputs of the Helm-based components (`release`), of EksCluster (`provider`) and of Tenant
(`namespaces`) are resources of the kubernetes package, and binding
that reference needs the pulumi-resource-kubernetes plugin, which no package registry carries.
So the Node.js SDK is generated from the served schema less those components (standalone.json);
a user online gets every component."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from substrate.provider import hosted
from tests.helpers import ROOT
from tests.provider_engine import construct, fake_engine, provider_process
from tests.pulumi_cli.cli import generated_package, mock_plan

PLUGIN = ROOT / "provider"
EXAMPLE = ROOT / "examples" / "typescript"
SDK = "@pulumi/substrate"
KEY = "arn:aws:kms:eu-west-1:111122223333:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
KUBERNETES_PIN = next(
    line.split("==")[1].split()[0]
    for line in (ROOT / "requirements.lock").read_text().splitlines()
    if line.startswith("pulumi-kubernetes==")
)


@pytest.fixture(scope="module")
def package() -> Path:
    sources = [*ROOT.glob("substrate/**/*.py"), *PLUGIN.glob("*")]
    return generated_package(PLUGIN, "substrate", sources, dependencies_offline=False)


def served(package: Path) -> dict[str, Any]:
    return json.loads((package / "schema.json").read_text())


def test_the_cli_gets_every_hosted_component_from_the_plugin(package: Path) -> None:
    schema = served(package)
    assert schema["name"] == "substrate"
    assert {t.split(":")[-1] for t in schema["resources"]} == {c.__name__ for c in hosted()}
    assert all(r["isComponent"] for r in schema["resources"].values())


def test_only_the_kubernetes_plugin_blocks_binding_offline(package: Path) -> None:
    """The schema depends on one other package, at the pulumi-kubernetes version the project
    pins, and binding it fails for that plugin alone (nothing else is missing offline)."""
    schema = served(package)
    assert schema["dependencies"] == [{"name": "kubernetes", "version": KUBERNETES_PIN}]
    assert (package / "get-schema.exit").read_text() == "1"
    (error,) = [ln for ln in (package / "get-schema.stderr").read_text().splitlines() if ln]
    assert error.startswith("error: failed to bind schema: ")
    assert error.endswith(
        f"no resource plugin 'pulumi-resource-kubernetes' found in the workspace at version "
        f"v{KUBERNETES_PIN} or on your $PATH"
    )
    refs = {
        (token, prop, ref)
        for token, resource in schema["resources"].items()
        for prop, spec in resource.get("properties", {}).items()
        for ref in [spec.get("$ref") or spec.get("additionalProperties", {}).get("$ref", "")]
        if ref.startswith("/")
    }
    # Outputs only: the Helm-based components' `release`, EksCluster's `provider` and the
    # Tenant's namespaces (namespace -> Namespace).
    kubernetes = f"/kubernetes/v{KUBERNETES_PIN}/schema.json#/resources/"
    assert {(prop, ref.removeprefix(kubernetes)) for _, prop, ref in refs} == {
        ("release", "kubernetes:helm.sh%2Fv3:Release"),
        ("provider", "pulumi:providers:kubernetes"),
        ("namespaces", "kubernetes:core%2Fv1:Namespace"),
    }
    assert not any(
        '"$ref": "/' in json.dumps(r.get("inputProperties", {}))
        for r in schema["resources"].values()
    )
    standalone = json.loads((package / "standalone.json").read_text())
    assert set(standalone["resources"]) == set(schema["resources"]) - {t for t, _, _ in refs}


@pytest.fixture(scope="module")
def example_plan(package: Path) -> dict[str, Any]:
    config = {"substrate-example-typescript:volumeKmsKeyArn": KEY}
    return mock_plan(
        EXAMPLE / "index.ts", package, SDK, project="substrate-example-typescript", config=config
    )


def test_typescript_example_registers_the_components_with_schema_inputs(
    example_plan: dict[str, Any],
) -> None:
    by_type = {r["type"]: r for r in example_plan["resources"]}
    storage = by_type["substrate:index:StorageClasses"]
    assert storage["custom"] is False  # a remote component: the provider constructs it
    assert storage["inputs"] == {
        "volumeKmsKeyArn": KEY,
        "reclaimPolicy": "Retain",
        "agentIops": 6000,
    }
    quota = by_type["substrate:index:AgentMemoryQuota"]
    assert quota["inputs"]["agents"]["retriever"] == {
        "replicas": 4,
        "size": "50Gi",
        "storageClass": "agent-gp3",
    }


def test_the_provider_constructs_what_the_typescript_example_asks_for(
    example_plan: dict[str, Any], tmp_path: Path
) -> None:
    """The inputs the generated SDK registered, handed to Substrate's provider as the engine
    hands them to Construct (numbers travel as floats; the provider gives the components the
    ints their args declare): the Python components build their Kubernetes objects from them."""
    with (
        fake_engine() as (monitor, address),
        provider_process(PLUGIN, address, ROOT, tmp_path) as stub,
    ):
        urns = {
            r["type"]: construct(stub, address, r["type"], r["name"], r["inputs"])[0]
            for r in example_plan["resources"]
            if r["type"].startswith("substrate:")
        }
    children = {(r.parent, r.type, r.name): r.inputs for r in monitor.registrations}
    storage = urns["substrate:index:StorageClasses"]
    agent_gp3 = children[
        (storage, "kubernetes:storage.k8s.io/v1:StorageClass", "storage-agent-gp3")
    ]
    assert agent_gp3["reclaimPolicy"] == "Retain"
    assert agent_gp3["parameters"]["iops"] == "6000"
    (quota,) = [
        inputs
        for (parent, type_, _), inputs in children.items()
        if parent == urns["substrate:index:AgentMemoryQuota"]
        and type_ == "kubernetes:core/v1:ResourceQuota"
    ]
    hard = quota["spec"]["hard"]
    assert hard["agent-gp3.storageclass.storage.k8s.io/requests.storage"] == "240Gi"
    assert hard["agent-gp3.storageclass.storage.k8s.io/persistentvolumeclaims"] == "6"
