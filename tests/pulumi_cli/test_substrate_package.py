"""Substrate's component package (provider/) through the real Pulumi CLI, and the TypeScript
example (examples/typescript) planned against the SDK the CLI generates.

The outputs of the Helm-based components (`release`), of EksCluster (`provider`) and of Tenant
(`namespaces`) are resources of the kubernetes package, referenced at the version of the pinned
Python SDK. The kubernetes plugin built here (the pulumi-kubernetes engine) is older, so `pulumi
package get-schema` serves the schema but fails to bind it; the Node.js SDK is generated from
the served schema with those references moved to the plugin's version (repinned.json) and covers
every hosted component. Its package.json then names that older @pulumi/kubernetes; a user online
gets the pinned one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from substrate.provider import hosted
from tests.helpers import ROOT
from tests.provider_engine import construct, fake_engine, provider_process
from tests.pulumi_cli.cli import (
    KUBERNETES_PLUGIN,
    compiled_program,
    compiled_sdk,
    generated_package,
    mock_plan,
)
from tests.pulumi_cli.kubernetes_render import render

PLUGIN = ROOT / "provider"
HERE = Path(__file__).parent
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
    return generated_package(PLUGIN, "substrate", sources, repin_kubernetes=True)


def served(package: Path) -> dict[str, Any]:
    return json.loads((package / "schema.json").read_text())


def test_the_cli_gets_every_hosted_component_from_the_plugin(package: Path) -> None:
    schema = served(package)
    assert schema["name"] == "substrate"
    assert {t.split(":")[-1] for t in schema["resources"]} == {c.__name__ for c in hosted()}
    assert all(r["isComponent"] for r in schema["resources"].values())


def kubernetes_refs(schema: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {
        (token, prop, ref)
        for token, resource in schema["resources"].items()
        for prop, spec in resource.get("properties", {}).items()
        for ref in [spec.get("$ref") or spec.get("additionalProperties", {}).get("$ref", "")]
        if ref.startswith("/")
    }


def test_binding_needs_the_kubernetes_schema_at_the_pinned_version(package: Path) -> None:
    """The schema depends on one other package, at the pulumi-kubernetes version the project
    pins; the plugin built here serves its schema at its own, older version, and binding refuses
    the mismatch (nothing else is missing offline)."""
    schema = served(package)
    assert schema["dependencies"] == [{"name": "kubernetes", "version": KUBERNETES_PIN}]
    assert (package / "get-schema.exit").read_text() == "1"
    errors = [
        ln for ln in (package / "get-schema.stderr").read_text().splitlines() if ln[:6] == "error:"
    ]
    assert len(errors) == 1
    assert errors[0].startswith("error: failed to bind schema: ")
    mismatch = (
        f"loader returned kubernetes@{KUBERNETES_PLUGIN}; requested kubernetes@{KUBERNETES_PIN}"
    )
    assert mismatch in errors[0]
    # Outputs only: the Helm-based components' `release`, EksCluster's `provider` and the
    # Tenant's namespaces (namespace -> Namespace).
    kubernetes = f"/kubernetes/v{KUBERNETES_PIN}/schema.json#/resources/"
    assert {(prop, ref.removeprefix(kubernetes)) for _, prop, ref in kubernetes_refs(schema)} == {
        ("release", "kubernetes:helm.sh%2Fv3:Release"),
        ("provider", "pulumi:providers:kubernetes"),
        ("namespaces", "kubernetes:core%2Fv1:Namespace"),
    }
    assert not any(
        '"$ref": "/' in json.dumps(r.get("inputProperties", {}))
        for r in schema["resources"].values()
    )


def test_the_sdk_covers_every_component_with_kubernetes_typed_outputs(package: Path) -> None:
    """Generated against the schema with its kubernetes references at the plugin's version, the
    SDK has every hosted component; the outputs that are Kubernetes resources are typed with
    @pulumi/kubernetes, which the generated package depends on."""
    schema = served(package)
    repinned = json.loads((package / "repinned.json").read_text())
    assert repinned["dependencies"] == [{"name": "kubernetes", "version": KUBERNETES_PLUGIN}]
    moved = {
        (t, p, r.replace(KUBERNETES_PLUGIN, KUBERNETES_PIN))
        for t, p, r in kubernetes_refs(repinned)
    }
    assert moved == kubernetes_refs(schema)
    sdk = package / "sdk" / "nodejs"
    index = (sdk / "index.ts").read_text()
    for component in hosted():
        assert f'export const {component.__name__}: typeof import("./' in index, component
    assert (
        json.loads((sdk / "package.json").read_text())["dependencies"]["@pulumi/kubernetes"]
        == KUBERNETES_PLUGIN
    )
    declared = (compiled_sdk(package) / "bin" / "dcgmExporter.d.ts").read_text()
    assert "readonly release: pulumi.Output<pulumiKubernetes.helm.v3.Release>;" in declared
    declared = (sdk / "bin" / "eksCluster.d.ts").read_text()
    assert "readonly provider: pulumi.Output<pulumiKubernetes.Provider>;" in declared


def test_a_program_reads_a_components_helm_release_with_kubernetes_types(package: Path) -> None:
    program = HERE / "release_program.ts"
    assert compiled_program(program, package, SDK).exists()
    with pytest.raises(AssertionError, match=r"Type 'Output<Release>' is not assignable"):
        wrong = package / "wrong" / "release_program.ts"
        wrong.parent.mkdir(exist_ok=True)
        wrong.write_text(
            program.read_text().replace("k8s.helm.v3.Release>", "k8s.core.v1.Namespace>")
        )
        compiled_program(wrong, package, SDK)


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


def test_the_typescript_examples_objects_render_through_the_kubernetes_provider(
    example_plan: dict[str, Any], tmp_path: Path
) -> None:
    """The inputs the generated SDK registered, handed to Substrate's provider as the engine
    hands them to Construct (numbers travel as floats; the provider gives the components the
    ints their args declare); the Kubernetes objects the Python components register from them,
    checked and created by the Kubernetes provider plugin in render mode (no cluster)."""
    with (
        fake_engine() as (monitor, address),
        provider_process(PLUGIN, address, ROOT, tmp_path) as stub,
    ):
        for r in example_plan["resources"]:
            if r["type"].startswith("substrate:"):
                construct(stub, address, r["type"], r["name"], r["inputs"])
        objects = render(address, monitor.registrations, tmp_path / "rendered")
    manifests = "1-manifest/storage.k8s.io_v1-storageclass-default-{}.yaml"
    assert all(manifests.format(name) in objects for name in ("gp3", "agent-gp3", "nvme-fast"))
    agent_gp3 = objects[manifests.format("agent-gp3")]
    assert agent_gp3["reclaimPolicy"] == "Retain"
    assert agent_gp3["parameters"]["iops"] == "6000"
    assert agent_gp3["parameters"]["kmsKeyId"] == KEY
    quota = objects["1-manifest/v1-resourcequota-research-agents-agent-memory.yaml"]
    # planner 2 x 20Gi and retriever 4 x 50Gi, all on agent-gp3.
    hard = quota["spec"]["hard"]
    assert hard["agent-gp3.storageclass.storage.k8s.io/requests.storage"] == "240Gi"
    assert hard["agent-gp3.storageclass.storage.k8s.io/persistentvolumeclaims"] == "6"
