"""docs/components.md is generated from the sources, and the sources document every input."""

from __future__ import annotations

from substrate.component_reference import collect, collect_helpers, render
from tests.helpers import ROOT


def test_components_reference_is_current() -> None:
    checked_in = (ROOT / "docs" / "components.md").read_text()
    assert checked_in == render(), "run: .venv/bin/python -m substrate.component_reference"


def test_every_args_field_has_a_docstring() -> None:
    _, args = collect()
    undocumented = [
        f"{a.name}.{key}" for a in args.values() for key, _, _, text in a.fields if not text
    ]
    assert undocumented == []


def test_every_component_has_typed_args_and_a_substrate_type_token() -> None:
    components, args = collect()
    assert len(components) >= 6
    for comp in components:
        assert comp.token.startswith("substrate:"), comp.name
        assert f"{comp.name}Args" in args, f"{comp.name} has no {comp.name}Args TypedDict"


def test_every_helper_type_field_in_args_has_a_docstring() -> None:
    """Helper types (TenantSpec, Share, PoolSpec, Limits, NetworkSpec ...) say what each field
    means and in which unit."""
    _, args = collect()
    helpers, _ = collect_helpers(args)
    assert {"Share", "TenantSpec", "PoolSpec", "Limits", "NetworkSpec"} <= {h.name for h in helpers}
    undocumented = [
        f"{h.name}.{name}" for h in helpers for name, _, _, text in h.fields if not text
    ]
    undocumented += [
        f"{h.name}.{key}"
        for h in helpers
        if h.typed_dict
        for key, _, _, text in h.typed_dict.fields
        if not text
    ]
    assert undocumented == []
