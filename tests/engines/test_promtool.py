"""substrate.engines.promtool: a plan's PrometheusRules become the rule files Prometheus loads,
and promtool's verdicts (check and unit tests) come back per file and per test group."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from substrate.engines.promtool import check_rules, rule_files, run_rule_tests, write_rule_files
from substrate.plan.command import PlanResult
from tests.helpers import require_engine

RULE = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "PrometheusRule",
    "metadata": {"name": "demo", "namespace": "monitoring"},
    "spec": {
        "groups": [
            {
                "name": "demo.rules",
                "rules": [
                    {"alert": "Down", "expr": "up == 0", "for": "2m", "labels": {"s": "x"}},
                    {"record": "job:up:sum", "expr": "sum by (job) (up)"},
                ],
            }
        ]
    },
}


def test_rule_files_are_the_groups_of_every_prometheus_rule(prod_plan: PlanResult) -> None:
    files = rule_files(prod_plan.manifests)
    rendered = {
        m["metadata"]["name"]: m["spec"]["groups"]
        for m in prod_plan.manifests.values()
        if m["kind"] == "PrometheusRule"
    }
    assert {name.removesuffix(".yaml") for name in files} == set(rendered)
    for name, groups in rendered.items():
        assert files[f"{name}.yaml"] == {"groups": groups}


def test_two_rules_of_one_name_are_refused() -> None:
    other = {**RULE, "metadata": {"name": "demo", "namespace": "elsewhere"}}
    with pytest.raises(ValueError, match=r"demo\.yaml"):
        rule_files({"a/prometheusrule-demo.yaml": RULE, "b/prometheusrule-demo.yaml": other})


def test_check_rules_accepts_good_rules_and_names_a_broken_one(tmp_path: Path) -> None:
    require_engine("promtool")
    (good,) = write_rule_files({"m/prometheusrule-demo.yaml": RULE}, tmp_path / "good")
    assert check_rules([good]).ok
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        yaml.safe_dump({"groups": [{"name": "g", "rules": [{"record": "r", "expr": "rate(up)"}]}]})
    )
    verdict = check_rules([good, broken])
    assert not verdict.ok
    assert "broken.yaml" in verdict.output and "range vector" in verdict.output


def test_unit_tests_report_each_group_by_name(tmp_path: Path) -> None:
    require_engine("promtool")
    write_rule_files({"m/prometheusrule-demo.yaml": RULE}, tmp_path)
    down = {"series": 'up{job="api", instance="a"}', "values": "0x10"}
    firing = {"exp_labels": {"job": "api", "instance": "a", "s": "x"}}
    tests = tmp_path / "demo.test.yaml"
    tests.write_text(
        yaml.safe_dump(
            {
                "rule_files": ["demo.yaml"],
                "tests": [
                    {
                        "name": "fires after for",
                        "input_series": [down],
                        "alert_rule_test": [
                            {"eval_time": "1m", "alertname": "Down"},
                            {"eval_time": "2m", "alertname": "Down", "exp_alerts": [firing]},
                        ],
                    },
                    {
                        "name": "wrong expectation",
                        "input_series": [down],
                        "promql_expr_test": [
                            {
                                "expr": "job:up:sum",
                                "eval_time": "1m",
                                "exp_samples": [{"labels": 'job:up:sum{job="api"}', "value": 1}],
                            }
                        ],
                    },
                ],
            }
        )
    )
    unreadable = tmp_path / "unreadable.test.yaml"
    unreadable.write_text("tests: [{name: x, no_such_field: 1}]\n")
    run = run_rule_tests([tests, unreadable], tmp_path / "junit.xml")
    passed = run.group(tests, "fires after for")
    wrong = run.group(tests, "wrong expectation")
    assert passed is not None and passed.passed
    assert wrong is not None and not wrong.passed
    assert 'exp: {__name__="job:up:sum", job="api"} 1E+00' in wrong.message()
    assert run.group(tests, "no such group") is None
    (error,) = [r for r in run.results if r.file == unreadable]
    assert not error.passed and "no_such_field" in error.error
