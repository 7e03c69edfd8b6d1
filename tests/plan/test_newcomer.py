"""The newcomer's path, run as a newcomer runs it: broken stack files, exit codes, `--out`,
policy config, `--version`/`--help`. Each case is the CLI in a scratch copy of the project and
states the exact line the user reads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT, run_cli

DEV = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A scratch copy of the project (program, stacks, policy configs) to break safely."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / "stacks", root / "stacks")
    shutil.copytree(
        ROOT / "policy_packs" / "substrate",
        root / "policy_packs" / "substrate",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return root


def plan(project: Path, text: str | bytes, *args: str) -> tuple[int, str, str]:
    path = project / "stacks" / "Pulumi.t.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    run = run_cli("plan", "t", "--out", str(project / "out"), *args, cwd=project)
    return run.returncode, run.stdout, run.stderr


BROKEN_FILES = [
    (
        "empty",
        "",
        "stacks/Pulumi.t.yaml: is empty; a stack file is a mapping with `config:` "
        "holding aws:region and the substrate:* sections",
    ),
    (
        "a list",
        "- a\n- b\n",
        "stacks/Pulumi.t.yaml: is a list; a stack file is a mapping with "
        "`config:` holding aws:region and the substrate:* sections",
    ),
    (
        "keys outside config",
        "aws:region: us-west-2\nsubstrate:tags: {}\n",
        "stacks/Pulumi.t.yaml: aws:region, substrate:tags sit outside `config:`; indent them under "
        "`config:`",
    ),
    (
        "syntax error",
        "config:\n  aws:region: [us-west-2\n  substrate:tags: {}\n",
        "stacks/Pulumi.t.yaml:3:17: YAML syntax error: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence at line 2)",
    ),
    (
        "duplicate key",
        "config:\n  aws:region: us-west-2\n  aws:region: us-east-1\n",
        "stacks/Pulumi.t.yaml:3:3: duplicate key 'aws:region' (first at line 2); the Pulumi CLI "
        "refuses duplicate keys: keep one",
    ),
]


@pytest.mark.parametrize(
    ("text", "message"), [c[1:] for c in BROKEN_FILES], ids=[c[0] for c in BROKEN_FILES]
)
def test_a_broken_stack_file_is_one_line_and_exit_2(project: Path, text: str, message: str) -> None:
    code, out, err = plan(project, text)
    assert (code, out, err) == (2, "", f"error: {message}\n")


def test_a_non_utf8_byte_names_its_position(project: Path) -> None:
    code, _, err = plan(project, b"config:\n  aws:region: us-west-2\n  x: caf\xe9\n")
    assert code == 2
    assert (
        err == "error: stacks/Pulumi.t.yaml:3:9: byte 0xe9 is not UTF-8 (save the file as UTF-8)\n"
    )


def test_a_date_is_the_string_typed(project: Path) -> None:
    """YAML would make `2026-12-01` a date; the Pulumi CLI passes the text, and so do we."""
    stack = project / "stacks" / "Pulumi.dev.yaml"
    text = stack.read_text()
    assert "  substrate:tags:\n" in text
    stack.write_text(
        text.replace("  substrate:tags:\n", "  substrate:tags:\n    release: 2026-12-01\n")
    )
    run = run_cli("plan", "dev", "--out", str(project / "out"), cwd=project)
    assert run.returncode == 0, run.stderr
    resources = json.loads((project / "out" / "plan.json").read_text())["resources"]
    tagged = [r for r in resources if (r["inputs"].get("tags") or {}).get("release")]
    assert tagged and {r["inputs"]["tags"]["release"] for r in tagged} == {"2026-12-01"}


def test_a_secret_is_never_echoed(project: Path) -> None:
    text = DEV.replace('    version: "1.36"', "    version: {secure: v1:c2VjcmV0LXZhbHVl}")
    assert text != DEV
    code, _, err = plan(project, text.replace("name: dev", "name: t"))
    assert code == 2
    assert "c2VjcmV0" not in err and "[secret]" in err


def test_an_unreadable_stack_file_exits_2(project: Path) -> None:
    (project / "stacks" / "Pulumi.t.yaml").mkdir()
    run = run_cli("plan", "t", cwd=project)
    assert run.returncode == 2
    assert run.stderr.startswith("error: stacks/Pulumi.t.yaml: cannot be read")


def test_a_bad_argument_is_one_line_and_exit_2() -> None:
    run = run_cli("plan", "dev", "--format", "html")
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1
    assert run.stderr.startswith("error: argument --format: invalid choice: 'html'")
    assert run.stderr.endswith("(see `substrate plan --help`)\n")


def test_a_crash_is_exit_4_in_one_line_and_debug_shows_the_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr("substrate.plan.command.plan_stack", broken)
    run = run_cli("plan", "dev")
    assert run.returncode == 4
    assert run.stderr == (
        "error: internal error: RuntimeError: boom (run `substrate --debug plan ...` for the "
        "traceback; please report it)\n"
    )
    debug = run_cli("--debug", "plan", "dev")
    assert debug.returncode == 4
    assert "Traceback (most recent call last)" in debug.stderr


def test_version_and_help_document_every_option() -> None:
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("substrate ")
    options = {
        "plan": ["--out", "--format", "--policy-config"],
        "diff": ["--base", "--format", "--policy-config"],
        "stacks": ["--format"],
    }
    for command, flags in options.items():
        run = run_cli(command, "--help")
        assert run.returncode == 0
        for flag in flags:
            assert flag in run.stdout, (command, flag)
    top = run_cli("--help").stdout
    assert all(word in top for word in ("--version", "--debug", "plan", "diff", "stacks"))
    assert "Exit status: 0 ok, 1 mandatory policy violation (plan), 2 invalid input" in top


def test_out_keeps_what_the_plan_did_not_write(project: Path) -> None:
    out = project / "out"
    out.mkdir()
    (out / "notes.md").write_text("mine")
    (out / "manifests").mkdir()
    (out / "manifests" / "keep.yaml").write_text("also mine")
    first = run_cli("plan", "dev", "--out", str(out), cwd=project)
    assert first.returncode == 0, first.stderr
    assert f"wrote {out}/plan.json and " in first.stdout
    written = json.loads((out / ".substrate-plan.json").read_text())["files"]
    assert "plan.json" in written and (out / written[-1]).is_file()
    stale = out / "manifests" / "storage" / "storageclass-old.yaml"
    stale.write_text("from an earlier plan")
    record = {"files": [*written, "manifests/storage/storageclass-old.yaml"]}
    (out / ".substrate-plan.json").write_text(json.dumps(record))
    second = run_cli("plan", "dev", "--out", str(out), cwd=project)
    assert second.returncode == 0, second.stderr
    assert not stale.exists()  # the previous plan wrote it, this one does not
    assert (out / "notes.md").read_text() == "mine"
    assert (out / "manifests" / "keep.yaml").read_text() == "also mine"
    names = [p.name for p in (out / "manifests").rglob("*.yaml")]
    assert "clusterrole-substrate_tenant-admin.yaml" in names
    assert all(":" not in n for n in names)


def test_out_pointing_at_a_file_is_refused(project: Path) -> None:
    target = project / "plan.txt"
    target.write_text("not a directory")
    run = run_cli("plan", "dev", "--out", str(target), cwd=project)
    assert run.returncode == 2
    assert run.stderr == f"error: --out {target}: is a file; give a directory\n"
    assert target.read_text() == "not a directory"


def test_a_missing_tier_policy_config_is_refused(project: Path) -> None:
    (project / "policy_packs" / "substrate" / "config.staging.json").unlink()
    run = run_cli("plan", "staging", cwd=project)
    assert run.returncode == 2
    assert run.stderr == (
        "error: policy_packs/substrate/config.staging.json: missing; stack staging is of tier "
        "staging and is judged by that tier's policy config\n"
    )


def test_an_example_without_policy_config_says_which_levels_apply(tmp_path: Path) -> None:
    example = tmp_path / "gpu-pools-kueue"
    shutil.copytree(ROOT / "examples" / "gpu-pools-kueue", example)
    run = run_cli("plan", "example", "--out", str(tmp_path / "out"), cwd=example)
    assert run.stderr == (
        "note: no policy config (policy_packs/substrate/config.example.json or --policy-config): "
        "every policy of the pack runs at its own enforcement level\n"
    )
    chosen = ROOT / "policy_packs" / "substrate" / "config.production.json"
    quiet = run_cli(
        "plan",
        "example",
        "--out",
        str(tmp_path / "out"),
        "--policy-config",
        str(chosen),
        cwd=example,
    )
    assert quiet.stderr == ""


def test_stacks_lists_every_stack_file_by_tier() -> None:
    run = run_cli("stacks", "--format", "json")
    data = json.loads(run.stdout)
    assert {s["stack"] for s in data["stacks"]} == {
        p.name.split(".")[1] for p in (ROOT / "stacks").glob("Pulumi.*.yaml")
    }
    for stack in data["stacks"]:
        assert stack["policyConfig"] == f"policy_packs/substrate/config.{stack['tier']}.json"
        assert stack["runnerGroup"] == f"substrate-{stack['stack']}"
        assert stack in data["byTier"][stack["tier"]]


def _new_environment(project: Path, **changes: str) -> str:
    """README, "Add an environment": copy staging to perf, then change what names it."""
    text = (project / "stacks" / "Pulumi.staging.yaml").read_text()
    defaults = {
        "    name: staging": "    name: perf",
        "trustDomain: staging.substrate.internal": "trustDomain: perf.substrate.internal",
        "role/substrate-deploy-staging": "role/substrate-deploy-perf",
        "role/substrate-preview-staging": "role/substrate-preview-perf",
        "runnerGroup: substrate-staging": "runnerGroup: substrate-perf",
    }
    for old, new in {**defaults, **changes}.items():
        assert old in text, old
        text = text.replace(old, new)
    (project / "stacks" / "Pulumi.perf.yaml").write_text(text)
    return text


def test_a_new_environment_by_the_readme_plans_clean(project: Path) -> None:
    _new_environment(project)
    run = run_cli("plan", "perf", "--out", str(project / "out"), cwd=project)
    assert run.returncode == 0, run.stderr
    assert "policy violations: 0 mandatory, 0 advisory" in run.stdout
    listed = json.loads(run_cli("stacks", "--format", "json", cwd=project).stdout)
    (perf,) = [s for s in listed["stacks"] if s["stack"] == "perf"]
    assert perf["policyConfig"] == "policy_packs/substrate/config.staging.json"


STALE = [
    (
        "environment name",
        {"    name: perf": "    name: staging"},
        'substrate:environment.name = "staging": names another environment than this stack, '
        'perf (allowed: "perf" (the stack name: one stack, one environment))',
    ),
    (
        "trust domain",
        {"trustDomain: perf.substrate.internal": "trustDomain: staging.substrate.internal"},
        'substrate:identity.trustDomain = "staging.substrate.internal": does not name '
        "environment perf (two environments must never share a trust domain) (allowed: a trust "
        'domain with "perf" as a label, such as "perf.substrate.internal")',
    ),
    (
        "deploy role",
        {"role/substrate-deploy-perf": "role/substrate-deploy-staging"},
        'substrate:cluster.admins[1] = "arn:aws:iam::123456789012:role/substrate-deploy-staging": '
        "names environment staging, not this stack's (perf) (allowed: this environment's own "
        "admin)",
    ),
    (
        "image Region",
        {
            "aws:region: us-west-2": "aws:region: us-east-2",
            "us-west-2a": "us-east-2a",
            "us-west-2b": "us-east-2b",
            "us-west-2c": "us-east-2c",
        },
        'substrate:admission.allowedRegistries[0] = "123456789012.dkr.ecr.us-west-2.amazonaws.com"'
        ": is the ECR registry of us-west-2, not of this stack's Region us-east-2 (nodes pull "
        "through the Region's ECR endpoints) (allowed: the account's registry in us-east-2: "
        "<account>.dkr.ecr.us-east-2.amazonaws.com)",
    ),
]


@pytest.mark.parametrize(("changes", "message"), [c[1:] for c in STALE], ids=[c[0] for c in STALE])
def test_a_value_still_naming_the_copied_environment_is_refused(
    project: Path, changes: dict[str, str], message: str
) -> None:
    _new_environment(project)
    text = (project / "stacks" / "Pulumi.perf.yaml").read_text()
    for old, new in changes.items():
        text = text.replace(old, new)
    (project / "stacks" / "Pulumi.perf.yaml").write_text(text)
    run = run_cli("plan", "perf", cwd=project)
    assert (run.returncode, run.stderr) == (2, f"error: stacks/Pulumi.perf.yaml: {message}\n")


def test_yaml_loader_keeps_what_the_pulumi_cli_keeps() -> None:
    """Every stack file loads identically through our reader and plain YAML, dates aside."""
    from substrate.stack_file import read

    for path in sorted((ROOT / "stacks").glob("Pulumi.*.yaml")):
        assert read(path, path.name) == yaml.safe_load(path.read_text())["config"]
