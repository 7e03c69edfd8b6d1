"""Every admission policy's own Kyverno CLI tests, run by the real Kyverno CLI.

`substrate/components/admission/admission_policies/<policy>/.kyverno-test/` holds the
kyverno/policies-style test of
each policy: good and bad objects (pods and the controllers that create them, as the API server
hands them to Kyverno at CREATE) and the expected results. `kyverno test` runs them all once;
the checks below also make sure the tests can fail: a declared pass or fail that Kyverno only
reports as "Excluded" (the policy never looked at the object) is a defect, every failure names
the validation that must fire, and every validation of every policy fails on some object.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from substrate.components.admission.admission_policies import (
    MODULES,
    REFERENCE_SETTINGS,
    policy_file,
)
from substrate.engines import kyverno, run
from tests.helpers import ROOT, require_engine

POLICIES = ROOT / "substrate" / "components" / "admission" / "admission_policies"
POD_CONTROLLERS = {"Job", "CronJob", "Deployment", "StatefulSet"}
"""Controller kinds every pod policy's tests cover (Kyverno autogen targets, or skips)."""
OPERATOR_KINDS = {"JobSet", "LeaderWorkerSet", "RayJob"}
"""Workload kinds of the optional operators: pod policies never see them, only their pods."""


@dataclass(frozen=True)
class Row:
    """One line of `kyverno test --detailed-results -o json`."""

    kind: str
    namespace: str
    name: str
    result: str
    reason: str
    message: str


def _id(module: ModuleType) -> str:
    return module.__name__.rsplit(".", 1)[-1]


def kyverno_tests_of(module: ModuleType) -> list[Path]:
    """The folders holding `module`'s kyverno-test.yaml files (one per requester or state)."""
    root = policy_file(module).parent / ".kyverno-test"
    return sorted(p.parent for p in root.rglob("kyverno-test.yaml"))


TESTS = [(m, folder) for m in MODULES for folder in kyverno_tests_of(m)]
TEST_IDS = [f"{_id(m)}/{f.relative_to(policy_file(m).parent / '.kyverno-test')}" for m, f in TESTS]


def _segments(stdout: str) -> Iterator[tuple[Path, list[dict[str, Any]]]]:
    """(test file, its JSON rows) for each test the CLI loaded, in output order."""
    decoder = json.JSONDecoder()
    marker = "Loading test  ( "
    parts = stdout.split(marker)[1:]
    for part in parts:
        path = Path(part.split(" )", 1)[0])
        start = part.find("\n[")
        rows, _ = decoder.raw_decode(part[start + 1 :]) if start >= 0 else ([], 0)
        yield path, rows


@pytest.fixture(scope="module")
def rows() -> dict[Path, list[Row]]:
    """Every policy's test, run once by `kyverno test` over the whole policy tree."""
    require_engine("kyverno")
    done = run(
        "kyverno",
        ["test", str(POLICIES), "-o", "json", "--detailed-results", "--remove-color"],
        ok=(0, 1),
    )
    out: dict[Path, list[Row]] = {}
    for path, found in _segments(done.stdout):
        parsed = []
        for row in found:
            _, kind, namespace, name = row["RESOURCE"].rsplit("/", 3)
            parsed.append(
                Row(kind, namespace, name, row["RESULT"], row["REASON"], row.get("Message", ""))
            )
        out[(ROOT / path).parent.resolve()] = parsed
    return out


def _declared(folder: Path) -> list[dict[str, Any]]:
    return yaml.safe_load((folder / "kyverno-test.yaml").read_text())["results"]


@pytest.mark.parametrize("module", MODULES, ids=_id)
def test_committed_policy_is_the_builders_rendering(module: ModuleType) -> None:
    committed = yaml.safe_load(policy_file(module).read_text())
    assert committed == module.build(REFERENCE_SETTINGS), (
        "regenerate: .venv/bin/python -m substrate.components.admission.admission_policies"
    )


