"""Plan a stack at a git revision (in a temporary worktree, with that revision's code) and in
the working tree, offline, and compare the two plans."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    try:
        top = Path(_git(project.root, "rev-parse", "--show-toplevel"))
    except DiffError:
        raise DiffError(f"--base {revision}: {project.root} is not in a git repository") from None
    try:
        return top, _git(top, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except DiffError:
        raise DiffError(
            f"--base {revision}: no commit, branch or tag of that name in {top} (a remote branch "
            f"needs `git fetch` first, e.g. origin/main)"
        ) from None


@contextmanager
def plan_at_revision(
    project: Project, stack: str, revision: str, policy_config: Path | None = None
) -> Iterator[Callable[[], dict[str, Any]]]:
    """Start planning ``stack`` as the code and stack file at ``revision`` produce it, in a
    subprocess working in a temporary git worktree; yields a function that waits for it and
    returns its plan.json. The caller can plan the working tree meanwhile."""
    top, sha = resolve_revision(project, revision)
    relative = project.root.resolve().relative_to(top.resolve())
    with tempfile.TemporaryDirectory(prefix="substrate-diff-") as tmp:
        tree = Path(tmp) / "base"
        _git(top, "worktree", "add", "--detach", "--quiet", str(tree), sha)
        try:
            base_root = tree / relative
            stack_file = project.stack_file(stack).relative_to(project.root)
            if not (base_root / stack_file).exists():
                yield lambda: empty_plan(project.name, stack)  # the stack is new in this change
                return
            out = Path(tmp) / "out"
            env = {
                **os.environ,
                "PYTHONPATH": os.pathsep.join(
                    [str(base_root), *filter(None, [os.environ.get("PYTHONPATH")])]
                ),
            }
            command = [
                sys.executable,
                "-m",
                "substrate.cli",
                "plan",
                stack,
                "--out",
                str(out),
                "--format",
                "json",
                *(["--policy-config", str(policy_config.resolve())] if policy_config else []),
            ]
            with subprocess.Popen(
                command,
                cwd=base_root,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            ) as proc:

                def result() -> dict[str, Any]:
                    _, stderr = proc.communicate()
                    if proc.returncode not in (0, 1) or not (out / "plan.json").exists():
                        detail = stderr.strip().splitlines()[-1] if stderr.strip() else ""
                        raise DiffError(
                            f"planning {stack} at {revision} ({sha[:12]}) failed "
                            f"(exit {proc.returncode}): {detail}"
                        )
                    return json.loads((out / "plan.json").read_text())

                try:
                    yield result
                finally:
                    if proc.poll() is None:
                        proc.kill()
                        proc.communicate()
        finally:
            _git(top, "worktree", "remove", "--force", str(tree))


def diff_stack(
    project: Project, stack: str, base: str, policy_config: Path | None = None
) -> PlanDiff:
    """Diff of ``stack`` between ``base`` and the working tree. ConfigError propagates when the
    working tree's stack file is invalid. The base is planned in a subprocess while the
    working tree is planned here."""
    try:
        with plan_at_revision(project, stack, base, policy_config) as base_plan:
            head = plan_stack(project, stack, policy_config).plan_json()
            before = base_plan()
    except ProjectError as err:
        raise DiffError(str(err)) from None
    # Round-trip the head plan through JSON so both sides have identical value types.
    return compare(before, json.loads(json.dumps(head, sort_keys=True)))
