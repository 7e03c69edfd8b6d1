"""Every PrometheusRule a stack ships, judged by the real promtool (Prometheus v3.14.0).

Per stack: the plan's rules are extracted into rule files, `promtool check rules` runs once over
all of them and `promtool test rules` once over every unit-test file in tests/rules/ that applies
to the stack (see tests/rules/suite.py). Each test group is one pytest item; a group whose
expectation is correct but which today's rules fail is listed in XFAIL (strict) with the issue
that owns the fix. A shipped rule without a unit test fails the coverage check.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import require_engine
from tests.rules import suite

XFAIL: dict[tuple[str, str], str] = {
    ("agent-restarts.yaml", "a kube-state-metrics rollout does not double restarts"): (
        "issue 14: sum by (namespace, pod) adds the duplicated restart series of both "
        "kube-state-metrics pods"
    ),
}


def _groups() -> list[object]:
    params = []
    for stack in suite.STACKS:
        for path in suite.files_for(stack):
            file = suite.relative(path)
            for group in suite.group_names(path):
                reason = XFAIL.get((file, group))
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                params.append(
                    pytest.param(stack, file, group, marks=marks, id=f"{stack}:{file}:{group}")
                )
    return params


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_engine("promtool")
    return tmp_path_factory.mktemp("promtool-rules")


@pytest.mark.parametrize(("stack", "file", "group"), _groups())
def test_rule_unit_test_group(stack: str, file: str, group: str, runs: Path) -> None:
    passed, message = suite.stack_run(stack, runs).verdict(file, group)
    assert passed, f"promtool: {file} / {group} on {stack}:\n{message}"


@pytest.mark.parametrize("stack", suite.STACKS)
def test_promtool_accepts_every_shipped_rule_file(stack: str, runs: Path) -> None:
    run = suite.stack_run(stack, runs)
    assert run.rules, f"{stack} ships no PrometheusRule"
    assert run.check.ok, run.check.output


@pytest.mark.parametrize("stack", suite.STACKS)
def test_every_shipped_rule_has_a_unit_test(stack: str, runs: Path) -> None:
    """Per stack, each alert has a group expecting it to fire and one expecting silence, each
    recording rule a group expecting its samples (xfail groups do not count)."""
    rules = suite.stack_run(stack, runs).rules
    records = {name for _, _, kind, name in suite.shipped(rules) if kind == "record"}
    covered = []
    for path in suite.files_for(stack):
        xfail = {g for (f, g) in XFAIL if f == suite.relative(path)}
        covered.append(suite.coverage(path, xfail, records))
    missing = []
    for file, group, kind, name in suite.shipped(rules):
        loading = [c for c in covered if file in c.rule_files]
        if kind == "record":
            ok = any(name in c.records for c in loading)
        else:
            ok = any(name in c.fires for c in loading) and any(name in c.silent for c in loading)
        if not ok:
            missing.append(f"{file} group {group}: {kind} {name}")
    assert missing == [], f"{stack}: shipped rules without a unit test in tests/rules/"


def test_test_layout_is_sound() -> None:
    """Directories name known stacks; group names are unique and present; every XFAIL entry
    names a group that exists."""
    seen = set()
    for sub in (p for p in suite.HERE.iterdir() if p.is_dir() and not p.name.startswith("_")):
        assert set(suite.stacks_of(sub)) <= set(suite.STACKS), sub.name
    for stack in suite.STACKS:
        for path in suite.files_for(stack):
            names = suite.group_names(path)
            assert "" not in names, f"{suite.relative(path)}: a test group without a name"
            assert len(names) == len(set(names)), f"{suite.relative(path)}: duplicate names"
            seen |= {(suite.relative(path), n) for n in names}
    assert set(XFAIL) - seen == set()


def test_synthetic_series_are_metrics_the_platform_scrapes() -> None:
    """Inputs use the upstream metric names (so a rule that reads a misspelt metric fails its
    unit tests instead of matching a misspelt input)."""
    unknown = set()
    for stack in suite.STACKS:
        for path in suite.files_for(stack):
            for group in suite.load(path).get("tests", []):
                for series in group.get("input_series", []):
                    metric = suite.series_metric(series["series"])
                    if metric not in suite.KNOWN_METRICS:
                        unknown.add(f"{suite.relative(path)}: {metric}")
    assert unknown == set()
