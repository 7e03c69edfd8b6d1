"""Render a PlanDiff as text (terminal) or Markdown (pull-request comment)."""

from __future__ import annotations

import json
from typing import Any

from substrate.diff.compare import PlanDiff, ResourceDiff
from substrate.plan.report import plural

MAX_VALUE = 120


def _short(value: Any) -> str:
    text = "∅" if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _label(r: ResourceDiff) -> str:
    return f"{r.type} {r.name}"


def text(diff: PlanDiff, base: str) -> str:
    if diff.identical:
        return f"substrate diff {diff.stack}: no changes against {base}\n"
    lines = [
        f"substrate diff {diff.stack} (against {base}): {len(diff.added)} added, "
        f"{len(diff.removed)} removed, {len(diff.changed)} changed (resources), "
        f"{plural(len(diff.introduced), 'violation')} introduced, {len(diff.fixed)} fixed"
    ]
    lines += [f"  + {_label(r)}" for r in diff.added]
    lines += [f"  - {_label(r)}" for r in diff.removed]
    for r in diff.changed:
        lines.append(f"  ~ {_label(r)}")
        lines += [f"      {c.path}: {_short(c.old)} → {_short(c.new)}" for c in r.changes]
    lines += [
        f"  ! introduced [{v['enforcement']}] {v['policy']}: {v['message']}"
        for v in diff.introduced
    ]
    lines += [f"  ✓ fixed [{v['enforcement']}] {v['policy']}: {v['message']}" for v in diff.fixed]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    return "`" + _short(value).replace("|", "\\|").replace("`", "'") + "`"


def markdown(diff: PlanDiff, base: str) -> str:
    if diff.identical:
        return f"### `substrate diff {diff.stack}`\n\nNo changes against `{base}`.\n"
    out = [
        f"### `substrate diff {diff.stack}` against `{base}`",
        "",
        f"{len(diff.added)} added · {len(diff.removed)} removed · {len(diff.changed)} changed · "
        f"{plural(len(diff.introduced), 'policy violation')} introduced · "
        f"{len(diff.fixed)} fixed",
        "",
    ]
    if diff.added or diff.removed:
        out += ["| | Resource |", "|---|---|"]
        out += [f"| added | `{_label(r)}` |" for r in diff.added]
        out += [f"| removed | `{_label(r)}` |" for r in diff.removed]
        out.append("")
    if diff.changed:
        out += ["| Resource | Input | Before | After |", "|---|---|---|---|"]
        for r in diff.changed:
            for c in r.changes:
                out.append(f"| `{_label(r)}` | `{c.path}` | {_cell(c.old)} | {_cell(c.new)} |")
        out.append("")
    if diff.introduced or diff.fixed:
        out += ["| Policy | Level | Resource | Message | |", "|---|---|---|---|---|"]
        for mark, group in (("introduced", diff.introduced), ("fixed", diff.fixed)):
            for v in group:
                msg = v["message"].replace("|", "\\|")
                out.append(
                    f"| `{v['policy']}` | {v['enforcement']} | "
                    f"`{v['urn'].rsplit('::', 1)[-1]}` | {msg} | {mark} |"
                )
    return "\n".join(out).rstrip() + "\n"
