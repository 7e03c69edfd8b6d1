"""The Kyverno server (tools/engines/kyverno-server) gives exactly the verdicts of the Kyverno CLI
(`kyverno apply --policy-report`), on every object the admission policies' own tests hold and
on the prod plan's agents, at CREATE and at UPDATE, and for namespaced policies; it is the same
Kyverno code, built from the same modules; and one process serves a whole session, surviving
its own death and concurrent callers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from substrate.components.admission.admission_policies import MODULES, policy_file
from substrate.engines import kyverno
from tests.engine_memo import memo
from tests.helpers import ROOT, require_engine
from tests.journeys.cluster import controller, stack
from tests.journeys.test_agent_admission import DEPLOYER, created

POLICY_DIR = ROOT / "substrate" / "components" / "admission" / "admission_policies"

FOLDERS = sorted(
    test.parent
    for module in MODULES
    for test in (policy_file(module).parent / ".kyverno-test").rglob("kyverno-test.yaml")
)
OPERATIONS: tuple[kyverno.Operation, ...] = ("CREATE", "UPDATE")
FOLDER_CASES: dict[str, tuple[Path, kyverno.Operation]] = {
    f"{folder.relative_to(POLICY_DIR)}-{op}": (
        folder,
        op,
    )
    for folder in FOLDERS
    for op in OPERATIONS
}
AGENT_CASES = (
    "agents-with-pdbs-CREATE",
    "agents-with-pdbs-UPDATE",
    "agents-without-pdbs-CREATE",
    "agent-pods-CREATE",
)
NAMESPACED = "namespaced-policy-CREATE"
CASE_IDS = [*FOLDER_CASES, *AGENT_CASES, NAMESPACED]


def _folder_case(folder: Path, operation: kyverno.Operation) -> dict[str, Any]:
    """A policy test folder as apply() arguments: its policy, objects, values (namespaces),
    context (cluster) and userinfo (requester)."""
    test = yaml.safe_load((folder / "kyverno-test.yaml").read_text())

    def load(key: str) -> Any:
        return yaml.safe_load((folder / test[key]).read_text()) if key in test else None

    objects = [
        doc for path in test["resources"] for doc in yaml.safe_load_all((folder / path).read_text())
    ]
    return {
        "policies": [yaml.safe_load((folder / path).read_text()) for path in test["policies"]],
        "objects": [o for o in objects if o],
        "namespaces": (load("variables") or {}).get("namespaces", []),
        "cluster": ((load("context") or {}).get("spec") or {}).get("resources", []),
        "user": (load("userinfo") or {}).get("userInfo"),
        "operation": operation,
    }


def _agent_cases() -> dict[str, dict[str, Any]]:
    """The prod plan's policies on its agent StatefulSets (with and without their PDBs) and on
    the pods their controller creates, as tests/journeys/test_agent_admission.py asks."""
    prod = stack("prod")
    sets = prod.objects("StatefulSet", "agents")
    pdbs = prod.objects("PodDisruptionBudget", "agents")
    policies = kyverno.policies_of(prod.plan.manifests.values())
    base = {"policies": policies, "namespaces": prod.namespaces}
    deployed = {**base, "objects": sets, "user": DEPLOYER}
    cases = {
        "agents-with-pdbs-CREATE": {**deployed, "cluster": pdbs, "operation": "CREATE"},
        "agents-with-pdbs-UPDATE": {**deployed, "cluster": pdbs, "operation": "UPDATE"},
        "agents-without-pdbs-CREATE": {**deployed, "cluster": [], "operation": "CREATE"},
        "agent-pods-CREATE": {
            **base,
            "objects": [p.admitted for r in created(prod) for p in r.descendants("Pod")],
            "user": controller("statefulset-controller"),
            "cluster": pdbs,
            "operation": "CREATE",
        },
    }
    assert tuple(cases) == AGENT_CASES
    return cases


def _namespaced_case() -> dict[str, Any]:
    """A policy and its NamespacedValidatingPolicy copy in team-a (the CLI prints a report per
    namespaced policy after the cluster report), on require-requests-limits' objects. The copy
    is named ``y``: PyYAML writes that unquoted and the CLI's YAML 1.1 reader would take it for
    a boolean (the CLI's files are written as JSON)."""
    folder = (
        ROOT
        / "substrate/components/admission/admission_policies/require_requests_limits/.kyverno-test"
    )
    case = _folder_case(folder, "CREATE")
    (policy,) = case["policies"]
    copy = {
        **policy,
        "kind": "NamespacedValidatingPolicy",
        "metadata": {"name": "y", "namespace": "team-a"},
    }
    return {**case, "policies": [policy, copy]}


def _cases() -> dict[str, dict[str, Any]]:
    folders = {name: _folder_case(*where) for name, where in FOLDER_CASES.items()}
    return {**folders, **_agent_cases(), NAMESPACED: _namespaced_case()}


def _call(how: Any, case: Mapping[str, Any]) -> list[kyverno.Verdict]:
    return how(
        case["policies"],
        case["objects"],
        namespaces=case["namespaces"],
        cluster=case["cluster"],
        operation=case["operation"],
        user=case["user"],
    )


@pytest.fixture(scope="module")
def cases() -> dict[str, dict[str, Any]]:
    return _cases()


@pytest.fixture(scope="module")
def by_cli(cases: dict[str, dict[str, Any]]) -> dict[str, list[kyverno.Verdict]]:
    """Every case answered by `kyverno apply` (one CLI run each, two at a time). The CLI's
    answer to unchanged inputs and an unchanged binary is kept between sessions
    (tests/engine_memo.py); the server is asked every time."""
    require_engine(kyverno.CLI)

    def by_cli(case: dict[str, Any]) -> list[kyverno.Verdict]:
        def run() -> list[dict[str, Any]]:
            return [asdict(v) for v in _call(kyverno.apply_with_cli, case)]

        return [kyverno.Verdict(**v) for v in memo(kyverno.CLI, case, run)]

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = pool.map(by_cli, cases.values())
        return dict(zip(cases, answers, strict=True))


@pytest.fixture(scope="module")
def by_server(cases: dict[str, dict[str, Any]]) -> dict[str, list[kyverno.Verdict]]:
    require_engine(kyverno.SERVER)
    return {name: _call(kyverno.apply, case) for name, case in cases.items()}


@pytest.mark.parametrize("case", CASE_IDS)
def test_the_server_gives_the_clis_verdicts(
    case: str,
    by_cli: dict[str, list[kyverno.Verdict]],
    by_server: dict[str, list[kyverno.Verdict]],
) -> None:
    assert by_cli[case], "the CLI judged nothing here: the comparison would be hollow"
    assert by_server[case] == by_cli[case]


def test_the_sample_exercises_every_kind_of_verdict(
    by_cli: dict[str, list[kyverno.Verdict]],
) -> None:
    """Pass, fail and skip (a pod policy meeting a pod a controller created), failures naming
    their validation, a namespaced policy's report, and UPDATE judged differently from CREATE
    somewhere."""
    verdicts = [v for found in by_cli.values() for v in found]
    assert {"pass", "fail", "skip"} <= {v.result for v in verdicts}
    assert any(v.policy == "team-a/y" for v in by_cli[NAMESPACED])
    assert any(v.validation is not None for v in verdicts if v.result == "fail")
    assert any(
        by_cli[f"{name}-CREATE"] != by_cli[f"{name}-UPDATE"]
        for name in (c.removesuffix("-CREATE") for c in CASE_IDS if c.endswith("-CREATE"))
        if f"{name}-UPDATE" in by_cli
    )


def test_one_server_answers_concurrent_callers_as_it_answers_one_at_a_time(
    cases: dict[str, dict[str, Any]], by_server: dict[str, list[kyverno.Verdict]]
) -> None:
    names = list(cases)[:8]
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda n: _call(kyverno.apply, cases[n]), names))
    assert answers == [by_server[n] for n in names]


