"""The plan context `substrate check` caches is keyed by everything it is made from."""

from __future__ import annotations

from pathlib import Path

from substrate.check.context import fingerprint
from substrate.project import Project


def project(tmp_path: Path) -> tuple[Project, Path]:
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    (root / "substrate" / "components").mkdir(parents=True)
    (root / "stacks" / "Pulumi.prod.yaml").write_text("config: {}\n")
    (root / "stacks" / "Pulumi.dev.yaml").write_text("config: {}\n")
    (root / "substrate" / "components" / "a.py").write_text("A = 1\n")
    charts = tmp_path / "charts"
    charts.mkdir()
    (charts / "kueue-0.19.2.tgz").write_bytes(b"x")
    return Project(root, "substrate", root / "stacks"), charts


def test_a_changed_input_is_a_new_key(tmp_path: Path) -> None:
    p, charts = project(tmp_path)
    key = fingerprint(p, "prod", charts)
    assert fingerprint(p, "prod", charts) == key
    (p.root / "stacks" / "Pulumi.dev.yaml").write_text("config: {a: 1}\n")  # another stack
    (p.root / "substrate" / "components" / "notes.txt").write_text("not code\n")
    assert fingerprint(p, "prod", charts) == key
    assert fingerprint(p, "dev", charts) != key
    (p.root / "substrate" / "components" / "a.py").write_text("A = 2\n")
    code = fingerprint(p, "prod", charts)
    assert code != key
    (p.root / "stacks" / "Pulumi.prod.yaml").write_text("config: {b: 1}\n")
    stack = fingerprint(p, "prod", charts)
    assert stack != code
    (charts / "kueue-0.19.2.tgz").write_bytes(b"xy")
    assert fingerprint(p, "prod", charts) != stack
