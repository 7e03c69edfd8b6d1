"""Render docs/components.md from the package schema (`python -m substrate.component_reference`).

The schema is the one Pulumi's analyzer infers from the components and the provider serves
(`substrate.provider.schema()`): each component's description, inputs and outputs with the
per-field docstrings, and the enums and object types they use. There is no second
source: tests/test_component_reference.py fails when the checked-in file is stale.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from substrate import provider
from substrate.components import PUBLIC

ROOT = Path(__file__).resolve().parents[1]
PREFIX = f"{provider.PACKAGE}:index:"

HEADER = f"""# Components

Generated from the package schema by `python -m substrate.component_reference`; do not edit.
The schema is what Pulumi's component analyzer infers from the components' type annotations
and field docstrings, and what the provider in `provider/` serves to `pulumi package add`.

Every component is a Pulumi `ComponentResource`. In Python, import it from the package
(`from substrate.components import Network, NetworkArgs`) and pass its arguments as a dict with
the **Python key**; other languages use the **schema name** through the generated SDK. Every
child resource is parented to the component and named `<name>-<suffix>`; AWS children carry
the `tags` you pass; Kubernetes children use the provider you pass in `opts`
(`providers={{"kubernetes": ...}}`). Choices are Enums (`ReclaimPolicy.RETAIN`, not
`"Retain"`). **Plain** inputs must be known while the program runs (not an Output).

Every component checks its arguments when it is constructed and refuses a misspelled key, a
missing required key, a wrong type or a value outside an Enum with one line (`ArgsError`):

```
StorageClasses args: reclaimPolicy is not a key; did you mean reclaim_policy?
StorageClasses args: reclaim_policy is 'Retain'; allowed: ReclaimPolicy.DELETE or \
ReclaimPolicy.RETAIN (did you mean ReclaimPolicy.RETAIN?)
```

The package type tokens are `{PREFIX}<Component>`.
"""


def snake(name: str) -> str:
    """The Python key of a schema name (the analyzer camel-cases snake_case keys)."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _cell(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def type_of(spec: dict[str, Any]) -> str:
    """A schema property's type in words: `str`, `list[str]`, `map[str, int]`, a type link."""
    ref = spec.get("$ref")
    if ref == "pulumi.json#/Any":
        return "any"
    if ref:
        name = ref.rsplit(":", 1)[-1]
        return f"[`{name}`](#{name.lower()})"
    kind = spec.get("type")
    if kind == "array":
        return f"list[{type_of(spec['items'])}]"
    if kind == "object" and "additionalProperties" in spec:
        return f"map[str, {type_of(spec['additionalProperties'])}]"
    return {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}.get(
        str(kind), str(kind)
    )


def _properties(props: dict[str, Any], required: list[str], inputs: bool) -> list[str]:
    head = "| Python key | Schema name | Type | Required | Plain | Description |"
    if not inputs:
        head = "| Python attribute | Schema name | Type | Description |"
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for name, spec in props.items():
        cells = [f"`{snake(name)}`", f"`{name}`", type_of(spec)]
        if inputs:
            cells += ["yes" if name in required else "no", "yes" if spec.get("plain") else "no"]
        lines.append("| " + " | ".join([*cells, _cell(spec.get("description"))]) + " |")
    return lines


def _component(token: str, resource: dict[str, Any]) -> list[str]:
    name = token.removeprefix(PREFIX)
    lines = [f"## `{name}`", "", f"`{token}` · `from {PUBLIC[name]} import {name}`", ""]
    if resource.get("description"):
        lines += [resource["description"].strip(), ""]
    inputs = resource.get("inputProperties", {})
    lines += ["### Inputs", ""]
    lines += [*_properties(inputs, resource.get("requiredInputs", []), inputs=True), ""]
    if resource.get("properties"):
        lines += ["### Outputs", ""]
        lines += [*_properties(resource["properties"], [], inputs=False), ""]
    return lines


def _type(token: str, spec: dict[str, Any]) -> list[str]:
    name = token.removeprefix(PREFIX)
    lines = [f"### `{name}`", ""]
    if spec.get("description"):
        lines += [" ".join(spec["description"].split()), ""]
    if "enum" in spec:
        lines += ["| Member | Value | Description |", "|---|---|---|"]
        for member in spec["enum"]:
            value = member["value"]
            lines.append(
                f"| `{name}.{member['name']}` | `{value!r}` | {_cell(member.get('description'))} |"
            )
        return [*lines, ""]
    props = spec.get("properties", {})
    return [*lines, *_properties(props, spec.get("required", []), inputs=True), ""]


def render(schema: dict[str, Any] | None = None) -> str:
    schema = schema if schema is not None else provider.schema()
    lines = [HEADER]
    for token in sorted(schema["resources"]):
        lines += _component(token, schema["resources"][token])
    lines += ["## Types", "", "Enums and object types the inputs and outputs above use.", ""]
    for token in sorted(schema.get("types", {})):
        lines += _type(token, schema["types"][token])
    lines += [
        "## Base class: `Addon`",
        "",
        f"`from {PUBLIC['Addon']} import Addon, AddonArgs, AddonSpec`: the base class of the",
        "Helm add-ons above (pinned chart, namespace with Pod Security labels, optional Pod",
        "Identity role, the `release` output). It has no constructor or args of its own, so it is",
        "not a component and not in the schema; a Python program may subclass it for its own",
        "chart (the chart must be pinned in `substrate.components.core.versions.CHARTS`).",
    ]
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "components.md"
    target.write_text(render())


if __name__ == "__main__":
    main()
