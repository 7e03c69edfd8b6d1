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

import dataclasses
import importlib
import json
import sys
import warnings
from dataclasses import fields
from importlib import metadata
from typing import Any, cast

import pulumi

from substrate.components import PUBLIC

PACKAGE = "substrate"

NOT_HOSTED: dict[str, str] = {
    "Addon": "the base class of the Helm add-ons, not a component of its own (no args)",
    "KueuePlatform": "PoolSpec: Literal fields and tuple-of-pair fields (labels, mig_profiles)",
    "NodeClasses": "NodeClassSpec: tuple fields and Literal arch/placement_group",
    "NodeOverlays": "PoolSpec: Literal fields and tuple-of-pair fields",
    "NodePools": "PoolSpec: Literal fields and tuple-of-pair fields",
    "NvidiaDevicePlugin": "GpuSharing.mode is a Literal; PoolSpec as NodePools",
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


def provider() -> Any:
    """The provider the plugin serves: Pulumi's ComponentProvider over the hosted components,
    taught the frozen dataclasses some args and outputs use (`Operator`, `Chart`): the SDK's
    provider hands a component a dict where its args declare a dataclass, and reads outputs
    with `.get`, which a dataclass lacks."""
    from pulumi.provider.experimental.component import ComponentProvider

    class Provider(ComponentProvider):
        def map_input_properties(
            self,
            inputs: Any,
            properties: dict[str, Any],
            mapping: dict[str, str],
            component_name: str,
            property_path: str,
        ) -> Any:
            mapped = super().map_input_properties(
                inputs, properties, mapping, component_name, property_path
            )
            schema_names = {py: schema for schema, py in mapping.items()}
            return {k: self._typed(v, properties.get(schema_names[k])) for k, v in mapped.items()}

        def _typed(self, value: Any, prop: Any) -> Any:
            value = _integers(value, prop)
            ref = getattr(prop, "ref", None) or getattr(getattr(prop, "items", None), "ref", None)
            if not ref or ":" not in ref or ref.startswith("/"):
                return value
            cls = self._type_defs[ref.rsplit(":", 1)[-1]].python_type
            if not dataclasses.is_dataclass(cls):
                return value
            if isinstance(value, list):
                return [cls(**item) if isinstance(item, dict) else item for item in value]
            return cls(**value) if isinstance(value, dict) else value

        def map_complex_output(self, instance_val: Any, type_def: Any) -> Any:
            if dataclasses.is_dataclass(instance_val) and not isinstance(instance_val, type):
                instance_val = {f.name: getattr(instance_val, f.name) for f in fields(instance_val)}
            return super().map_complex_output(cast(Any, instance_val), type_def)

    with warnings.catch_warnings():
        # The analyzer reads pulumi_kubernetes' pulumi-plugin.json without closing it.
        warnings.simplefilter("ignore", ResourceWarning)
        return Provider(hosted(), PACKAGE, None, version())


def _integers(value: Any, prop: Any) -> Any:
    """Integers arrive over gRPC as floats; the SDK's provider converts them and then overwrites
    the conversion with the float (pulumi 3.272.0, ComponentProvider.map_input_properties), so
    `replicas: int` would be refused as 1.0. Convert whole floats where the schema says integer."""
    kind = getattr(getattr(prop, "type", None), "value", None)
    if kind == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind == "array" and isinstance(value, list):
        return [_integers(v, prop.items) for v in value]
    if kind == "object" and isinstance(value, dict) and prop.additional_properties is not None:
        return {k: _integers(v, prop.additional_properties) for k, v in value.items()}
    return value


def schema() -> dict[str, Any]:
    """The package schema exactly as the provider serves it (GetSchema)."""
    return json.loads(provider().schema or "{}")


def main() -> None:
    """Serve the components: what `component_provider_host` does, with :func:`provider` (the
    Pulumi engine starts this with its address as the argument and reads the port it prints)."""
    from pulumi.provider import main as serve

    serve(provider(), sys.argv[1:])


if __name__ == "__main__":
    main()
