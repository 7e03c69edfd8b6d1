"""`substrate check` refuses bad input with exit 2 and one line naming what is wrong, before any
plan or engine runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_cli

JOB = """\
apiVersion: batch/v1
kind: Job
metadata: {name: train, namespace: ml-research}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox}]
"""


def refused(tmp_path: Path, text: str, *extra: str) -> str:
    path = tmp_path / "in.yaml"
    path.write_text(text)
    done = run_cli("check", "prod", str(path), *extra)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kind: Job\n  bad: [\n", "invalid YAML"),
        ("- a\n- b\n", "a manifest is a mapping, not list"),
        ("kind: Job\nmetadata: {name: x}\n", "apiVersion and kind are required"),
        (JOB.replace("batch/v1", "batch/v2"), "Job is served as batch/v1, not batch/v2"),
        (JOB.replace("kind: Job", "kind: ClusterRole"), "ClusterRole is not a kind tenants"),
        (JOB.replace("name: train, ", ""), "metadata.name is required"),
        ("apiVersion: v1\nkind: List\nitems: []\n", "a List; give its items"),
        ("# nothing\n", "no manifests in"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", "no workload among"),
        (JOB + "---\n" + JOB, "Job/train in ml-research is given twice"),
        (JOB.replace("ml-research}", "kube-system}"), "kube-system belongs to no tenant"),
        (JOB.replace(", namespace: ml-research", ""), "has no namespace; give --tenant"),
    ],
)
def test_bad_manifests_are_refused_in_one_line(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in refused(tmp_path, text)


def test_the_document_is_named(tmp_path: Path) -> None:
    line = refused(tmp_path, JOB + "---\n" + JOB.replace("kind: Job", "kind: Node"))
    assert f"{tmp_path / 'in.yaml'}#2: Node" in line


def test_a_tenant_only_checks_its_own_namespaces(tmp_path: Path) -> None:
    line = refused(tmp_path, JOB, "--tenant", "data-eng")
    assert "namespace ml-research is ml-research's, not data-eng's (data-eng)" in line
    assert "no tenant 'nobody'" in refused(tmp_path, JOB, "--tenant", "nobody")


def test_missing_files_and_stacks_are_bad_input(tmp_path: Path) -> None:
    done = run_cli("check", "prod", str(tmp_path / "absent.yaml"))
    assert done.returncode == 2 and "cannot read" in done.stderr
    path = tmp_path / "in.yaml"
    path.write_text(JOB)
    done = run_cli("check", "nosuchstack", str(path))
    assert done.returncode == 2 and "no such stack file" in done.stderr
    done = run_cli("check", "prod", str(path), "--format", "yaml")
    assert done.returncode == 2 and "invalid choice" in done.stderr
