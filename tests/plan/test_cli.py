"""`substrate plan` end to end, as a user runs it: exit codes, files, determinism.

Tests about the process boundary run the console command (`substrate(...)`); the others run
the same CLI in-process (`run_cli`), which is much faster."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT, STACKS, run_cli

SUBSTRATE = [sys.executable, "-m", "substrate.cli"]


def substrate(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    # The code under test is this checkout's, wherever the command runs (from another
    # directory, `python -m` would import the editable install's copy).
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [*SUBSTRATE, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch copy of the project's stacks and policy config to break safely."""
    root = tmp_path_factory.mktemp("project")
    shutil.copy(ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    shutil.copy(ROOT / "__main__.py", root / "__main__.py")
    shutil.copytree(ROOT / "stacks", root / "stacks")
    shutil.copytree(
        ROOT / "policy_packs" / "substrate",
        root / "policy_packs" / "substrate",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return root


def test_plan_prod_is_clean_and_writes_plan_and_manifests(tmp_path: Path) -> None:
    run = run_cli("plan", "prod", "--out", str(tmp_path / "prod"), "--format", "json")
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["violations"] == []
    plan = json.loads((tmp_path / "prod" / "plan.json").read_text())
    assert set(plan) == {"project", "stack", "resources", "helmReleases", "policy"}
    assert (plan["project"], plan["stack"]) == ("substrate", "prod")
    assert plan["policy"] == {"violations": []}
    resource = plan["resources"][0]
    assert set(resource) == {"urn", "type", "name", "parent", "dependencies", "provider", "inputs"}
    cluster = next(r for r in plan["resources"] if r["type"] == "eks:index:Cluster")
    assert cluster["inputs"]["endpointPublicAccess"] is False
    manifest = yaml.safe_load(
        (tmp_path / "prod" / "manifests" / "storage" / "storageclass-gp3.yaml").read_text()
    )
    assert (manifest["apiVersion"], manifest["kind"]) == ("storage.k8s.io/v1", "StorageClass")


def test_two_runs_write_byte_identical_files(tmp_path: Path) -> None:
    # Two separate processes (so nothing cached in one can make the other agree), run at once.
    runs = [
        subprocess.Popen(
            [*SUBSTRATE, "plan", "dev", "--out", str(tmp_path / out)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for out in ("a", "b")
    ]
    for run in runs:
        _, stderr = run.communicate(timeout=120)
        assert run.returncode == 0, stderr
    files_a = sorted(
        p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file()
    )
    files_b = sorted(
        p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file()
    )
    assert files_a == files_b and files_a
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_misspelled_key_exits_2_with_one_line_naming_it(project_copy: Path) -> None:
    stack = project_copy / "stacks" / "Pulumi.typo.yaml"
    config = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    config["config"]["substrate:cluster"]["verison"] = config["config"]["substrate:cluster"].pop(
        "version"
    )
    stack.write_text(yaml.safe_dump(config))
    try:
        run = substrate("plan", "typo", "--out", str(project_copy / "out"), cwd=project_copy)
    finally:
        stack.unlink()
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr == (
        'error: stacks/Pulumi.typo.yaml: substrate:cluster.verison = "1.36": unknown key; did '
        'you mean "version"? (allowed: keys addonVersions, admins, deletionProtection, endpoint, '
        "logRetentionDays, name, optionalAddons, supportType, version)\n"
    )
    assert not (project_copy / "out" / "plan.json").exists()


def test_missing_stack_exits_2(project_copy: Path) -> None:
    run = substrate("plan", "qa", cwd=project_copy)
    assert run.returncode == 2
    assert run.stderr == (
        f"error: stacks/Pulumi.qa.yaml: no such stack file (stacks: {', '.join(STACKS)})\n"
    )


def test_mandatory_violation_exits_1_and_is_reported(project_copy: Path) -> None:
    # Same program, stricter policy config: the prod version is no longer in the allowed list.
    config = project_copy / "policy_packs" / "substrate" / "config.production.json"
    original = config.read_text()
    data = json.loads(original)
    data["r6-supported-version"] = {"enforcementLevel": "mandatory", "supportedVersions": ["1.36"]}
    config.write_text(json.dumps(data))
    try:
        run = run_cli("plan", "prod", "--out", str(project_copy / "out"), cwd=project_copy)
    finally:
        config.write_text(original)
    assert run.returncode == 1
    assert "policy violations: 1 mandatory, 0 advisory" in run.stdout
    assert "[mandatory] r6-supported-version: cluster-eks: version '1.35' is not" in run.stdout
    plan = json.loads((project_copy / "out" / "plan.json").read_text())
    (violation,) = plan["policy"]["violations"]
    assert violation["urn"].endswith("substrate:index:EksCluster$eks:index:Cluster::cluster-eks")
    assert (violation["policy"], violation["pack"], violation["enforcement"]) == (
        "r6-supported-version",
        "substrate",
        "mandatory",
    )


def test_advisory_level_from_config_does_not_fail_the_plan(project_copy: Path) -> None:
    config = project_copy / "policy_packs" / "substrate" / "config.production.json"
    original = config.read_text()
    config.write_text(
        json.dumps(
            {
                "all": "mandatory",
                "r6-supported-version": {
                    "enforcementLevel": "advisory",
                    "supportedVersions": ["1.36"],
                },
            }
        )
    )
    try:
        run = run_cli("plan", "prod", "--out", str(project_copy / "out"), cwd=project_copy)
    finally:
        config.write_text(original)
    assert run.returncode == 0
    assert "policy violations: 0 mandatory, 1 advisory" in run.stdout


def test_unknown_policy_in_config_is_a_config_error(project_copy: Path) -> None:
    config = project_copy / "policy_packs" / "substrate" / "config.development.json"
    original = config.read_text()
    config.write_text(json.dumps({"r3-public-endpoints": "advisory"}))
    try:
        run = run_cli("plan", "dev", cwd=project_copy)
    finally:
        config.write_text(original)
    assert run.returncode == 2
    assert run.stderr.startswith(
        "error: policy_packs/substrate/config.development.json: "
        "'r3-public-endpoints' is not a policy of pack substrate"
    )


def test_markdown_summary_from_a_subdirectory(tmp_path: Path) -> None:
    """The project is found from any directory below it, as `pulumi` finds it."""
    run = run_cli("plan", "dev", "--out", str(tmp_path), "--format", "markdown", cwd=ROOT / "docs")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "plan.json").exists()
    assert run.stdout.startswith("### ✅ `substrate plan dev`")
    assert "```mermaid\nflowchart LR\n" in run.stdout
    assert '["cluster<br/>' in run.stdout


def test_spark_tenant_without_s3_grants_exits_2_with_one_line(project_copy: Path) -> None:
    stack = project_copy / "stacks" / "Pulumi.sparkless.yaml"
    config = yaml.safe_load((ROOT / "stacks" / "Pulumi.prod.yaml").read_text())
    config["config"]["substrate:workloads"]["spark"]["tenants"]["data-eng"]["s3"] = []
    stack.write_text(yaml.safe_dump(config))
    try:
        run = substrate("plan", "sparkless", "--out", str(project_copy / "out"), cwd=project_copy)
    finally:
        stack.unlink()
    assert run.returncode == 2
    assert run.stderr == (
        "error: stacks/Pulumi.sparkless.yaml: substrate:workloads.spark.tenants.data-eng.s3 = "
        "[]: is empty (allowed: at least one S3 grant)\n"
    )
