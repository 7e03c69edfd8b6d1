"""Substrate's components as a Pulumi component package (`pulumi package add`).

Pulumi's own schema analyzer (`pulumi.provider.experimental`, in the pinned SDK) reads each
component's `args` TypedDict, its output annotations and their per-field docstrings, and infers
the package schema from them; `component_provider_host` serves that schema and constructs the
components for programs in any language. `provider/` holds the plugin manifest
(`PulumiPlugin.yaml`) whose `__main__.py` calls :func:`main`.

`HOSTED` is every public component the analyzer accepts; `NOT_HOSTED` names the others and what
the analyzer cannot express in their args (tests/test_provider_schema.py keeps both honest).
"""

from __future__ import annotations

import importlib
import json
import warnings
from importlib import metadata
from typing import Any

import pulumi

from substrate.components import PUBLIC

PACKAGE = "substrate"

NOT_HOSTED: dict[str, str] = {
    "Addon": "the base class of the Helm add-ons, not a component of its own (no args)",
    "AgentRuntime": "scaling.triggers is a union of trigger TypedDicts (the analyzer has no "
    "unions); ScaleTarget.kind is a Literal",
    "ElasticWorkload": "triggers is a union of trigger TypedDicts (the analyzer has no unions); "
    "ScaleTarget.kind is a Literal",
    "BedrockAgentRole": "ModelRef.kind is a Literal (bedrock_models.Kind)",
    "KueuePlatform": "PoolSpec: Literal fields and tuple-of-pair fields (labels, mig_profiles)",
    "NodeClasses": "NodeClassSpec: tuple fields and Literal arch/placement_group",
    "NodeOverlays": "PoolSpec: Literal fields and tuple-of-pair fields",
    "NodePools": "PoolSpec: Literal fields and tuple-of-pair fields",
    "NvidiaDevicePlugin": "GpuSharing.mode is a Literal; PoolSpec as NodePools",
    "PlatformMonitoring": "ScrapeTarget.kind and scheme are Literals",
    "SparkOperator": "SparkTenant and S3Grant: tuple fields and a Literal access",
    "Tenant": "TenantSpec: tuple fields, and gpus/from_tenants are tuples of pairs",
}
"""Public components the analyzer cannot read yet, with the reason (issue 16)."""


def component_names() -> list[str]:
    """Every public component class name (not the `XArgs` types)."""
    return sorted(n for n in PUBLIC if not n.endswith("Args"))


def hosted() -> list[type[pulumi.ComponentResource]]:
    """The component classes the provider hosts, by name."""
    names = [n for n in component_names() if n not in NOT_HOSTED]
    return [getattr(importlib.import_module(PUBLIC[n]), n) for n in names]


def version() -> str:
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a bare checkout
        return "0.0.0"


def schema() -> dict[str, Any]:
    """The package schema exactly as the provider serves it (GetSchema)."""
    from pulumi.provider.experimental.component import ComponentProvider

    with warnings.catch_warnings():
        # The analyzer reads pulumi_kubernetes' pulumi-plugin.json without closing it.
        warnings.simplefilter("ignore", ResourceWarning)
        provider = ComponentProvider(hosted(), PACKAGE, None, version())
    return json.loads(provider.schema or "{}")


def main() -> None:
    """Serve the components (the Pulumi engine starts this with its address as argument)."""
    from pulumi.provider.experimental import component_provider_host

    component_provider_host(hosted(), PACKAGE, version=version())


if __name__ == "__main__":
    main()
