"""Human-readable summaries of a plan: text for terminals, Markdown for PR comments."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from substrate.plan.manifests import owning_component
from substrate.plan.mocks import UNPINNED_ADDON
from substrate.plan.policy import Violation
from substrate.plan.recorder import ResourceRecord


@dataclass(frozen=True)
class Summary:
    project: str
    stack: str
    components: dict[str, Counter[str]]
    """Component name -> resource type -> count: each resource counts under its nearest
    enclosing component, the directory its manifests are written to."""
    component_types: dict[str, str]
    edges: list[tuple[str, str]]
    """(component, component it depends on)."""
    violations: list[Violation]
    manifests: int
    helm_releases: int
    addons: list[tuple[str, str]] = field(default_factory=list)
    """(EKS managed add-on, version): the pinned version, or how EKS resolves an unpinned one."""

    @property
    def total(self) -> int:
        return sum(sum(c.values()) for c in self.components.values())

    def by_level(self) -> Counter[str]:
        return Counter(v.enforcement for v in self.violations)


def summarize(
    project: str,
    stack: str,
    records: Sequence[ResourceRecord],
    *,
    violations: Sequence[Violation],
    manifests: int,
    helm_releases: int,
) -> Summary:
    by_urn = {r.urn: r for r in records}
    components: dict[str, Counter[str]] = defaultdict(Counter)
    kinds: dict[str, str] = {}
    edges: set[tuple[str, str]] = set()
    for record in records:
        if record.type.startswith("substrate:"):
            kinds[record.name] = record.type
            continue
        home = owning_component(record, by_urn)
        for dep in record.dependencies:
            if dep in by_urn:
                other = by_urn[dep]
                target = (
                    other.name
                    if other.type.startswith("substrate:")
                    else owning_component(other, by_urn)
                )
                if target != home:
                    edges.add((home, target))
        components[home][record.type] += 1
    if "stack" in components:
        kinds["stack"] = "outside any component"
    addons = sorted(
        (str(r.inputs.get("addonName")), _addon_version(r.inputs.get("addonVersion")))
        for r in records
        if r.type == ADDON
    )
    return Summary(
        project,
        stack,
        dict(sorted(components.items())),
        kinds,
        sorted(edges),
        list(violations),
        manifests,
        helm_releases,
        addons,
    )


ADDON = "aws:eks/addon:Addon"


def _addon_version(version: object) -> str:
    text = str(version)
    prefix = UNPINNED_ADDON.format("")
    if text.startswith(prefix):
        return f"unpinned: EKS's default for {text.removeprefix(prefix)}, resolved at deploy"
    return text


def plural(count: int, noun: str) -> str:
    """`1 resource`, `2 resources`."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def headline(summary: Summary) -> str:
    """What a plan holds, counted the way `substrate diff` counts: resources other than
    components."""
    return (
        f"{plural(summary.total, 'resource')} in {plural(len(summary.components), 'component')}"
        f", {plural(summary.manifests, 'Kubernetes manifest')}, "
        f"{plural(summary.helm_releases, 'Helm release')}"
    )


def text(summary: Summary) -> str:
    levels = summary.by_level()
    lines = [f"substrate plan {summary.stack}: {headline(summary)}"]
    for name, types in summary.components.items():
        kind = summary.component_types.get(name, "")
        lines.append(f"  {name} ({kind}): {sum(types.values())}")
        for typ, count in sorted(types.items()):
            lines.append(f"      {count:4d}  {typ}")
    if summary.addons:
        lines.append("EKS add-ons:")
        lines += [f"  {name} {version}" for name, version in summary.addons]
    lines.append(
        f"policy violations: {levels.get('mandatory', 0)} mandatory, "
        f"{levels.get('advisory', 0)} advisory"
    )
    for v in summary.violations:
        lines.append(f"  [{v.enforcement}] {v.policy}: {v.urn.rsplit('::', 1)[-1]}: {v.message}")
    return "\n".join(lines) + "\n"


def mermaid(summary: Summary) -> str:
    ids = {name: f"c{i}" for i, name in enumerate(summary.components)}
    lines = ["```mermaid", "flowchart LR"]
    for name, node in ids.items():
        count = plural(sum(summary.components[name].values()), "resource")
        lines.append(f'  {node}["{name}<br/>{count}"]')
    for source, target in summary.edges:
        if source in ids and target in ids:
            lines.append(f"  {ids[source]} --> {ids[target]}")
    lines.append("```")
    return "\n".join(lines)


def markdown(summary: Summary) -> str:
    levels = summary.by_level()
    status = "❌" if levels.get("mandatory") else "✅"
    out = [
        f"### {status} `substrate plan {summary.stack}`",
        "",
        f"{plural(summary.total, 'resource')} · "
        f"{plural(summary.manifests, 'Kubernetes manifest')} · "
        f"{plural(summary.helm_releases, 'Helm release')} · "
        f"{levels.get('mandatory', 0)} mandatory / {levels.get('advisory', 0)} advisory policy "
        "violations",
        "",
        mermaid(summary),
        "",
        "| Component | Kind | Resources |",
        "|---|---|---:|",
    ]
    for name, types in summary.components.items():
        out.append(
            f"| `{name}` | `{summary.component_types.get(name, '')}` | {sum(types.values())} |"
        )
    out += ["", "<details><summary>Resources by type</summary>", ""]
    for name, types in summary.components.items():
        out.append(f"**{name}**: " + ", ".join(f"`{t}`: {c}" for t, c in sorted(types.items())))
        out.append("")
    out.append("</details>")
    if summary.addons:
        out += ["", "| EKS add-on | Version |", "|---|---|"]
        out += [f"| `{name}` | {version} |" for name, version in summary.addons]
    if summary.violations:
        out += ["", "| Level | Policy | Resource | Message |", "|---|---|---|---|"]
        for v in summary.violations:
            message = v.message.replace("|", "\\|").replace("\n", " ")
            out.append(
                f"| {v.enforcement} | `{v.policy}` | `{v.urn.rsplit('::', 1)[-1]}` | {message} |"
            )
    return "\n".join(out) + "\n"


def as_json(summary: Summary) -> str:
    data: Mapping[str, Any] = {
        "project": summary.project,
        "stack": summary.stack,
        "resources": summary.total,
        "components": {k: dict(sorted(v.items())) for k, v in summary.components.items()},
        "manifests": summary.manifests,
        "helmReleases": summary.helm_releases,
        "violations": [v.as_dict() for v in summary.violations],
        "addons": dict(summary.addons),
    }
    return json.dumps(data, indent=2, sort_keys=True) + "\n"
