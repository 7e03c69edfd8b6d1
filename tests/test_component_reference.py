"""docs/components.md is generated from the sources, and the sources document every input."""

from __future__ import annotations

from substrate.component_reference import collect, render
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
