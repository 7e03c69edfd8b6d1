"""A small, strict schema for stack files.

Config sections are frozen dataclasses whose fields carry a docstring (``doc``) and whose YAML
keys are the camelCase form of the field name. ``parse(cls, raw, path)`` turns plain YAML data
into those objects or raises :class:`ConfigError`, a single line naming the key path, the bad
value and what is allowed. Nothing here knows about Pulumi.

Supported field types: ``str``, ``int``, ``bool``, ``float``, ``Literal[...]``, ``list[T]``,
``dict[str, T]``, ``T | None``, nested config dataclasses, ``IPv4Network`` and
``Annotated[T, check, ...]`` where each check is a callable ``check(value) -> None`` that raises
:class:`Invalid`. A dataclass may define ``check(self, path)`` for rules that span fields.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import json
import types
import typing
import unicodedata
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

T = TypeVar("T")


class ConfigError(Exception):
    """An invalid stack file: one line naming the key path, the value and what is allowed."""

    def __init__(self, path: str, value: object, problem: str, allowed: str) -> None:
        self.path = path
        self.value = value
        self.problem = problem
        self.allowed = allowed
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.path} = {show(self.value)}: {self.problem} (allowed: {self.allowed})"


class Invalid(Exception):  # noqa: N818 - raised by checks, turned into ConfigError with a path
    """Raised by a field check; the parser adds the key path and value."""

    def __init__(self, problem: str, allowed: str) -> None:
        self.problem = problem
        self.allowed = allowed
        super().__init__(problem)


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING_VALUE = _Missing()


def is_secret(value: object) -> bool:
    """A Pulumi secret as a stack file holds it (`key: {secure: v1:...}`)."""
    return isinstance(value, Mapping) and set(value) == {"secure"}


def show(value: object) -> str:
    """Render a config value the way it would be written in YAML/JSON, on one line; a secret is
    never shown."""
    if value is MISSING_VALUE:
        return "<missing>"
    if is_secret(value):
        return "[secret]"
    if isinstance(value, ipaddress.IPv4Network):
        return json.dumps(str(value))
    try:
        text = json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def doc(text: str, default: Any = dataclasses.MISSING, factory: Any = dataclasses.MISSING) -> Any:
    """Declare a config field with its documentation and optional default."""
    if factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=factory, metadata={"doc": text})
    return dataclasses.field(default=default, metadata={"doc": text})


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def key_path(path: str, key: str) -> str:
    if key.replace("-", "").replace("_", "").isalnum():
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    return {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "list",
        dict: "mapping",
    }.get(type(value), type(value).__name__)


def _wrong_type(path: str, value: object, expected: str) -> ConfigError:
    problem = f"is a {_type_name(value)}"
    if expected == "a string" and isinstance(value, int | float) and not isinstance(value, bool):
        problem += ", and YAML reads unquoted numbers as numbers (quote it)"
    return ConfigError(path, value, problem, expected)


def parse(tp: Any, raw: Any, path: str) -> Any:  # noqa: PLR0912 - one branch per type form
    """Parse ``raw`` (plain YAML data) as type ``tp`` at ``path``; raise ConfigError."""
    origin = get_origin(tp)
    if origin is typing.Annotated:
        base, *checks = get_args(tp)
        if base is str and isinstance(raw, int | float) and not isinstance(raw, bool):
            _unquoted(str(raw), checks, path, raw)
        value = parse(base, raw, path)
        for check in checks:
            try:
                check(value)
            except Invalid as err:
                raise ConfigError(path, raw, err.problem, err.allowed) from None
        return value
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        if raw is None:
            return None
        if len(options) != 1:
            raise TypeError(f"unsupported union {tp!r}")
        return parse(options[0], raw, path)
    if origin is Literal:
        allowed = get_args(tp)
        if raw in allowed and type(raw) is type(allowed[0]):
            return raw
        raise ConfigError(
            path, raw, "is not one of the allowed values", ", ".join(show(a) for a in allowed)
        )
    if origin is list:
        (item,) = get_args(tp)
        if not isinstance(raw, list):
            raise _wrong_type(path, raw, "a list")
        return [parse(item, x, f"{path}[{i}]") for i, x in enumerate(raw)]
    if origin is dict:
        key_type, item = get_args(tp)
        if not isinstance(raw, dict):
            raise _wrong_type(path, raw, "a mapping")
        out = {}
        for k, v in raw.items():
            if not isinstance(k, str):
                raise ConfigError(key_path(path, str(k)), k, "is not a string key", "string keys")
            where = key_path(path, k)
            out[parse(key_type, k, where)] = parse(item, v, where)
        return out
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return parse_section(tp, raw, path)
    return _parse_scalar(tp, raw, path)


def _unquoted(text: str, checks: list[Any], path: str, raw: Any) -> None:
    """A number where a checked string belongs: when the checks find its unit missing (a
    duration, a size), say that; quoting would not fix it."""
    for check in checks:
        try:
            check(text)
        except Invalid as err:
            if "unit" in err.problem:
                raise ConfigError(path, raw, err.problem, err.allowed) from None


def _parse_scalar(tp: Any, raw: Any, path: str) -> Any:
    if tp is ipaddress.IPv4Network:
        if not isinstance(raw, str):
            raise _wrong_type(path, raw, 'an IPv4 CIDR string such as "10.0.0.0/16"')
        try:
            return ipaddress.IPv4Network(raw, strict=True)
        except ValueError as err:
            raise ConfigError(
                path,
                raw,
                f"does not parse as an IPv4 CIDR ({err})",
                'a network address with prefix length, such as "10.0.0.0/16"',
            ) from None
    if tp is bool:
        if isinstance(raw, bool):
            return raw
        raise _wrong_type(path, raw, "true or false")
    if tp is int:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        raise _wrong_type(path, raw, "an integer")
    if tp is float:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return float(raw)
        raise _wrong_type(path, raw, "a number")
    if tp is str:
        if isinstance(raw, str):
            return raw
        raise _wrong_type(path, raw, "a string")
    if tp is Any:
        return raw
    raise TypeError(f"unsupported config type {tp!r} at {path}")


def section_keys(cls: type) -> dict[str, dataclasses.Field[Any]]:
    """The YAML keys of a config dataclass, mapped to their fields."""
    return {camel(f.name): f for f in dataclasses.fields(cls)}


def suggest(key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if not close:
        lowered = {a.lower(): a for a in allowed}
        if key.lower() in lowered:
            close = [lowered[key.lower()]]
    if not close:
        return "unknown key"
    lookalike = _lookalike(key, close[0])
    if lookalike:
        return f"unknown key: {lookalike}; did you mean {json.dumps(close[0])}?"
    return f"unknown key; did you mean {json.dumps(close[0])}?"


def _lookalike(key: str, intended: str) -> str | None:
    """The non-ASCII characters that make ``key`` differ from ``intended`` where they stand."""
    if len(key) != len(intended):
        return None
    diffs = [(k, i) for k, i in zip(key, intended, strict=True) if k != i]
    if not diffs or any(k.isascii() for k, _ in diffs):
        return None
    k, i = diffs[0]
    name = unicodedata.name(k, "unnamed character")
    return f"{k!r} is U+{ord(k):04X} {name}, not {i!r}"


def parse_section(cls: type[T], raw: Any, path: str) -> T:
    """Parse a mapping into the config dataclass ``cls``."""
    if not isinstance(raw, dict):
        raise _wrong_type(path, raw, f"a mapping with keys {', '.join(section_keys(cls))}")
    keys = section_keys(cls)
    for key in raw:
        if key not in keys:
            raise ConfigError(
                key_path(path, str(key)),
                raw[key],
                suggest(str(key), list(keys)),
                "keys " + ", ".join(sorted(keys)),
            )
    hints = get_type_hints(cls, include_extras=True)
    kwargs = {}
    for key, field in keys.items():
        if key in raw:
            kwargs[field.name] = parse(hints[field.name], raw[key], key_path(path, key))
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ConfigError(
                key_path(path, key), MISSING_VALUE, "is required", describe(hints[field.name])
            )
    obj = cls(**kwargs)
    check = getattr(obj, "check", None)
    if callable(check):
        check(path)
    return obj


def describe(tp: Any) -> str:
    """A short human description of what a type accepts, for 'is required' errors."""
    origin = get_origin(tp)
    if origin is typing.Annotated:
        return describe(get_args(tp)[0])
    if origin is Literal:
        return ", ".join(show(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        options = [describe(a) for a in get_args(tp) if a is not type(None)]
        return " or ".join([*options, "null"])
    if origin is list:
        return f"a list of {_bare(describe(get_args(tp)[0]))}"
    if origin is dict:
        return f"a mapping of {_bare(describe(get_args(tp)[1]))}"
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return "a mapping with keys " + ", ".join(section_keys(tp))
    if tp is ipaddress.IPv4Network:
        return "an IPv4 CIDR"
    return {str: "a string", int: "an integer", bool: "true or false", float: "a number"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


def _bare(text: str) -> str:
    for article in ("a ", "an "):
        if text.startswith(article):
            return text[len(article) :]
    return text


def field_docs(cls: type) -> list[tuple[str, str, str, str]]:
    """(key, type, default, doc) rows for a config dataclass, for generated reference docs."""
    hints = get_type_hints(cls, include_extras=True)
    rows = []
    for key, field in section_keys(cls).items():
        if field.default is not dataclasses.MISSING:
            default = show(field.default)
        elif field.default_factory is not dataclasses.MISSING:
            default = show(_plain(field.default_factory()))
        else:
            default = "required"
        rows.append((key, describe(hints[field.name]), default, field.metadata.get("doc", "")))
    return rows


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {camel(f.name): _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value
