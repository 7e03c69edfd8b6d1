"""Every component refuses a misspelled key and a wrong type when it is constructed.

The components and their real args are found, not listed: every `ComponentResource` subclass
under components/ (introspection), constructed with the args the prod stack's program gives it
(each component module's `check_args` is wrapped to record them). Each key is then misspelled,
and replaced by a value no declared type accepts, and the component must refuse both with one
line naming itself, the key and the nearest valid key.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import typing
from collections.abc import Iterator, Mapping
from types import ModuleType
from typing import Any

import pulumi
import pytest

from substrate import components
from substrate.components.core import _args
from substrate.components.core._args import ArgsError, check_args
from substrate.config.platform import PlatformConfig, stack_file_config
from substrate.plan.command import typed_config
from substrate.plan.runner import run_under_mocks
from substrate.platform import build_platform
from substrate.project import find_project

STACK = "prod"  # the stack that builds every component of the platform
EXTRA_STACKS = ("dev",)
"""Stacks built after prod for components prod has no use for (NodeOverlays: only dev has a
time-sliced pool)."""


def _modules() -> list[ModuleType]:
    found = pkgutil.walk_packages(components.__path__, "substrate.components.")
    return [importlib.import_module(m.name) for m in found]


def _components() -> dict[str, type[pulumi.ComponentResource]]:
    """Every ComponentResource subclass defined under components/ with its own constructor
    (bases such as Addon, which only subclasses construct, have none)."""
    out: dict[str, type[pulumi.ComponentResource]] = {}
    for module in _modules():
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, pulumi.ComponentResource)
                and obj.__module__ == module.__name__
                and "__init__" in vars(obj)
            ):
                out[name] = obj
    return out


COMPONENTS = _components()


@pytest.fixture(scope="module")
def recorded() -> Iterator[dict[str, Mapping[str, Any]]]:
    """Component name -> the args the stack's program constructed it with (the first time)."""
    seen: dict[str, Mapping[str, Any]] = {}
    real = _args.check_args

    def record(component: object, args: Any) -> None:
        seen.setdefault(type(component).__name__, dict(args))
        real(component, args)

    patch = pytest.MonkeyPatch()
    for module in _modules():
        if module is not _args and getattr(module, "check_args", None) is real:
            patch.setattr(module, "check_args", record)
    project = find_project()
    try:
        for stack in (STACK, *EXTRA_STACKS):
            config = stack_file_config(project.stack_config(stack))
            typed = typed_config(project, stack, config)
            assert typed is not None

            def program(typed: PlatformConfig = typed) -> None:
                build_platform(typed)

            run_under_mocks(
                program,
                project=project.name,
                stack=stack,
                config=config,
                region=typed.region,
            )
    finally:
        patch.undo()
    yield seen


def _args_of(recorded: Mapping[str, Mapping[str, Any]], name: str) -> Mapping[str, Any]:
    assert name in recorded, (
        f"{name} never called check_args(self, args) while the {STACK} stack was built: call it "
        "first in its __init__ (or construct it from a stack and extend this test)"
    )
    return recorded[name]


def typo(key: str) -> str:
    """What a user types instead: camelCase for snake_case, else a letter left out."""
    head, *rest = key.split("_")
    if rest:
        return head + "".join(part.capitalize() for part in rest)
    return key[0] + key[2:]


class _Wrong:
    def __repr__(self) -> str:
        return "<wrong>"


WRONG = _Wrong()


@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_a_misspelled_key_names_the_component_and_the_nearest_key(
    recorded: dict[str, Mapping[str, Any]], name: str
) -> None:
    args = _args_of(recorded, name)
    check_args(COMPONENTS[name], args)  # what the stack passes is accepted
    for key in args:
        bad = {typo(key) if k == key else k: v for k, v in args.items()}
        with pytest.raises(ArgsError) as refused:
            check_args(COMPONENTS[name], bad)
        assert str(refused.value) == f"{name} args: {typo(key)} is not a key; did you mean {key}?"


@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_a_wrong_type_names_the_component_the_key_and_what_is_allowed(
    recorded: dict[str, Mapping[str, Any]], name: str
) -> None:
    args = _args_of(recorded, name)
    for key in args:
        with pytest.raises(ArgsError) as refused:
            check_args(COMPONENTS[name], {**args, key: WRONG})
        assert str(refused.value).startswith(f"{name} args: {key} is <wrong>; allowed: ")


@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_every_component_checks_its_args_before_anything_else(name: str) -> None:
    """The guard: a component that forgets `check_args(self, args)` fails here, whatever it is
    and wherever it is constructed (no Pulumi engine runs: the check is the first thing)."""
    with pytest.raises(ArgsError) as refused:
        COMPONENTS[name](name.lower(), {"no_such_key": 1})  # type: ignore[call-arg]
    assert str(refused.value).startswith(f"{name} args: no_such_key is not a key")


def test_every_helper_type_in_args_can_be_checked() -> None:
    """Every TypedDict and dataclass in components/ resolves its annotations at run time (an
    annotation only the type checker can see would leave its fields unchecked)."""
    import dataclasses

    for module in _modules():
        for obj in vars(module).values():
            if (
                inspect.isclass(obj)
                and obj.__module__ == module.__name__
                and (dataclasses.is_dataclass(obj) or typing.is_typeddict(obj))
            ):
                typing.get_type_hints(obj, localns=_args._LOCALNS, include_extras=True)


@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_a_missing_required_key_is_named(recorded: dict[str, Mapping[str, Any]], name: str) -> None:
    args = _args_of(recorded, name)
    required = [k for k in args if k in _args._required(_args._args_type(COMPONENTS[name]))]
    assert required, f"{name}: no required key (every component has one)"
    for key in required:
        with pytest.raises(ArgsError) as refused:
            check_args(COMPONENTS[name], {k: v for k, v in args.items() if k != key})
        assert str(refused.value).startswith(f"{name} args: {key} is required (")
