"""Plan a stack at a git revision (in a temporary worktree, with that revision's code) and in
the working tree, offline, and compare the two plans."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from substrate.diff.compare import PlanDiff, compare
from substrate.plan.command import plan_stack
from substrate.project import Project, ProjectError


class DiffError(Exception):
    """The base revision cannot be planned (bad revision, git missing, plan crashed)."""


def _git(root: Path, *args: str) -> str:
    run = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )
    if run.returncode != 0:
        raise DiffError(f"git {' '.join(args)}: {run.stderr.strip() or run.stdout.strip()}")
    return run.stdout.strip()


def empty_plan(project: str, stack: str) -> dict[str, Any]:
    return {
        "project": project,
        "stack": stack,
        "resources": [],
        "helmReleases": [],
        "policy": {"violations": []},
    }


def resolve_revision(project: Project, revision: str) -> tuple[Path, str]:
    """The repository top level and the commit ``revision`` names (DiffError if none)."""
    top = Path(_git(project.root, "rev-parse", "--show-toplevel"))
    return top, _git(top, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")


def plan_at_revision(project: Project, stack: str, revision: str) -> dict[str, Any]:
    """plan.json of ``stack`` as the code and stack file at ``revision`` produce it."""
    top, sha = resolve_revision(project, revision)
    relative = project.root.resolve().relative_to(top.resolve())
    with tempfile.TemporaryDirectory(prefix="substrate-diff-") as tmp:
        tree = Path(tmp) / "base"
        _git(top, "worktree", "add", "--detach", "--quiet", str(tree), sha)
        try:
            base_root = tree / relative
            stack_file = project.stack_file(stack).relative_to(project.root)
            if not (base_root / stack_file).exists():
                return empty_plan(project.name, stack)  # the stack is new in this change
            out = Path(tmp) / "out"
            env = {
                **os.environ,
                "PYTHONPATH": os.pathsep.join(
                    [str(base_root), *filter(None, [os.environ.get("PYTHONPATH")])]
                ),
            }
            run = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "substrate.cli",
                    "plan",
                    stack,
                    "--out",
                    str(out),
                    "--format",
                    "json",
                ],
                cwd=base_root,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if run.returncode not in (0, 1) or not (out / "plan.json").exists():
                detail = run.stderr.strip().splitlines()[-1] if run.stderr.strip() else ""
                raise DiffError(
                    f"planning {stack} at {revision} ({sha[:12]}) failed "
                    f"(exit {run.returncode}): {detail}"
                )
            return json.loads((out / "plan.json").read_text())
        finally:
            _git(top, "worktree", "remove", "--force", str(tree))


def diff_stack(project: Project, stack: str, base: str) -> PlanDiff:
    """Diff of ``stack`` between ``base`` and the working tree. ConfigError propagates when the
    working tree's stack file is invalid."""
    resolve_revision(project, base)  # a bad revision fails before anything is planned
    head = plan_stack(project, stack).plan_json()
    try:
        before = plan_at_revision(project, stack, base)
    except ProjectError as err:
        raise DiffError(str(err)) from None
    # Round-trip the head plan through JSON so both sides have identical value types.
    return compare(before, json.loads(json.dumps(head, sort_keys=True)))
