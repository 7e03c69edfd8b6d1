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

ISSUE_12_PARTIAL_HOURS = (
    "issue 12: avg_over_time averages only the minutes a namespace held GPUs, so a partial hour "
    "bills as a whole one"
)
XFAIL: dict[tuple[str, str], str] = {
    ("gpu-health.yaml", "an XID alert resolves once no new XID arrives for two hours"): (
        "issue 12: DCGM_FI_DEV_XID_ERRORS keeps the last XID code, so `> 0` stays true forever"
    ),
    ("gpu-health.yaml", "an exporter pod replacement keeps the throttling alert firing"): (
        "issue 12: rate() of the new exporter pod's series under-counts its first minutes, so "
        "an exporter rollout resolves an ongoing throttling alert and restarts its 10 minutes"
    ),
    ("queues-and-capacity.yaml", "the first admission after Kueue moves to a new pod counts"): (
        "issue 12: kueue_admitted_workloads_total is created at 1 on its first admission, which "
        "increase() cannot see"
    ),
    ("queues-and-capacity.yaml", "a NodePool's first launch timeout since Karpenter started"): (
        "issue 12: karpenter_nodeclaims_disrupted_total is created at 1 by the first timeout, "
        "which increase() cannot see"
    ),
    ("chargeback.yaml", "an 8-GPU job that ran 15 minutes bills 2 GPU-hours"): (
        ISSUE_12_PARTIAL_HOURS
    ),
    ("chargeback.yaml", "a job across an hour boundary is billed once in total"): (
        ISSUE_12_PARTIAL_HOURS
    ),
    ("chargeback.yaml", "idle gaps between jobs are not billed"): ISSUE_12_PARTIAL_HOURS,
    ("chargeback.yaml", "DCGM-measured GPU-hours of a 15-minute job count 15 minutes"): (
        ISSUE_12_PARTIAL_HOURS
    ),
    ("chargeback.yaml", "a time-sliced GPU slice bills its physical fraction"): (
        "issue 12: requests of nvidia.com/gpu count whole GPUs, but a time-sliced node "
        "advertises each physical GPU as several"
    ),
    ("chargeback.yaml", "a kube-state-metrics rollout neither doubles nor breaks allocation"): (
        "issue 12: duplicated kube_pod_status_phase series make the group_left join fail "
        "(many-to-many), so no allocation is recorded"
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
