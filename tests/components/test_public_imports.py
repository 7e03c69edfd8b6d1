"""`substrate.components` is the package's stable import surface: every component and its args
type import from it by name, lazily, and old top-level import paths are gone."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pulumi
import pytest

import substrate.components as public
from tests.components.test_args import COMPONENTS
from tests.helpers import ROOT


def test_every_component_and_its_args_import_from_the_package() -> None:
    missing = sorted(n for c in COMPONENTS for n in (c, f"{c}Args") if n not in public.PUBLIC)
    assert missing == []
    for name in public.__all__:
        obj = getattr(public, name)
        assert obj is getattr(importlib.import_module(public.PUBLIC[name]), name)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="Netwrok"):
        public.Netwrok  # noqa: B018  # pyright: ignore[reportAttributeAccessIssue]


def test_importing_the_package_loads_no_provider_sdk() -> None:
    """Config checks and the policy pack import validators and versions through the package."""
    code = (
        "import sys, substrate.components.core.validators, substrate.components.core.versions;"
        "print(sorted(m for m in sys.modules if m.startswith(('pulumi_aws', 'pulumi_kubernetes'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("old", ["components", "policy_packs"])
def test_the_old_top_level_packages_are_gone(old: str) -> None:
    assert not (ROOT / old / "__init__.py").exists()


def test_components_register_the_schemas_token_and_alias_their_old_one() -> None:
    from substrate.components.core.tokens import component_args

    token, name, props, opts = component_args("substrate:storage:StorageClasses", "s", None)
    assert (token, name, props) == ("substrate:index:StorageClasses", "s", None)
    assert [a.type_ for a in opts.aliases or [] if isinstance(a, pulumi.Alias)] == [
        "substrate:storage:StorageClasses"
    ]
    with pytest.raises(ValueError, match="not a substrate token"):
        component_args("other:storage:StorageClasses", "s", None)


def test_every_planned_component_has_its_schema_token() -> None:
    from tests.conftest import planned

    types = {r.type for r in planned("prod").records if r.type.startswith("substrate:")}
    assert types and all(t.startswith("substrate:index:") for t in types), sorted(types)
