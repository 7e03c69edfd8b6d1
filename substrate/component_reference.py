"""Render docs/components.md from the component sources (`python -m substrate.component_reference`).

Reads `substrate/components/*/*.py` with `ast` (nothing is imported): each ComponentResource's type
token,
docstring and declared outputs, and every `*Args` TypedDict with its per-field docstrings.
tests/test_component_reference.py fails when the checked-in file is stale.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMPONENTS = ROOT / "substrate" / "components"
COMPONENT_BASES = {"ComponentResource", "Addon"}

HELPERS_HEADER = """## Helper types

Types the arguments above are built from. Units: integers count (CPU in cores, memory in bytes,
GPUs in devices, volumes in GiB, throughput in MiB/s, as each field says); strings with a unit are
Kubernetes quantities (`"512Gi"`, `"250m"`) or durations (`"10m"`, `"720h"`). A `Share` of memory
is bytes: `memory_bytes("64Gi")` from `substrate.components.workloads.tenancy`, not `"64Gi"`.

Every component checks its arguments when it is constructed, nested TypedDicts and these
dataclasses field by field, and refuses a misspelled key, a missing required key or a wrong type
with one line (`ArgsError`, a `TypeError` and `ValueError`; `substrate plan` exits 2):

```
StorageClasses args: reclaimPolicy is not a key; did you mean reclaim_policy?
Tenant args: tenant.memory.nominal is '64Gi'; allowed: int (write 68719476736, not '64Gi')
```
"""
TYPE_NAME = re.compile(r"\b[A-Z][A-Za-z0-9]+\b")


HEADER = """# Components

Generated from `components/` by `python -m substrate.component_reference`; do not edit.

Every component is a Pulumi `ComponentResource` you can import into your own program
(`from substrate.components.cluster.network import Network`). Arguments are a `TypedDict`; every
child resource is
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


@dataclass
class HelperDoc:
    name: str
    doc: str
    module: str
    fields: list[tuple[str, str, str, str]] = field(default_factory=list)
    """(field, type, default or "", description)"""
    typed_dict: ArgsDoc | None = None


def _field_doc(body: list[ast.stmt], i: int) -> str:
    nxt = body[i + 1] if i + 1 < len(body) else None
    if (
        isinstance(nxt, ast.Expr)
        and isinstance(nxt.value, ast.Constant)
        and isinstance(nxt.value.value, str)
    ):
        return " ".join(nxt.value.value.split())
    return ""


def _dataclass(node: ast.ClassDef, module: str) -> HelperDoc:
    doc = HelperDoc(node.name, ast.get_docstring(node) or "", module)
    for i, stmt in enumerate(node.body):
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            default = ast.unparse(stmt.value) if stmt.value is not None else ""
            if default.startswith("field(default_factory="):
                default = default.removeprefix("field(default_factory=").removesuffix(")") + "()"
            kind = ast.unparse(stmt.annotation)
            doc.fields.append((stmt.target.id, kind, default, _field_doc(node.body, i)))
    return doc


def _is_dataclass(node: ast.ClassDef) -> bool:
    names = [ast.unparse(d).split("(")[0] for d in node.decorator_list]
    return "dataclass" in names


def _alias(node: ast.stmt) -> tuple[str, str] | None:
    """A module-level type alias: `Name = Literal[...]` or `Name = A | B`."""
    if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
        return None
    target, value = node.targets[0], ast.unparse(node.value)
    if not isinstance(target, ast.Name):
        return None
    if value.startswith("Literal[") or re.fullmatch(r"[A-Z]\w+( \| [A-Z]\w+)+", value):
        return target.id, value
    return None


def collect_helpers(args: dict[str, ArgsDoc]) -> tuple[list[HelperDoc], dict[str, str]]:
    """Dataclasses, TypedDicts (not `*Args`) and type aliases the components' args use,
    directly or through each other."""
    helpers: dict[str, HelperDoc] = {}
    aliases: dict[str, str] = {}
    for path in sorted(COMPONENTS.glob("*/*.py")):
        module = path.relative_to(ROOT).as_posix()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef) and _is_dataclass(node):
                helpers[node.name] = _dataclass(node, module)
            elif (
                isinstance(node, ast.ClassDef)
                and "TypedDict" in _base_names(node)
                and node.name not in args
            ):
                helpers[node.name] = HelperDoc(node.name, "", module, typed_dict=_typed_dict(node))
            elif (alias := _alias(node)) is not None:
                aliases[alias[0]] = alias[1]
    todo = [n for a in args.values() for _, kind, _, _ in a.fields for n in TYPE_NAME.findall(kind)]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in aliases:
            todo += TYPE_NAME.findall(aliases[name])
        if name in helpers:
            h = helpers[name]
            kinds = [k for _, k, _, _ in h.fields] + [
                k for _, k, _, _ in (h.typed_dict.fields if h.typed_dict else [])
            ]
            todo += [n for k in kinds for n in TYPE_NAME.findall(k)]
    used = [helpers[n] for n in sorted(seen) if n in helpers]
    return used, {n: aliases[n] for n in sorted(seen) if n in aliases}


def _helper_table(doc: HelperDoc) -> list[str]:
    if doc.typed_dict is not None:
        lines = _args_table(doc.typed_dict)
        return [lines[0], "", f"`{doc.module}` · TypedDict", "", *lines[2:]]
    lines = [f"#### `{doc.name}`", "", f"`{doc.module}` · frozen dataclass", ""]
    if doc.doc:
        lines += [" ".join(doc.doc.split()), ""]
    lines += ["| Field | Type | Default | Description |", "|---|---|---|---|"]
    for name, kind, default, text in doc.fields:
        shown = f"`{default}`" if default else "required"
        lines.append(f"| `{name}` | `{_cell(kind)}` | {shown} | {text} |")
    return [*lines, ""]


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
    for path in sorted(COMPONENTS.glob("*/*.py")):
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
                        path.relative_to(ROOT).as_posix(),
                        outputs,
                    )
                )
    for name, bases in parents.items():
        # TypedDict inheritance: a subclass takes its bases' keys (e.g. AddonArgs).
        inherited = [f for base in bases if base in args for f in args[base].fields]
        args[name].fields = inherited + args[name].fields
    return components, args


def _cell(text: str) -> str:
    """A type in a Markdown table cell: `|` would end the cell."""
    return text.replace("|", "\\|")


def _args_table(doc: ArgsDoc) -> list[str]:
    lines = [f"#### `{doc.name}`", ""]
    if doc.doc:
        lines += [doc.doc, ""]
    lines += ["| Key | Type | Required | Description |", "|---|---|---|---|"]
    for key, kind, required, text in doc.fields:
        lines.append(f"| `{key}` | `{_cell(kind)}` | {'yes' if required else 'no'} | {text} |")
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
    helpers, aliases = collect_helpers(args)
    lines.append(HELPERS_HEADER)
    for helper in helpers:
        lines += _helper_table(helper)
    lines += ["### Type aliases", "", "| Alias | Type |", "|---|---|"]
    lines += [f"| `{name}` | `{_cell(kind)}` |" for name, kind in aliases.items()]
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "components.md"
    target.write_text(render())


if __name__ == "__main__":
    main()
