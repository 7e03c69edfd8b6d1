"""R14: production EC2NodeClasses pin their AMIs (no `@latest`), so a new AMI release never
rolls through production nodes before it has run in a lower environment (Karpenter BPG)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy

from substrate.components.core.validators import alias_is_pinned

from ._props import UNKNOWN, by_type, items, plain, value
from ._types import EC2_NODE_CLASS


def _term_problem(term: Mapping[str, Any]) -> str | None:
    if "alias" in term:
        alias = str(term["alias"])
        return None if alias_is_pinned(alias) else f"alias {alias!r} follows every new release"
    if "id" in term:
        return None
    if "ssmParameter" in term:
        return f"ssmParameter {term['ssmParameter']!r} resolves to whatever it points at now"
    if "*" in str(term.get("name", "")):
        return f"name {term['name']!r} matches new AMIs as they are published"
    if "name" in term:
        return None
    return "a tags-only term selects any AMI that is tagged later"


def _check(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    if not config.get("requirePinnedAmi"):
        return []
    terms = value(props, "spec", "amiSelectorTerms")
    if terms is UNKNOWN:
        return []
    problems = []
    for i, raw in enumerate(items(terms)):
        term = plain(raw)
        problem = _term_problem(term) if isinstance(term, dict) else None
        if problem:
            problems.append(
                f"spec.amiSelectorTerms[{i}]: {problem}; pin a version (al2023@vYYYYMMDD, "
                "bottlerocket@x.y.z) or an AMI id"
            )
    if not items(terms):
        problems.append("spec.amiSelectorTerms is empty; pin a versioned alias or an AMI id")
    return problems


POLICY = ResourceValidationPolicy(
    name="r14-pinned-ami",
    description="R14: production EC2NodeClasses pin amiSelectorTerms (versioned alias or AMI "
    "id; no @latest, SSM parameters, wildcards or tags-only terms) (Karpenter BPG).",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={"requirePinnedAmi": {"type": "boolean", "default": False}}
    ),
    validate=by_type({EC2_NODE_CLASS: _check}),
)
