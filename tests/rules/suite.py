"""The rule unit-test suite: which test files run against which stack, and one promtool run per
stack over all of them.

Layout of tests/rules/:
- ``*.yaml`` directly in tests/rules/ run against every stack;
- ``<stacks>/*.yaml`` run against the stacks the directory names, joined by ``+``
  (``prod/``, ``dev+staging/``): where a stack file sets a different threshold or ``for``.

Each file is promtool's unit-test format; its ``rule_files`` name rule files by PrometheusRule
name (``substrate-gpu.yaml``), resolved against the stack's extracted rules. Every test group
has a unique ``name``: pytest reports one item per (stack, file, group).
"""

from __future__ import annotations

import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from substrate.components.observability.alert_rules import UPSTREAM_METRICS
from substrate.components.observability.dcgm_exporter import COUNTERS_CSV, read_counters
from substrate.engines.promtool import (
    RuleCheck,
    RuleTestRun,
    check_rules,
    rule_files,
    run_rule_tests,
    write_rule_files,
)
from tests.conftest import planned

STACKS = ("dev", "staging", "prod")
WORKERS = 4
"""promtool runs at once: a run spends most of its time waiting (about 0.1 s per test group),
not computing, so a stack's files run as one batch each, side by side."""
HERE = Path(__file__).parent

INPUT_ONLY_METRICS = {
    # kube-state-metrics v2.20.0 docs/metrics/cluster/node-metrics.md: GPUs a node advertises
    # (a time-sliced node advertises each physical GPU `replicas` times).
    "kube_node_status_capacity",
}
KNOWN_METRICS = (
    set(UPSTREAM_METRICS)
    | INPUT_ONLY_METRICS
    | {field for field, kind, _ in read_counters(COUNTERS_CSV.read_text()) if kind != "label"}
)


def stacks_of(directory: Path) -> tuple[str, ...]:
    return tuple(directory.name.split("+"))


def files_for(stack: str) -> list[Path]:
    """The unit-test files that run against ``stack``, sorted."""
    found = sorted(HERE.glob("*.yaml"))
    for sub in sorted(p for p in HERE.iterdir() if p.is_dir() and not p.name.startswith("_")):
        if stack in stacks_of(sub):
            found += sorted(sub.glob("*.yaml"))
    return found


def relative(path: Path) -> str:
    return path.relative_to(HERE).as_posix()


@cache
def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def group_names(path: Path) -> list[str]:
    return [group.get("name", "") for group in load(path).get("tests", [])]


@dataclass(frozen=True)
class StackRun:
    """A stack's rules as promtool saw them: the check verdict and every group's verdict."""

    stack: str
    rules: dict[str, dict[str, Any]]
    check: RuleCheck
    copies: dict[str, Path]
    """tests/rules-relative name -> the copy promtool ran (beside the stack's rule files)."""
    tests: RuleTestRun

    def verdict(self, file: str, group: str) -> tuple[bool, str]:
        result = self.tests.group(self.copies[file], group)
        if result is None:
            return False, f"promtool did not run this group:\n{self.tests.output}"
        return result.passed, result.message()


_RUNS: dict[str, StackRun] = {}


def stack_run(stack: str, workdir: Path) -> StackRun:
    """Extract ``stack``'s rules, then one `promtool check rules` and one `promtool test rules`
    over every test file of the stack (cached per session)."""
    if stack not in _RUNS:
        manifests = planned(stack).manifests
        directory = workdir / stack
        paths = write_rule_files(manifests, directory)
        copies = {}
        for path in files_for(stack):
            copy = directory / ("test--" + relative(path).replace("/", "--"))
            shutil.copyfile(path, copy)
            copies[relative(path)] = copy
        _RUNS[stack] = StackRun(
            stack, rule_files(manifests), check_rules(paths), copies, _test(copies, directory)
        )
    return _RUNS[stack]


def _test(copies: dict[str, Path], directory: Path) -> RuleTestRun:
    """`promtool test rules` over each copy (a batch of groups), WORKERS at once; one verdict."""
    with ThreadPoolExecutor(WORKERS) as pool:
        runs = list(
            pool.map(lambda f: run_rule_tests([f], f.with_suffix(".junit.xml")), copies.values())
        )
    return RuleTestRun(
        tuple(r for run in runs for r in run.results), "\n".join(run.output for run in runs)
    )


@dataclass(frozen=True)
class Covered:
    """What the (non-xfail) groups of one test file state about each rule."""

    rule_files: frozenset[str]
    fires: frozenset[str]
    """Alerts some group expects firing."""
    silent: frozenset[str]
    """Alerts some group expects not firing."""
    records: frozenset[str]
    """Recorded series some promql_expr_test expects samples of."""


def coverage(path: Path, xfail: set[str], records: set[str]) -> Covered:
    data = load(path)
    fires, silent, seen = set(), set(), set()
    for group in data.get("tests", []):
        if group.get("name") in xfail:
            continue
        for case in group.get("alert_rule_test", []):
            (fires if case.get("exp_alerts") else silent).add(case["alertname"])
        for case in group.get("promql_expr_test", []):
            if case.get("exp_samples"):
                seen |= {r for r in records if _mentions(case["expr"], r)}
    return Covered(
        frozenset(data.get("rule_files", [])), frozenset(fires), frozenset(silent), frozenset(seen)
    )


def _mentions(expr: str, metric: str) -> bool:
    """Whether ``expr`` names ``metric`` (a whole metric-name token, not a prefix of another)."""
    return re.search(rf"(?<![\w:]){re.escape(metric)}(?![\w:])", expr) is not None


def shipped(rules: dict[str, dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """(rule file, group, kind, name) for every rule of a stack."""
    return [
        (file, group["name"], "alert" if "alert" in r else "record", r.get("alert") or r["record"])
        for file, content in sorted(rules.items())
        for group in content["groups"]
        for r in group["rules"]
    ]


def series_metric(series: str) -> str:
    """The metric name of promtool's series notation `name{labels}`."""
    return series.split("{", 1)[0].strip()
