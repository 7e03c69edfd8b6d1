"""Substrate's components as a Pulumi component package (`pulumi package add`).

Pulumi's own schema analyzer (`pulumi.provider.experimental`, in the pinned SDK) reads each
component's `args` TypedDict, its output annotations and their per-field docstrings, and infers
the package schema from them; `component_provider_host` serves that schema and constructs the
components for programs in any language. `provider/` holds the plugin manifest
(`PulumiPlugin.yaml`) whose `__main__.py` calls :func:`main`.

:func:`hosted` is every public component; the analyzer must read them all (a component it
cannot read fails the whole schema, and tests/test_provider.py with it). `Addon` is public as the
base class the Helm add-ons subclass (Python programs may subclass it for their own charts) but
is not a component: it has no constructor or args of its own, so it is not in the schema.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import sys
import types
import typing
import warnings
from collections import abc
from dataclasses import fields
from importlib import metadata
from typing import Any, cast

import pulumi

from substrate.components import PUBLIC

PACKAGE = "substrate"


def _public(name: str) -> Any:
    return getattr(importlib.import_module(PUBLIC[name]), name)


def component_names() -> list[str]:
    """Every public component class name: not the `XArgs` types, not base classes without a
    constructor of their own (`Addon`)."""
    return sorted(n for n in PUBLIC if not n.endswith("Args") and "__init__" in vars(_public(n)))


def hosted() -> list[type[pulumi.ComponentResource]]:
    """The component classes the provider hosts: every public component, by name."""
    return [_public(n) for n in component_names()]


def version() -> str:
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a bare checkout
        return "0.0.0"


def provider() -> Any:
    """The provider the plugin serves: Pulumi's ComponentProvider over the hosted components,
    taught the frozen dataclasses some args and outputs use (`Operator`, `Chart`, `PoolSpec`):
    the SDK's provider hands a component a dict where its args declare a dataclass (and a list
    where a frozen dataclass keeps a tuple), and reads outputs with `.get`, which a dataclass
    lacks. It also maps a list of Enum values to members, where the SDK's provider (pulumi
    3.272.0) maps each item as an object and hands the component empty dicts. A dataclass field
    with a default is optional in the schema (the analyzer marks only `Optional` fields so):
    a program in another language leaves it out and the dataclass's default applies."""
    from pulumi.errors import InputPropertyError
    from pulumi.provider.experimental.component import ComponentProvider
    from pulumi.provider.experimental.schema import generate_schema

    class Provider(ComponentProvider):
        def __init__(self, name: str, version: str) -> None:
            super().__init__(hosted(), name, None, version)
            for type_def in self._type_defs.values():
                _defaults_optional(type_def)
            spec = generate_schema(
                name,
                version,
                None,
                self._component_defs,
                self._type_defs,
                self._dependencies,
            )
            self.schema = json.dumps(spec.to_json())

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
            out = {}
            for key, item in mapped.items():
                name = schema_names[key]
                raw = inputs.get(name) if isinstance(inputs, dict) else None
                path = f"{property_path}.{name}" if property_path else name
                members = self._enum_items(raw, properties.get(name), item, path)
                out[key] = self._typed(members, properties.get(name))
            return out

        def _enum_items(self, raw: Any, prop: Any, value: Any, path: str) -> Any:
            ref = getattr(getattr(prop, "items", None), "ref", None)
            if not isinstance(raw, list) or not ref or ":" not in ref or ref.startswith("/"):
                return value
            type_def = self._type_defs[ref.rsplit(":", 1)[-1]]
            if not type_def.enum:
                return value
            try:
                return [type_def.python_type(item) for item in raw]
            except ValueError as err:
                raise InputPropertyError(path, f"{err} (enum '{type_def.name}')") from err

        def _typed(self, value: Any, prop: Any) -> Any:
            value = _integers(value, prop)
            ref = getattr(prop, "ref", None) or getattr(getattr(prop, "items", None), "ref", None)
            if not ref or ":" not in ref or ref.startswith("/"):
                return value
            cls = self._type_defs[ref.rsplit(":", 1)[-1]].python_type
            if not dataclasses.is_dataclass(cls):
                return value
            if isinstance(value, list):
                return [_dataclass(cls, item) for item in value]
            return _dataclass(cls, value)

        def map_complex_output(self, instance_val: Any, type_def: Any) -> Any:
            if dataclasses.is_dataclass(instance_val) and not isinstance(instance_val, type):
                instance_val = {f.name: getattr(instance_val, f.name) for f in fields(instance_val)}
            out = super().map_complex_output(cast(Any, instance_val), type_def)
            if not isinstance(out, dict):
                return out  # an Output: mapped again when it resolves
            # The SDK maps nested objects only where a property is one (`$ref`); a list of
            # them (`TenantSpec.gpus`) would reach the engine as dataclasses, which it cannot
            # serialize, with Python names.
            for schema_name, prop in type_def.properties.items():
                ref = getattr(getattr(prop, "items", None), "ref", None)
                nested = self.get_type_definition(prop.items) if ref else None
                if nested is not None and not nested.enum and schema_name in out:
                    out[schema_name] = [
                        self.map_complex_output(v, nested) for v in out[schema_name]
                    ]
            return out

    with warnings.catch_warnings():
        # The analyzer reads pulumi_kubernetes' pulumi-plugin.json without closing it.
        warnings.simplefilter("ignore", ResourceWarning)
        return Provider(PACKAGE, version())


def _defaults_optional(type_def: Any) -> None:
    """Mark the fields of a dataclass type that have a default as optional."""
    cls = type_def.python_type
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        return
    defaulted = {
        f.name
        for f in fields(cls)
        if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
    }
    for schema_name, py_name in type_def.properties_mapping.items():
        if py_name in defaulted:
            type_def.properties[schema_name].optional = True


def _dataclass(cls: Any, value: Any) -> Any:
    """A dict from the wire as the dataclass ``cls``; a list where the dataclass declares a
    Sequence becomes a tuple, so frozen dataclasses stay hashable as Python callers build them."""
    if not isinstance(value, dict):
        return value
    hints = typing.get_type_hints(cls)
    return cls(
        **{
            k: tuple(v) if isinstance(v, list) and _is_sequence(hints.get(k)) else v
            for k, v in value.items()
        }
    )


def _is_sequence(hint: Any) -> bool:
    while typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    return typing.get_origin(hint) in (abc.Sequence, tuple)


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
