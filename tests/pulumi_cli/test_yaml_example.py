"""examples/yaml, Substrate's components in Pulumi YAML, previewed with the real engine, the
pulumi-language-yaml engine and Substrate's provider (provider/) on a file backend.

What runs offline: the YAML host loads Substrate's schema from the provider and type-checks the
program against it; the engine asks the provider to construct the first component. What does not:
the component's children are Kubernetes objects, and previewing them needs the
pulumi-resource-kubernetes plugin, which no package registry carries."""

from __future__ import annotations

import re

from tests.helpers import ROOT
from tests.pulumi_cli.cli import yaml_preview

EXAMPLE = ROOT / "examples" / "yaml"
PACKAGES = {"substrate": ROOT / "provider"}
SOURCES = [*ROOT.glob("substrate/**/*.py"), *(ROOT / "provider").glob("*")]


def test_the_yaml_host_checks_the_program_against_substrates_schema() -> None:
    def mistakes(text: str) -> str:
        text = text.replace("reclaimPolicy: Retain", "reclaimPolicy: Keep")
        return text.replace("namespace: research-agents", "namespaces: research-agents")

    done = yaml_preview(EXAMPLE, PACKAGES, SOURCES, mistakes)
    assert done["returncode"] != 0
    output = done["output"]
    assert 'Allowed values are DELETE ("Delete"), RETAIN ("Retain")' in output
    assert "substrate:index:AgentMemoryQuota is not assignable from {namespaces: string" in output
    assert "namespace: Missing required property 'namespace'" in output
    assert "StorageClasses: (create)" not in output  # nothing was constructed


def test_the_example_previews_until_the_kubernetes_provider_is_needed() -> None:
    done = yaml_preview(EXAMPLE, PACKAGES, SOURCES)
    output = done["output"]
    # The provider constructed StorageClasses (its URN carries the component's own type token).
    assert re.search(r"\+ substrate:\w+:StorageClasses: \(create\)", output), output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: no resource plugin 'pulumi-resource-kubernetes' found in the workspace at "
        "version v4.34.2 or on your $PATH"
    ]
