"""Render docs/components.md from the component sources (`python -m substrate.component_reference`).

Reads `components/*.py` with `ast` (nothing is imported): each ComponentResource's type token,
docstring and declared outputs, and every `*Args` TypedDict with its per-field docstrings.
tests/test_component_reference.py fails when the checked-in file is stale.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMPONENTS = ROOT / "components"
COMPONENT_BASES = {"ComponentResource", "Addon"}

HEADER = """# Components

Generated from `components/` by `python -m substrate.component_reference`; do not edit.

Every component is a Pulumi `ComponentResource` you can import into your own program
(`from components.network import Network`). Arguments are a `TypedDict`; every child resource is
parented to the component and named `<name>-<suffix>`; AWS children carry the `tags` you pass;
Kubernetes children use the provider you pass in `opts` (`providers={"kubernetes": ...}`).
"""


@dataclass
class ArgsDoc:
    name: str
    doc: str
    fields: list[tuple[str, str, bool, str]] = field(default_factory=list)
    """(key, type, required, description)"""


@dataclass
class ComponentDoc:
    name: str
    token: str
    doc: str
    module: str
    outputs: list[tuple[str, str]] = field(default_factory=list)


def _base_names(node: ast.ClassDef) -> set[str]:
    names = set()
    for base in node.bases:
        if isinstance(base, ast.Attribute):
            names.add(base.attr)
        elif isinstance(base, ast.Name):
            names.add(base.id)
    return names


def _typed_dict(node: ast.ClassDef) -> ArgsDoc:
    args = ArgsDoc(node.name, ast.get_docstring(node) or "")
    body = node.body
    for i, stmt in enumerate(body):
        if not isinstance(stmt, ast.AnnAssign) or not isinstance(stmt.target, ast.Name):
            continue
        annotation = ast.unparse(stmt.annotation)
        required = annotation.startswith("Required[") or (
            "total=False" not in ast.unparse(node) and not annotation.startswith("NotRequired[")
        )
        for wrapper in ("Required[", "NotRequired["):
            if annotation.startswith(wrapper):
                annotation = annotation[len(wrapper) : -1]
        nxt = body[i + 1] if i + 1 < len(body) else None
        doc = (
            nxt.value.value
            if isinstance(nxt, ast.Expr)
            and isinstance(nxt.value, ast.Constant)
            and isinstance(nxt.value.value, str)
            else ""
        )
        args.fields.append((stmt.target.id, annotation, required, " ".join(doc.split())))
    return args


def _token(node: ast.ClassDef) -> str:
    for call in ast.walk(node):
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "__init__"
            and call.args
            and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str)
        ):
            return call.args[0].value
    return ""


def collect() -> tuple[list[ComponentDoc], dict[str, ArgsDoc]]:
    components: list[ComponentDoc] = []
    args: dict[str, ArgsDoc] = {}
    parents: dict[str, list[str]] = {}
    for path in sorted(COMPONENTS.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            bases = _base_names(node)
            if node.name.endswith("Args") and (
                "TypedDict" in bases or any(b.endswith("Args") for b in bases)
            ):
                args[node.name] = _typed_dict(node)
                parents[node.name] = [b for b in sorted(bases) if b.endswith("Args")]
            elif bases & COMPONENT_BASES and _token(node):
                outputs = [
                    (s.target.id, ast.unparse(s.annotation))
                    for s in node.body
                    if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
                ]
                components.append(
                    ComponentDoc(
                        node.name,
                        _token(node),
                        ast.get_docstring(node) or "",
                        f"components/{path.name}",
                        outputs,
                    )
                )
    for name, bases in parents.items():
        # TypedDict inheritance: a subclass takes its bases' keys (e.g. AddonArgs).
        inherited = [f for base in bases if base in args for f in args[base].fields]
        args[name].fields = inherited + args[name].fields
    return components, args


def _args_table(doc: ArgsDoc) -> list[str]:
    lines = [f"#### `{doc.name}`", ""]
    if doc.doc:
        lines += [doc.doc, ""]
    lines += ["| Key | Type | Required | Description |", "|---|---|---|---|"]
    for key, kind, required, text in doc.fields:
        lines.append(f"| `{key}` | `{kind}` | {'yes' if required else 'no'} | {text} |")
    return [*lines, ""]


def render() -> str:
    components, args = collect()
    lines = [HEADER]
    used: set[str] = set()
    for comp in sorted(components, key=lambda c: c.name):
        lines += [f"## `{comp.name}`", "", f"`{comp.token}` · `{comp.module}`", ""]
        if comp.doc:
            lines += [comp.doc, ""]
        own = [a for a in args.values() if a.name == f"{comp.name}Args"]
        if own:
            lines += ["### Inputs", ""]
            for doc in own:
                lines += _args_table(doc)
                used.add(doc.name)
        if comp.outputs:
            lines += ["### Outputs", "", "| Output | Type |", "|---|---|"]
            lines += [f"| `{name}` | `{kind}` |" for name, kind in comp.outputs]
            lines.append("")
    nested = [a for name, a in sorted(args.items()) if name not in used]
    if nested:
        lines += ["## Nested argument types", ""]
        for doc in nested:
            lines += _args_table(doc)
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "components.md"
    target.write_text(render())


if __name__ == "__main__":
    main()