@pytest.mark.parametrize(("module", "folder"), TESTS, ids=TEST_IDS)
def test_kyverno_gives_every_expected_result(
    module: ModuleType, folder: Path, rows: dict[Path, list[Row]]
) -> None:
    found = rows.get(folder.resolve())
    assert found, f"kyverno test did not run {folder}"
    wrong = [f"{r.kind}/{r.name}: {r.reason}: {r.message}" for r in found if r.result != "Pass"]
    assert wrong == []


@pytest.mark.parametrize(("module", "folder"), TESTS, ids=TEST_IDS)
def test_every_declared_verdict_was_really_evaluated(
    module: ModuleType, folder: Path, rows: dict[Path, list[Row]]
) -> None:
    """Kyverno reports a policy that did not match an object as a passing "Excluded" row
    whatever was expected: a declared pass or fail must come with a real evaluation."""
    found = rows[folder.resolve()]
    evaluated = {(r.kind, r.name) for r in found if r.reason != "Excluded"}
    hollow = [
        f"{result['kind']}/{name} ({result['result']})"
        for result in _declared(folder)
        if result["result"] in {"pass", "fail"}
        for name in result["resources"]
        if (result["kind"], name) not in evaluated
    ]
    assert hollow == [], "declare these `skip`: the policy never looks at them"


@pytest.mark.parametrize(("module", "folder"), TESTS, ids=TEST_IDS)
def test_every_failure_carries_its_validations_message(
    module: ModuleType, folder: Path, rows: dict[Path, list[Row]]
) -> None:
    expected = yaml.safe_load((folder / "messages.yaml").read_text()) or {}
    failing = {
        name
        for result in _declared(folder)
        if result["result"] == "fail"
        for name in result["resources"]
    }
    assert set(expected) == failing, "messages.yaml names each failing object's message"
    messages: dict[str, set[str]] = {}
    for row in rows[folder.resolve()]:
        if row.reason != "Excluded":
            messages.setdefault(row.name, set()).add(row.message)
    for name, text in expected.items():
        assert any(text in m for m in messages.get(name, ())), (name, messages.get(name))


def _failed_validations(module: ModuleType) -> set[int]:
    """Indexes of the validations that fail on some object of `module`'s first test, as
    Kyverno's policy report states them."""
    folder = kyverno_tests_of(module)[0]
    test = yaml.safe_load((folder / "kyverno-test.yaml").read_text())

    def load(key: str) -> Any:
        return yaml.safe_load((folder / test[key]).read_text()) if key in test else None

    objects = [
        doc for path in test["resources"] for doc in yaml.safe_load_all((folder / path).read_text())
    ]
    verdicts = kyverno.apply(
        [module.build(REFERENCE_SETTINGS)],
        [o for o in objects if o],
        namespaces=load("variables").get("namespaces", []),
        cluster=(load("context") or {"spec": {}})["spec"].get("resources", []),
        user=(load("userinfo") or {}).get("userInfo"),
    )
    return {v.validation for v in verdicts if v.result == "fail" and v.validation is not None}


@pytest.fixture(scope="module")
def failed_validations() -> dict[str, set[int]]:
    require_engine(kyverno.SERVER)
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(map(_id, MODULES), pool.map(_failed_validations, MODULES), strict=True))


@pytest.mark.parametrize("module", MODULES, ids=_id)
def test_every_validation_fails_on_some_object(
    module: ModuleType, failed_validations: dict[str, set[int]]
) -> None:
    validations = module.build(REFERENCE_SETTINGS)["spec"]["validations"]
    assert failed_validations[_id(module)] == set(range(len(validations)))


def _is_pod_policy(module: ModuleType) -> bool:
    rules = module.build(REFERENCE_SETTINGS)["spec"]["matchConstraints"]["resourceRules"]
    return any("pods" in rule["resources"] for rule in rules)


@pytest.mark.parametrize("module", [m for m in MODULES if _is_pod_policy(m)], ids=_id)
def test_pod_policies_are_tested_on_the_objects_tenants_create(module: ModuleType) -> None:
    kinds = {r["kind"] for folder in kyverno_tests_of(module) for r in _declared(folder)}
    assert POD_CONTROLLERS | OPERATOR_KINDS | {"Pod"} <= kinds, sorted(kinds)
