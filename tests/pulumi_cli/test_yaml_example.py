"""examples/yaml, Substrate's components in Pulumi YAML, through the real engine, the
pulumi-language-yaml engine, Substrate's provider (provider/) and the Kubernetes provider plugin
(the pulumi-kubernetes engine), on a file backend.

The YAML host loads Substrate's schema from the provider and type-checks the program against it;
the engine asks Substrate's provider to construct each component and the Kubernetes provider to
check and create each Kubernetes child. No cluster: the stack sets the Kubernetes provider's
`renderYamlToDirectory`, so `pulumi up` writes every object as YAML instead of applying it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.helpers import ROOT
from tests.pulumi_cli.cli import KUBERNETES_PLUGIN, yaml_run

EXAMPLE = ROOT / "examples" / "yaml"
PACKAGES = {"substrate": ROOT / "provider"}
SOURCES = [*ROOT.glob("substrate/**/*.py"), *(ROOT / "provider").glob("*")]
KEY = "arn:aws:kms:eu-west-1:111122223333:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
KUBERNETES_PIN = next(
    line.split("==")[1].split()[0]
    for line in (ROOT / "requirements.lock").read_text().splitlines()
    if line.startswith("pulumi-kubernetes==")
)


def diagnostics(output: str) -> set[str]:
    return {ln.strip() for ln in output.splitlines() if re.match(r"\s*(error|warning):", ln)}


def test_the_yaml_host_checks_the_program_against_substrates_schema() -> None:
    def mistakes(text: str) -> str:
        text = text.replace("reclaimPolicy: Retain", "reclaimPolicy: Keep")
        return text.replace("namespace: research-agents", "namespaces: research-agents")

    done = yaml_run(EXAMPLE, PACKAGES, SOURCES, mistakes)
    assert done["returncode"] != 0
    output = done["output"]
    assert 'Allowed values are DELETE ("Delete"), RETAIN ("Retain")' in output
    assert "substrate:index:AgentMemoryQuota is not assignable from {namespaces: string" in output
    assert "namespace: Missing required property 'namespace'" in output
    assert "StorageClasses: (create)" not in output  # nothing was constructed


def test_the_preview_goes_through_the_kubernetes_provider() -> None:
    done = yaml_run(EXAMPLE, PACKAGES, SOURCES)
    output = done["output"]
    assert done["returncode"] == 0, output
    # The Kubernetes provider checked every child the components declared.
    for child in (
        "substrate:index:StorageClasses$kubernetes:storage.k8s.io/v1:StorageClass::storage-gp3",
        "substrate:index:StorageClasses$kubernetes:storage.k8s.io/v1:StorageClass::"
        "storage-agent-gp3",
        "substrate:index:AgentMemoryQuota$kubernetes:core/v1:ResourceQuota::research-agents-quota",
    ):
        assert f"::substrate-example-yaml::{child}]" in output
    assert "+ 9 to create" in output
    # The engine took the plugin from PATH although the Python SDK asked for the pinned version.
    assert (
        f"warning: resource plugin kubernetes is expected to have version >={KUBERNETES_PIN}, "
        f"but has {KUBERNETES_PLUGIN}; the wrong version may be on your path, or this may be a "
        "bug in the plugin"
    ) in diagnostics(output)
    assert not [d for d in diagnostics(output) if d.startswith("error:")]


@pytest.fixture(scope="module")
def up() -> dict[str, Any]:
    return yaml_run(EXAMPLE, PACKAGES, SOURCES, command="up")


def test_up_renders_the_storage_classes_the_program_asked_for(up: dict[str, Any]) -> None:
    assert up["returncode"] == 0, up["output"]
    assert "defaultStorageClass" in up["output"]
    objects = up["rendered"]
    assert sorted(objects) == [
        "1-manifest/snapshot.storage.k8s.io_v1-volumesnapshotclass-default-ebs-scheduled-snapshots.yaml",
        "1-manifest/snapshot.storage.k8s.io_v1-volumesnapshotclass-default-ebs-snapshots.yaml",
        "1-manifest/storage.k8s.io_v1-storageclass-default-agent-gp3.yaml",
        "1-manifest/storage.k8s.io_v1-storageclass-default-gp3.yaml",
        "1-manifest/storage.k8s.io_v1-storageclass-default-nvme-fast.yaml",
        "1-manifest/v1-resourcequota-research-agents-agent-memory.yaml",
    ]
    classes = {o["metadata"]["name"]: o for o in objects.values() if o["kind"] == "StorageClass"}
    # reclaimPolicy: Retain and the KMS key from the stack's config reach every class.
    assert {c["reclaimPolicy"] for c in classes.values()} == {"Retain"}
    assert {c["parameters"]["kmsKeyId"] for c in classes.values()} == {KEY}
    default = "storageclass.kubernetes.io/is-default-class"
    assert [n for n, c in classes.items() if c["metadata"].get("annotations", {}).get(default)] == [
        "gp3"
    ]


def test_up_renders_the_agent_teams_storage_quota(up: dict[str, Any]) -> None:
    quota = up["rendered"]["1-manifest/v1-resourcequota-research-agents-agent-memory.yaml"]
    assert quota["metadata"] == {"name": "agent-memory", "namespace": "research-agents"}
    # planner: 2 replicas of 20Gi on agent-gp3; noGpus closes both GPU resources.
    assert quota["spec"]["hard"] == {
        "agent-gp3.storageclass.storage.k8s.io/persistentvolumeclaims": "2",
        "agent-gp3.storageclass.storage.k8s.io/requests.storage": "40Gi",
        "requests.nvidia.com/gpu": "0",
        "requests.nvidia.com/gpu.shared": "0",
    }
