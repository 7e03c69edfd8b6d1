"""`substrate diff`: plan comparison, and the command against a real git revision."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from substrate.diff.compare import Change, changes, compare
from substrate.diff.render import markdown
from tests.helpers import ROOT, CliRun, run_cli


def _plan(resources: list[dict], violations: list[dict] | None = None) -> dict:
    return {
        "project": "substrate",
        "stack": "dev",
        "resources": resources,
        "helmReleases": [],
        "policy": {"violations": violations or []},
    }


def _res(name: str, **inputs: object) -> dict:
    return {
        "urn": f"urn:pulumi:dev::substrate::t:m:R::{name}",
        "type": "t:m:R",
        "name": name,
        "parent": None,
        "provider": None,
        "dependencies": [],
        "inputs": inputs,
    }


def test_changed_input_paths_are_listed_with_old_and_new_values() -> None:
    old = {"spec": {"limits": {"cpu": 100}, "taints": [{"key": "a"}]}, "tags": {"team": "x"}}
    new = {
        "spec": {"limits": {"cpu": 200}, "taints": [{"key": "b"}]},
        "tags": {"team": "x", "cost/center": "y"},
    }
    assert changes(old, new) == [
        Change("spec.limits.cpu", 100, 200),
        Change("spec.taints[0].key", "a", "b"),
        Change('tags["cost/center"]', None, "y"),
    ]


def test_embedded_json_documents_diff_by_structure() -> None:
    old = json.dumps({"Statement": [{"Action": ["s3:GetObject"]}]})
    new = json.dumps({"Statement": [{"Action": ["s3:GetObject", "s3:PutObject"]}]})
    assert changes({"policy": old}, {"policy": new}) == [
        Change("policy.Statement[0].Action", ["s3:GetObject"], ["s3:GetObject", "s3:PutObject"])
    ]


def test_markdown_lists_each_changed_input_with_before_and_after() -> None:
    diff = compare(
        _plan([_res("nodes", scalingConfig={"maxSize": 3})]),
        _plan([_res("nodes", scalingConfig={"maxSize": 5}), _res("queue")]),
    )
    text = markdown(diff, "origin/main")
    assert text.startswith("### `substrate diff dev` against `origin/main`")
    assert "| added | `t:m:R queue` |" in text
    assert "| `t:m:R nodes` | `scalingConfig.maxSize` | `3` | `5` |" in text


def test_added_removed_changed_and_violations() -> None:
    violation = {
        "policy": "r6-supported-version",
        "pack": "substrate",
        "enforcement": "mandatory",
        "urn": "u",
        "message": "m",
    }
    diff = compare(
        _plan([_res("a", x=1), _res("b", x=1)], [violation]),
        _plan([_res("b", x=2), _res("c", x=1)]),
    )
    assert [r.name for r in diff.added] == ["c"]
    assert [r.name for r in diff.removed] == ["a"]
    assert [(r.name, r.changes) for r in diff.changed] == [("b", [Change("x", 1, 2)])]
    assert diff.fixed == [violation] and diff.introduced == []
    assert not diff.identical
    assert compare(_plan([_res("a", x=1)]), _plan([_res("a", x=1)])).identical


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository holding this project's working tree (tracked and untracked files)."""
    root = tmp_path_factory.mktemp("repo")
    files = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for rel in files:
        if (ROOT / rel).is_file():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, root / rel)
    for cmd in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base"],
    ):
        subprocess.run(["git", "-C", str(root), *cmd], check=True)
    return root


def _diff(repo: Path, *args: str) -> CliRun:
    """`substrate diff` in-process; the base revision is still planned by a subprocess
    running that revision's code (as it is for users)."""
    return run_cli("diff", *args, cwd=repo)


def test_diff_against_a_revision_shows_the_changed_field(repo: Path) -> None:
    stack = repo / "stacks" / "Pulumi.dev.yaml"
    original = stack.read_text()
    stack.write_text(original.replace("    maxSize: 3\n", "    maxSize: 5\n"))
    try:
        run = _diff(repo, "dev", "--base", "HEAD")
    finally:
        stack.write_text(original)
    assert run.returncode == 3, run.stderr
    assert run.stdout.splitlines() == [
        "substrate diff dev (against HEAD): 0 added, 0 removed, 1 changed (resources), "
        "0 violations introduced, 0 fixed",
        "  ~ aws:eks/nodeGroup:NodeGroup system-nodes-nodes",
        "      scalingConfig.maxSize: 3 → 5",
    ]


def test_identical_plans_exit_0(repo: Path) -> None:
    run = _diff(repo, "dev", "--base", "HEAD")
    assert run.returncode == 0, run.stderr
    assert run.stdout == "substrate diff dev: no changes against HEAD\n"


def test_unknown_revision_is_an_error(repo: Path) -> None:
    run = _diff(repo, "dev", "--base", "no-such-branch")
    assert run.returncode == 2
    assert run.stderr.startswith(
        "error: --base no-such-branch: no commit, branch or tag of that name in "
    )
    assert run.stderr.endswith("(a remote branch needs `git fetch` first, e.g. origin/main)\n")
