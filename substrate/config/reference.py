"""Render docs/configuration.md from the config dataclasses.

Run `python -m substrate.config.reference`; tests/config/test_reference.py fails when the
checked-in file is stale.
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from pathlib import Path
from typing import Any

from substrate.config.platform import PlatformConfig, sections
from substrate.config.schema import camel, field_docs

HEADER = """# Stack configuration reference

Generated from `substrate/config/` by `python -m substrate.config.reference`; do not edit.

Every key lives under the `substrate:` namespace of `stacks/Pulumi.<stack>.yaml` (plus
`aws:region`). An unknown key, a wrong type or an invalid value stops `pulumi up` and
`substrate plan` before any resource is declared, with one line naming the key path, the value
and what is allowed (exit status 2 for `substrate plan`).
"""


def _nested(tp: Any) -> list[type]:
    """Config dataclasses reachable from a field type."""
    found: list[type] = []
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return [tp]
    for arg in typing.get_args(tp) if origin is not None else ():
        found += _nested(arg)
    return found


def _element(tp: Any) -> str:
    """Path suffix for a field holding dataclasses by name (`.<name>`) or in a list (`[]`)."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _element(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return "".join(_element(a) for a in typing.get_args(tp) if a is not type(None))
    if origin is dict:
        return ".<name>"
    if origin is list:
        return "[]"
    return ""


def _render(cls: type, path: str, seen: set[type]) -> list[str]:
    if cls in seen:
        return []
    seen.add(cls)
    lines = [
        f"## `{path}`",
        "",
        (cls.__doc__ or "").strip(),
        "",
        "| Key | Type | Default | Description |",
        "|---|---|---|---|",
    ]
    for key, kind, default, doc in field_docs(cls):
        lines.append(f"| `{key}` | {kind} | `{default}` | {doc} |")
    lines.append("")
    hints = typing.get_type_hints(cls, include_extras=True)
    for field in dataclasses.fields(cls):
        for sub in _nested(hints[field.name]):
            lines += _render(sub, f"{path}.{camel(field.name)}{_element(hints[field.name])}", seen)
    return lines


def render() -> str:
    lines = [HEADER]
    hints = typing.get_type_hints(PlatformConfig, include_extras=True)
    seen: set[type] = set()
    for key, field in sections().items():
        for cls in _nested(hints[field.name]):
            lines += _render(cls, f"substrate:{key}{_element(hints[field.name])}", seen)
        if not _nested(hints[field.name]):
            lines += [f"## `substrate:{key}`", "", field.metadata.get("doc", ""), ""]
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/configuration.md")
    target.write_text(render())


if __name__ == "__main__":
    main()
