"""`substrate check` output: the verdict of the worst finding, and the same facts in text, JSON
and a markdown PR comment."""

from __future__ import annotations

import json

from substrate.check.render import Report, as_json, markdown, text
from substrate.check.verdicts import Finding, WorkloadVerdict


def verdict(name: str, *findings: Finding) -> WorkloadVerdict:
    return WorkloadVerdict("Job", "data-eng", name, "data-eng", f"{name}.yaml#1", findings)


OK = Finding("admission", "ok", "admitted (7 policies judged it)")
WAITS = Finding("queue", "fail", "waits forever", ("LocalQueue a -> ClusterQueue b: no | GPU",))
NOTE = Finding("admission", "warn", "admitted; its pods were not judged")


def test_the_worst_finding_decides() -> None:
    assert verdict("a", OK).status == "ok" and verdict("a", OK).runs
    assert verdict("b", OK, NOTE).status == "warn" and verdict("b", OK, NOTE).runs
    assert verdict("c", NOTE, WAITS, OK).status == "fail"
    assert not Report("prod", (verdict("a", OK), verdict("c", WAITS))).runs
    assert Report("prod", (verdict("a", OK), verdict("b", NOTE))).runs


def test_every_format_carries_the_verdicts() -> None:
    report = Report("prod", (verdict("fine", OK), verdict("stuck", OK, WAITS)))
    out = text(report)
    assert "FAIL Job/stuck (data-eng, tenant data-eng)" in out
    assert "     queue: FAIL: waits forever\n       - LocalQueue a" in out
    assert out.endswith("1 of 2 would not run on prod\n")
    data = json.loads(as_json(report))
    assert data["runs"] is False
    assert [w["status"] for w in data["workloads"]] == ["ok", "fail"]
    md = markdown(report)
    assert md.startswith("### `substrate check` on prod: 1 of 2 would not run on prod")
    assert (
        "| ❌ | `Job/stuck` | data-eng | ✅ admitted (7 policies judged it) | ❌ waits forever |"
        in md
    )
    assert "  - LocalQueue a -> ClusterQueue b: no \\| GPU" in md  # a pipe cannot break the table
