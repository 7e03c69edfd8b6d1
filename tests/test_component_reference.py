"""docs/components.md is generated from the package schema Pulumi's analyzer infers."""

from __future__ import annotations

import copy
import inspect

from substrate import provider
from substrate.component_reference import render, snake
from tests.helpers import ROOT


def test_components_reference_is_current() -> None:
    checked_in = (ROOT / "docs" / "components.md").read_text()
    assert checked_in == render(), "run: .venv/bin/python -m substrate.component_reference"


def test_the_reference_follows_the_schema_not_the_sources() -> None:
    """A description changed in the schema changes the page (there is no second source)."""
    schema = copy.deepcopy(provider.schema())
    storage = schema["resources"]["substrate:index:StorageClasses"]["inputProperties"]
    storage["reclaimPolicy"]["description"] = "SENTINEL from the schema"
    assert "SENTINEL from the schema" in render(schema)
    assert "SENTINEL from the schema" not in render()


def test_every_component_is_documented_or_listed_with_the_reason() -> None:
    page = (ROOT / "docs" / "components.md").read_text()
    for name in provider.component_names():
        assert f"## `{name}`" in page or f"| `{name}` |" in page, name


def test_python_keys_are_the_args_keys() -> None:
    """The page's Python key column names the TypedDict keys a Python program passes."""
    resources = provider.schema()["resources"]
    for cls in provider.hosted():
        args = inspect.get_annotations(cls.__init__)["args"]
        token = f"substrate:index:{cls.__name__}"
        schema_keys = resources[token].get("inputProperties", {})
        assert {snake(k) for k in schema_keys} == set(inspect.get_annotations(args)), token
