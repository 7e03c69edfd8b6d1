"""Shared test helpers: run programs under the plan's mock engine and query what they made."""

from __future__ import annotations

import copy
import io
import json
import os
from collections.abc import Callable, Iterable, Mapping
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from substrate.config import ConfigError, PlatformConfig, load_config, stack_file_config
from substrate.engines import EngineMissingError, binary
from substrate.plan.recorder import ResourceRecord
from substrate.plan.runner import run_under_mocks

ROOT = Path(__file__).resolve().parents[1]
STACKS: tuple[str, ...] = tuple(
    sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))
)
"""The project's stacks: every stack file in stacks/ (add one and every per-stack test runs it)."""


def shared_dir() -> Path:
    """The workspace's shared data beside the repository (upstream CRDs, chart packages,
    posture rules); override with SUBSTRATE_SHARED_DIR. Never copied into the project."""
    return Path(os.environ.get("SUBSTRATE_SHARED_DIR", ROOT.parent / "shared"))


def crd_dir() -> Path:
    return Path(os.environ.get("SUBSTRATE_CRD_DIR", shared_dir() / "crds"))


def chart_dir() -> Path:
    return shared_dir() / "charts"


def require_shared(path: Path, what: str, variable: str) -> Path:
    """Shared upstream data the tests need: a one-line failure (never a skip) when absent."""
    if not path.is_dir():
        pytest.fail(f"{what} not found at {path}: set {variable} or check out ../shared", False)
    return path


def require_engine(name: str) -> Path:
    """A built engine: a one-line failure naming the make target when it is missing."""
    try:
        return binary(name)
    except EngineMissingError as err:
        pytest.fail(str(err), pytrace=False)


def stack_yaml(stack: str) -> dict[str, Any]:
    """The `config:` block of stacks/Pulumi.<stack>.yaml, as YAML data (a fresh copy)."""
    data = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    return copy.deepcopy(data["config"])


def typed_config(raw_yaml: Mapping[str, Any]) -> PlatformConfig:
    return load_config(stack_file_config(raw_yaml))


def config_error(stack: str, mutate: Callable[[dict[str, Any]], object]) -> str:
    """The one-line error a stack file gives after ``mutate`` (fails if it loads cleanly)."""
    raw = stack_yaml(stack)
    mutate(raw)
    try:
        typed_config(raw)
    except ConfigError as err:
        message = str(err)
        assert "\n" not in message, "config errors are one line"
        return message
    raise AssertionError(f"the mutated {stack} stack file loaded without an error")


def run_program(
    program: Callable[[], object],
    stack: str = "test",
    region: str = "us-west-2",
    config: Mapping[str, str] | None = None,
) -> list[ResourceRecord]:
    """Run any Pulumi program (e.g. a single component) under the plan's mock engine."""
    return run_under_mocks(
        lambda: _discard(program()),
        project="substrate",
        stack=stack,
        config=config or {},
        region=region,
    )


@dataclass(frozen=True)
class CliRun:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path = ROOT) -> CliRun:
    """`substrate ARGS` from ``cwd`` in this process: the same parser, exit status and output
    as the console script, without paying for a new interpreter and provider imports. Tests
    that are about the process boundary (determinism across processes, a one-line stderr with
    no traceback) run the real command instead."""
    from substrate import cli

    out, err = io.StringIO(), io.StringIO()
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = cli.main(list(args))
    finally:
        os.chdir(previous)
    return CliRun(code, out.getvalue(), err.getvalue())


def _discard(_value: object) -> None:
    """Programs may return their component; the runner wants a function returning None."""


class Resources:
    """Query helper over recorded resources."""

    def __init__(self, records: Iterable[ResourceRecord]) -> None:
        self.records = list(records)
        self.by_urn = {r.urn: r for r in self.records}

    def of_type(self, typ: str) -> list[ResourceRecord]:
        return [r for r in self.records if r.type == typ]

    def one(self, typ: str, name: str | None = None) -> ResourceRecord:
        found = [r for r in self.of_type(typ) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {typ} {name or ''}, found {[r.name for r in found]}"
        return found[0]

    def named(self, name: str) -> ResourceRecord:
        found = [r for r in self.records if r.name == name]
        assert len(found) == 1, f"expected one resource named {name}, found {len(found)}"
        return found[0]

    def children(self, parent: ResourceRecord) -> list[ResourceRecord]:
        return [r for r in self.records if r.parent == parent.urn]

    def waits_for(self, record: ResourceRecord, urn: str) -> bool:
        """Whether ``record`` is created after ``urn``: it depends on it, or an ancestor does
        (the SDK registers a child only once its parent's URN resolves, and a parent only once
        its own dependencies have been created)."""
        node: ResourceRecord | None = record
        while node is not None:
            if urn in node.dependencies:
                return True
            node = self.by_urn.get(node.parent or "")
        return False


def policy_json(record: ResourceRecord, key: str = "policy") -> dict[str, Any]:
    value = record.inputs[key]
    return json.loads(value) if isinstance(value, str) else value
