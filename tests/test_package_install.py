"""The wheel installs into a fresh venv beside a user's own `components/` package, and the
dependency versions the project is tested with stay inside the ranges it declares.

The dependencies at the lower ends of those ranges are installed from PyPI by `make compat`
(tools/compat.py --lower): too slow for the cached suite (see docs/development.md)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from substrate import provider
from tests.helpers import ROOT


def _load() -> Any:
    spec = importlib.util.spec_from_file_location("compat", ROOT / "tools" / "compat.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["compat"] = module
    spec.loader.exec_module(module)
    return module


compat = _load()


def test_every_dependency_is_a_range_with_a_tested_lower_end() -> None:
    pins = compat.lower_ends()
    assert {p.split("==")[0] for p in pins} == {r.name for r in compat.requirements()}
    for req in compat.requirements():
        assert any(s.operator == "<" for s in req.specifier), f"{req}: no upper bound"


def test_the_locked_versions_are_inside_the_ranges() -> None:
    assert compat.out_of_range() == []


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    return compat.check(lower=False, work=tmp_path_factory.mktemp("compat"))


def test_the_wheel_does_not_shadow_the_users_components(installed: dict[str, object]) -> None:
    venv = Path(str(installed["venv"]))
    assert Path(str(installed["substrate"])).is_relative_to(venv)
    assert not Path(str(installed["components"])).is_relative_to(venv)
    assert installed["owner"] == "platform-team"
    assert installed["top_level"] == ["substrate"]


def test_the_installed_package_hosts_its_components(installed: dict[str, object]) -> None:
    assert installed["storage"] == "substrate.components.cluster.storage"
    assert installed["enum"] == "Retain"
    assert installed["resources"] == len(provider.hosted())
