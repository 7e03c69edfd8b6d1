"""Read Karpenter's reference CloudFormation template (karpenter/cloudformation.yaml).

It uses CloudFormation's short intrinsic tags (`!Sub`, `!GetAtt`, `!Ref`), which
`yaml.safe_load` rejects; the loader here keeps them as `{"Fn::Sub": ...}`-style values, and
`substitute` fills `${...}` placeholders so the JSON policy documents can be parsed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml


class CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader that tolerates CloudFormation intrinsic-function tags."""


def _intrinsic(name: str):
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            return {name: loader.construct_scalar(node)}
        if isinstance(node, yaml.SequenceNode):
            return {name: loader.construct_sequence(node, deep=True)}
        return {name: loader.construct_mapping(node, deep=True)}  # type: ignore[arg-type]

    return construct


for _tag, _name in (("!Sub", "Fn::Sub"), ("!GetAtt", "Fn::GetAtt"), ("!Ref", "Ref")):
    CloudFormationLoader.add_constructor(_tag, _intrinsic(_name))


def load_template(crd_dir: Path) -> dict[str, Any]:
    path = crd_dir / "karpenter" / "cloudformation.yaml"
    return yaml.load(path.read_text(), Loader=CloudFormationLoader)


def substitute(text: str, values: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise KeyError(f"no value for ${{{key}}} in the upstream template")
        return values[key]

    return re.sub(r"\$\{([^}]+)\}", replace, text)


def managed_policy_statements(
    template: Mapping[str, Any], values: Mapping[str, str]
) -> dict[str, list[dict[str, Any]]]:
    """Policy name -> statements, for every AWS::IAM::ManagedPolicy in the template."""
    out = {}
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::IAM::ManagedPolicy":
            continue
        document = resource["Properties"]["PolicyDocument"]["Fn::Sub"]
        out[name] = json.loads(substitute(document, values))["Statement"]
    return out


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
