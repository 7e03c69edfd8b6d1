"""Every component checks its args against its own `XArgs` TypedDict when it is constructed.

A TypedDict is only seen by a type checker: at run time a misspelled key (`reclaimPolicy` for
`reclaim_policy`) would be ignored and the default used, and a wrong type would fail deep
inside, if at all. `check_args(self, args)`, the first line of every component's `__init__`,
reads the args type from the component's own `__init__` annotation and raises `ArgsError`, one
line naming the component, the key path, the value and what is allowed:

    StorageClasses args: reclaimPolicy is not a key; did you mean reclaim_policy?

Checked: required and optional keys (`total=False`, `Required`, `NotRequired`), unknown keys
(with the nearest valid one), and the types the components use: `str`, `int`, `float`, `bool`,
`Literal`, Enums (a member, never its plain value: the message names the nearest member),
`list`/`tuple`/`Sequence`, `dict`/`Mapping`, nested TypedDicts, the frozen
dataclasses of `components` (`TenantSpec`, `Share`, `PoolSpec`, `Limits` ...: every field),
unions and `Optional`. Where `pulumi.Input[T]` is declared a `pulumi.Output` (or awaitable) is
accepted as is; where a plain type is declared it is not (the component needs the value while
the program runs, before deployment).
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import functools
import types
import typing
from collections import abc
from collections.abc import Mapping
from typing import Any, Literal, NotRequired, Required, Union

import pulumi

from substrate.components.workloads.tenancy import quantity

_MAX_VALUE = 60
# `pulumi.Input[T]` is `Union[T, Awaitable[T], "Output[T]"]`: its forward reference resolves here.
_LOCALNS: dict[str, Any] = {"Output": pulumi.Output, "T": Any}


class ArgsError(TypeError, ValueError):
    """A component's args do not match its TypedDict (the CLI reports it in one line, exit 2)."""

    def __init__(self, component: str, path: str, message: str) -> None:
        self.component = component
        self.path = path
        self.message = message
        super().__init__(f"{component} args: {message}")


class _MismatchError(Exception):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def check_args(component: object, args: object) -> None:
    """Check ``args`` against the `args` annotation of ``type(component).__init__`` (or of
    ``component.__init__`` when given the class)."""
    cls = component if isinstance(component, type) else type(component)
    try:
        _check_typed_dict(args, _args_type(cls), "")
    except _MismatchError as err:
        raise ArgsError(cls.__name__, err.path, err.message) from None


@functools.cache
def _args_type(cls: type) -> type:
    hints = typing.get_type_hints(cls.__init__, localns=_LOCALNS)
    declared = hints.get("args")
    if declared is None or not typing.is_typeddict(declared):
        raise TypeError(f"{cls.__name__}.__init__: `args` is not annotated with a TypedDict")
    return declared


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls, localns=_LOCALNS, include_extras=True)
    except NameError:  # an annotation that only exists for the type checker: not checked
        return {}


# -- values ------------------------------------------------------------------------------------
def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 3] + "..."


def _join(path: str, key: object) -> str:
    if isinstance(key, str) and key.isidentifier():
        return f"{path}.{key}" if path else key
    return f"{path}[{key!r}]"


def _is_enum(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, enum.Enum)


def _member(member: enum.Enum) -> str:
    return f"{type(member).__name__}.{member.name}"


def _is_output(value: object) -> bool:
    return isinstance(value, pulumi.Output | abc.Awaitable)


# -- types -------------------------------------------------------------------------------------
def _strip(hint: Any) -> Any:
    """The type inside `Required[...]`, `NotRequired[...]` and `Annotated[...]`."""
    while typing.get_origin(hint) in (Required, NotRequired, typing.Annotated):
        hint = typing.get_args(hint)[0]
    return hint


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (Union, types.UnionType)


def _is_input(hint: Any) -> bool:
    """A union that accepts a Pulumi Output (every `pulumi.Input[T]`)."""
    return _is_union(hint) and any(typing.get_origin(a) is pulumi.Output for a in _arms(hint))


