"""Prometheus rules judged by the real promtool (the Prometheus release the platform deploys).

A plan renders PrometheusRule objects; Prometheus loads their ``spec.groups`` as a rule file (the
Prometheus Operator writes them out unchanged). This module turns a plan's manifests into those
rule files, runs ``promtool check rules`` on all of them at once and ``promtool test rules`` on a
batch of unit-test files (promtool's own format), and reads each test group's verdict from
promtool's JUnit report. Nothing here evaluates PromQL itself.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from substrate.engines import run

RULE_KIND = "PrometheusRule"


def rule_files(manifests: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """``<PrometheusRule name>.yaml`` -> the rule file Prometheus loads (``spec.groups`` as is).

    Names are unique in a plan (every PrometheusRule lands in the monitoring namespace); a second
    object of the same name is a ValueError rather than a silently overwritten file.
    """
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(manifests):
        body = manifests[path]
        if body.get("kind") != RULE_KIND:
            continue
        name = f"{body['metadata']['name']}.yaml"
        if name in files:
            raise ValueError(f"two PrometheusRules render {name} (second: {path})")
        files[name] = {"groups": body["spec"]["groups"]}
    return files


def write_rule_files(manifests: Mapping[str, Mapping[str, Any]], directory: Path) -> list[Path]:
    """Write the plan's rule files into ``directory``; returns their paths, sorted."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in rule_files(manifests).items():
        path = directory / name
        path.write_text(yaml.safe_dump(content, sort_keys=False))
        written.append(path)
    return sorted(written)


@dataclass(frozen=True)
class RuleCheck:
    """`promtool check rules` over a batch of rule files."""

    ok: bool
    output: str


def check_rules(paths: Sequence[Path]) -> RuleCheck:
    """One `promtool check rules --lint=all --lint-fatal` run over every file in ``paths``:
    syntax, types, template expansion and duplicate rules fail it."""
    done = run(
        "promtool",
        ["check", "rules", "--lint=all", "--lint-fatal", *map(str, paths)],
        ok=(0, 1, 3),
    )
    return RuleCheck(done.returncode == 0, done.stdout + done.stderr)


@dataclass(frozen=True)
class GroupResult:
    """One test group (`tests[].name`) of one unit-test file, as promtool judged it."""

    file: Path
    group: str
    failures: tuple[str, ...] = ()
    error: str = ""

    @property
    def passed(self) -> bool:
        return not self.failures and not self.error

    def message(self) -> str:
        return "\n".join([*self.failures, self.error]).strip()


@dataclass(frozen=True)
class RuleTestRun:
    """One `promtool test rules` run: every group's verdict and the engine's own output."""

    results: tuple[GroupResult, ...]
    output: str

    def group(self, file: Path, name: str) -> GroupResult | None:
        return next((r for r in self.results if r.file == file and r.group == name), None)


def run_rule_tests(test_files: Sequence[Path], junit: Path) -> RuleTestRun:
    """One `promtool test rules` run over ``test_files`` (each names its rule files relative to
    itself); ``junit`` receives promtool's JUnit report, which gives each group's verdict."""
    done = run(
        "promtool",
        ["test", f"--junit={junit}", "rules", *map(str, test_files)],
        ok=(0, 1),
    )
    return RuleTestRun(tuple(_junit_results(junit.read_text())), done.stdout + done.stderr)


def _junit_results(text: str) -> list[GroupResult]:
    """promtool's JUnit XML: a testsuite per file (its path), a testcase per test group, with a
    failure element per failed expectation or an error when the file could not be run."""
    results = []
    for suite in ET.fromstring(text).iter("testsuite"):
        file = Path(suite.get("name", ""))
        for case in suite.iter("testcase"):
            failures = tuple((f.text or "").strip() for f in case.iter("failure"))
            error = case.find("error")
            results.append(
                GroupResult(
                    file,
                    case.get("name", ""),
                    failures,
                    "" if error is None else (error.text or "error").strip(),
                )
            )
    return results
