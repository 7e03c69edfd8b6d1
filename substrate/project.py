"""Locate the Pulumi project and read a stack's file, as the pulumi CLI does."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from substrate import stack_file


class ProjectError(Exception):
    """No project, or no/invalid stack file: reported as a config error (exit 2)."""


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    stack_config_dir: Path

    def stack_file(self, stack: str) -> Path:
        return self.stack_config_dir / f"Pulumi.{stack}.yaml"

    def stacks(self) -> list[str]:
        """Every stack with a stack file, sorted: the project's environments."""
        return sorted(
            p.name[len("Pulumi.") : -len(".yaml")]
            for p in self.stack_config_dir.glob("Pulumi.*.yaml")
        )

    def stack_config(self, stack: str) -> dict[str, Any]:
        """The `config:` block of the stack file (YAML values, not yet strings)."""
        path = self.stack_file(stack)
        if not path.exists():
            known = ", ".join(self.stacks()) or "none"
            raise ProjectError(f"{self.relative(path)}: no such stack file (stacks: {known})")
        try:
            return stack_file.read(path, self.relative(path))
        except stack_file.StackFileError as err:
            raise ProjectError(str(err)) from None

    def relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)


def find_project(start: Path | None = None) -> Project:
    """The nearest directory at or above ``start`` holding Pulumi.yaml."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        manifest = directory / "Pulumi.yaml"
        if manifest.exists():
            data = yaml.safe_load(manifest.read_text()) or {}
            config_dir = directory / str(data.get("stackConfigDir", "."))
            return Project(directory, str(data.get("name", directory.name)), config_dir)
    raise ProjectError(f"no Pulumi.yaml in {here} or any parent directory")