def _arms(hint: Any) -> tuple[Any, ...]:
    return typing.get_args(hint)


def describe(hint: Any) -> str:
    """A declared type in words ("str or an Output", "a list of PoolSpec")."""
    hint = _strip(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any or hint is object:
        return "anything"
    if hint is type(None) or hint is None:
        return "None"
    if _is_union(hint):
        words = [describe(a) for a in args if typing.get_origin(a) is not abc.Awaitable]
        return " or ".join(dict.fromkeys(words))
    if origin is Literal:
        return " or ".join(repr(a) for a in args)
    if _is_enum(hint):
        return " or ".join(_member(m) for m in hint)
    if origin is pulumi.Output:
        return "an Output"
    if origin in (list, tuple, abc.Sequence) and args:
        kind = {list: "a list", tuple: "a tuple", abc.Sequence: "a list"}[origin]
        return f"{kind} of {describe(args[0])}"
    if origin in (dict, abc.Mapping) and len(args) == 2:
        return f"a mapping of {describe(args[0])} to {describe(args[1])}"
    if isinstance(hint, type):
        return hint.__name__
    return str(hint)


# -- checks ------------------------------------------------------------------------------------
def _check_typed_dict(value: object, spec: type, path: str) -> None:
    if not isinstance(value, Mapping):
        raise _MismatchError(
            path, f"{path or 'args'} is {_show(value)}; allowed: a {spec.__name__}"
        )
    hints = _hints(spec)
    required = _required(spec)
    for key in value:
        if key not in hints:
            raise _MismatchError(_join(path, key), _unknown(_join(path, key), key, list(hints)))
    for key, item in value.items():
        _check(item, hints[key], _join(path, key))
    for key in sorted(required - set(value)):
        raise _MismatchError(
            _join(path, key), f"{_join(path, key)} is required ({describe(hints[key])})"
        )


@functools.cache
def _required(spec: type) -> frozenset[str]:
    """Required keys. `Required[...]`/`NotRequired[...]` written as strings (`from __future__
    import annotations`) are invisible to `__required_keys__` before Python 3.12: read them
    from the resolved hints, and the class's totality for the rest."""
    declared: frozenset[str] = getattr(spec, "__required_keys__", frozenset())
    out = set()
    for key, hint in _hints(spec).items():
        marker = typing.get_origin(hint)
        if marker is Required or (marker is not NotRequired and key in declared):
            out.add(key)
    return frozenset(out)


def _unknown(where: str, key: object, keys: list[str]) -> str:
    near = difflib.get_close_matches(str(key), keys, n=1, cutoff=0.6)
    if not near:  # camelCase for snake_case: compare without case and underscores
        squashed = {k.replace("_", "").lower(): k for k in keys}
        near = [squashed[s] for s in [str(key).replace("_", "").lower()] if s in squashed]
    if near:
        return f"{where} is not a key; did you mean {near[0]}?"
    return f"{where} is not a key; allowed: {', '.join(keys)}"


def _check(value: object, hint: Any, path: str) -> None:
    hint = _strip(hint)
    if _is_union(hint):
        _check_union(value, hint, path)
    elif not _matches(value, hint, path):
        raise _MismatchError(path, _wrong(value, hint, path))


def _check_union(value: object, hint: Any, path: str) -> None:
    if _is_input(hint) and _is_output(value):
        return
    errors: list[_MismatchError] = []
    for arm in _arms(hint):
        try:
            _check(value, arm, path)
        except _MismatchError as err:
            errors.append(err)
        else:
            return
    # A wrong value inside the arm the value was meant for says more than "not any of these".
    deeper = [(_fit(value, arm), i) for i, arm in enumerate(_arms(hint)) if errors[i].path != path]
    if not deeper:
        raise _MismatchError(path, _wrong(value, hint, path))
    raise errors[max(deeper)[1]]


def _fit(value: object, arm: Any) -> tuple[int, int]:
    """How well a mapping fits a TypedDict arm: discriminators (Literal keys) matched, keys."""
    arm = _strip(arm)
    if not (typing.is_typeddict(arm) and isinstance(value, Mapping)):
        return (0, 0)
    hints = _hints(arm)
    tags = sum(
        1
        for key, kind in hints.items()
        if typing.get_origin(_strip(kind)) is Literal
        and value.get(key) in typing.get_args(_strip(kind))
    )
    return (tags, len(set(value) & set(hints)))


def _wrong(value: object, hint: Any, path: str) -> str:
    message = f"{path} is {_show(value)}"
    if _is_output(value):
        message = f"{path} is an Output (not known until deployment)"
    allowed = describe(hint)
    if _is_enum(hint) and (near := _nearest_member(value, hint)) is not None:
        return f"{message}; allowed: {allowed} (did you mean {_member(near)}?)"
    if isinstance(value, str) and "int" in allowed.split(" or "):
        try:
            number = quantity(value)
        except ValueError:
            pass
        else:
            allowed += f" (write {int(number)}, not {value!r})"
    return f"{message}; allowed: {allowed}"


def _nearest_member(value: object, hint: type[enum.Enum]) -> enum.Enum | None:
    """The member a plain value (a stack-file string, a misspelling) most likely meant."""
    by_text = {str(m.value).lower(): m for m in hint} | {m.name.lower(): m for m in hint}
    text = str(value).lower()
    near = difflib.get_close_matches(text, list(by_text), n=1, cutoff=0.6)
    return by_text[near[0]] if near else None


def _matches(value: object, hint: Any, path: str) -> bool:
    """Whether ``value`` has type ``hint``; raises _MismatchError for a wrong nested value."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any or hint is object or isinstance(hint, typing.TypeVar):
        return True
    if hint is None or hint is type(None):
        return value is None
    if origin is Literal:
        return any(value == a and type(value) is type(a) for a in args)
    if origin is not None:
        return _matches_generic(value, origin, args, path)
    if typing.is_typeddict(hint):
        _check_typed_dict(value, hint, path)
        return True
    if _is_enum(hint):  # a member, not its value: `ReclaimPolicy.RETAIN`, not "Retain"
        return type(value) is hint
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if not isinstance(hint, type):
        return True  # a typing form the components do not use: not checked
    if not isinstance(value, hint):
        return False
    if dataclasses.is_dataclass(hint):
        _check_dataclass(value, hint, path)
    return True


def _matches_generic(value: object, origin: Any, args: tuple[Any, ...], path: str) -> bool:
    if origin is pulumi.Output or origin is abc.Awaitable:
        return _is_output(value)
    if origin in (abc.Mapping, dict):
        return _matches_mapping(value, origin, args, path)
    if origin in (abc.Sequence, list, tuple):
        return _matches_sequence(value, origin, args, path)
    return isinstance(value, origin) if isinstance(origin, type) else True


def _matches_mapping(value: object, origin: Any, args: tuple[Any, ...], path: str) -> bool:
    if not isinstance(value, dict if origin is dict else Mapping):
        return False
    for key, item in value.items() if args else ():
        _check(key, args[0], f"{path} key {key!r}")
        _check(item, args[1], _join(path, key))
    return True


def _matches_sequence(value: object, origin: Any, args: tuple[Any, ...], path: str) -> bool:
    if isinstance(value, str | bytes) or not isinstance(value, origin):
        return False
    items = list(value)  # type: ignore[arg-type]
    if not args:
        return True
    if origin is tuple and args[-1] is not Ellipsis:
        if len(items) != len(args):
            return False
        kinds = list(args)
    else:
        kinds = [args[0]] * len(items)
    for i, (item, kind) in enumerate(zip(items, kinds, strict=True)):
        _check(item, kind, f"{path}[{i}]")
    return True


def _check_dataclass(value: object, cls: type, path: str) -> None:
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in hints:
            _check(getattr(value, f.name), hints[f.name], _join(path, f.name))