def test_a_server_that_died_is_restarted(
    cases: dict[str, dict[str, Any]], by_server: dict[str, list[kyverno.Verdict]]
) -> None:
    name = CASE_IDS[0]
    _call(kyverno.apply, cases[name])
    pid = kyverno.server().pid  # this session's own process
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert _call(kyverno.apply, cases[name]) == by_server[name]
    assert kyverno.server().pid not in {None, pid}


def test_the_server_refuses_what_it_does_not_serve() -> None:
    """Kyverno ClusterPolicies need the CLI's fake cluster client: the server says so (apply()
    sends them to the CLI) instead of answering differently."""
    require_engine(kyverno.SERVER)
    cluster_policy = {
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": {"name": "require-team"},
        "spec": {
            "rules": [
                {
                    "name": "team",
                    "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                    "validate": {
                        "message": "team",
                        "pattern": {"metadata": {"labels": {"team": "?*"}}},
                    },
                }
            ]
        },
    }
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "a"}}
    answer = kyverno.server().request(
        {"policies": [cluster_policy], "objects": [pod], "operation": "CREATE"}
    )
    assert "only ValidatingPolicy" in answer["error"]
    assert "invalid request" in kyverno.server().request("not a request")["error"]


def _go_mod(name: str) -> dict[str, Any]:
    text = subprocess.run(
        ["go", "mod", "edit", "-json", str(ROOT / "tools" / "engines" / name / "go.mod")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(text)


def test_the_server_is_built_from_the_clis_modules() -> None:
    """Every module the server shares with the CLI is at the CLI's version, and the server
    repeats the CLI's replace directives: the same Kyverno code, the same CEL and Kubernetes
    libraries."""
    cli, server = _go_mod(kyverno.CLI), _go_mod(kyverno.SERVER)
    cli_versions = {r["Path"]: r["Version"] for r in cli["Require"]}
    different = {
        r["Path"]: (r["Version"], cli_versions[r["Path"]])
        for r in server["Require"]
        if r["Path"] in cli_versions and r["Version"] != cli_versions[r["Path"]]
    }
    assert different == {}
    assert server["Replace"] == cli["Replace"]
    missing = sorted(r["Path"] for r in server["Require"] if r["Path"] not in cli_versions)
    assert missing == []
