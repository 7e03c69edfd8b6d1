"""`substrate check` output: text for a terminal, JSON for tools, markdown for a PR comment."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from substrate.check.verdicts import WorkloadVerdict

MARK = {"ok": "ok", "warn": "warn", "fail": "FAIL"}
EMOJI = {"ok": "✅", "warn": "⚠️", "fail": "❌"}


@dataclass(frozen=True)
class Report:
    stack: str
    verdicts: tuple[WorkloadVerdict, ...]

    @property
    def runs(self) -> bool:
        return all(v.runs for v in self.verdicts)

    def headline(self) -> str:
        failing = [v for v in self.verdicts if not v.runs]
        total = len(self.verdicts)
        if not failing:
            return f"{total} of {total} would run on {self.stack}"
        return f"{len(failing)} of {total} would not run on {self.stack}"


def text(report: Report) -> str:
    lines = []
    for v in report.verdicts:
        lines.append(f"{MARK[v.status]:4} {v.kind}/{v.name} ({v.namespace}, tenant {v.tenant})")
        for f in v.findings:
            lines.append(f"     {f.check}: {MARK[f.status]}: {f.summary}")
            lines += [f"       - {d}" for d in f.details]
        lines += [f"     note: {n}" for n in v.notes]
    lines.append(report.headline())
    return "\n".join(lines) + "\n"


def as_json(report: Report) -> str:
    data = {
        "stack": report.stack,
        "runs": report.runs,
        "workloads": [v.to_json() for v in report.verdicts],
    }
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(report: Report) -> str:
    lines = [
        f"### `substrate check` on {report.stack}: {report.headline()}",
        "",
        "| | workload | namespace | " + " | ".join(_checks(report.verdicts)) + " |",
        "|---|---|---|" + "---|" * len(_checks(report.verdicts)),
    ]
    for v in report.verdicts:
        cells = []
        for check in _checks(report.verdicts):
            f = v.finding(check)
            cells.append("" if f is None else f"{EMOJI[f.status]} {_cell(f.summary)}")
        row = [EMOJI[v.status], f"`{v.kind}/{v.name}`", v.namespace, *cells]
        lines.append("| " + " | ".join(row) + " |")
    details = [v for v in report.verdicts if any(f.details for f in v.findings) or v.notes]
    for v in details:
        lines += ["", f"<details><summary>{v.kind}/{v.name}</summary>", ""]
        for f in v.findings:
            lines += [f"- **{f.check}** ({f.status}): {f.summary}"]
            lines += [f"  - {_cell(d)}" for d in f.details]
        lines += [f"- note: {_cell(n)}" for n in v.notes]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def _checks(verdicts: Sequence[WorkloadVerdict]) -> list[str]:
    order = ["admission", "queue", "capacity", "identity", "network"]
    present = {f.check for v in verdicts for f in v.findings}
    return [c for c in order if c in present]


def render(report: Report, fmt: str) -> str:
    return {"text": text, "json": as_json, "markdown": markdown}[fmt](report)
