from __future__ import annotations

from substrate.config.reference import render
from tests.helpers import ROOT


def test_configuration_reference_is_current() -> None:
    checked_in = (ROOT / "docs" / "configuration.md").read_text()
    assert checked_in == render(), "run: .venv/bin/python -m substrate.config.reference"
