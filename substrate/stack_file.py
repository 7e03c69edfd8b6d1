"""Read a stack file the way the Pulumi CLI does, and say precisely what is wrong with it.

The Pulumi CLI decodes stack files with Go's yaml.v3: UTF-8 only, duplicate mapping keys refused,
and settings only under `config:`. Errors here are one line naming the file, the line and column
where that applies, and what to write instead. YAML's implicit timestamps are read as the
strings the user typed (a date is never what a config value means).
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import yaml

STACK_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")
"""Top-level keys of a Pulumi stack file."""


class StackFileError(Exception):
    """An unreadable or malformed stack file: one line, ready to print after `error: `."""


class _Loader(yaml.SafeLoader):
    """SafeLoader without implicit timestamps, refusing duplicate keys."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _DuplicateKey(yaml.MarkedYAMLError):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            first = seen[key].start_mark
            raise _DuplicateKey(
                problem=f"duplicate key {key!r} (first at line {first.line + 1}); the Pulumi CLI "
                "refuses duplicate keys: keep one",
                problem_mark=key_node.start_mark,
            )
        seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _position(text: bytes, offset: int) -> tuple[int, int]:
    before = text[:offset]
    line = before.count(b"\n") + 1
    column = offset - (before.rfind(b"\n") + 1) + 1
    return line, column


def _decode(data: bytes, shown: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line, column = _position(data, err.start)
        raise StackFileError(
            f"{shown}:{line}:{column}: byte 0x{data[err.start]:02x} is not UTF-8 (save the file "
            "as UTF-8)"
        ) from None


def _syntax(err: yaml.YAMLError, shown: str) -> StackFileError:
    if isinstance(err, yaml.MarkedYAMLError) and err.problem_mark is not None:
        mark = err.problem_mark
        where = f"{shown}:{mark.line + 1}:{mark.column + 1}"
        problem = err.problem or "invalid YAML"
        context = ""
        if err.context and err.context_mark is not None:
            context = f" ({err.context} at line {err.context_mark.line + 1})"
        kind = "" if isinstance(err, _DuplicateKey) else "YAML syntax error: "
        return StackFileError(f"{where}: {kind}{problem}{context}")
    return StackFileError(f"{shown}: not valid YAML ({str(err).splitlines()[0]})")


def lookalike(text: str) -> str | None:
    """A description of the first non-ASCII character in ``text`` (keys are ASCII)."""
    for char in text:
        if not char.isascii():
            name = unicodedata.name(char, "unnamed character")
            plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
            looks = f" that looks like {plain!r}" if plain else ""
            return f"contains {char!r} (U+{ord(char):04X} {name}){looks}"
    return None


def read(path: Path, shown: str) -> dict[str, Any]:
    """The `config:` block of the stack file at ``path`` (``shown`` names it in errors)."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise StackFileError(f"{shown}: cannot be read ({err.strerror})") from None
    text = _decode(data, shown)
    try:
        document = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as err:
        raise _syntax(err, shown) from None
    if document is None:
        raise StackFileError(
            f"{shown}: is empty; a stack file is a mapping with `config:` holding aws:region "
            "and the substrate:* sections"
        )
    if not isinstance(document, dict):
        kind = "a list" if isinstance(document, list) else f"a {type(document).__name__}"
        raise StackFileError(
            f"{shown}: is {kind}; a stack file is a mapping with `config:` holding aws:region "
            "and the substrate:* sections"
        )
    stray = sorted(str(k) for k in document if str(k) not in STACK_KEYS and ":" in str(k))
    if stray:
        raise StackFileError(
            f"{shown}: {', '.join(stray)} sit outside `config:`; indent them under `config:`"
        )
    config = document.get("config", {})
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise StackFileError(f"{shown}: `config` must be a mapping of keys to values")
    return config
