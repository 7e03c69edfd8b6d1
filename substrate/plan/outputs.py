"""Write a plan's files without destroying what the plan did not write.

`--out` may point at a directory that holds other files. Each plan records the files it wrote
(`.substrate-plan.json`); the next plan into that directory writes its files atomically (a
temporary file renamed over the old one), then removes only the files the previous plan
recorded and this one no longer writes.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from substrate.plan.command import PlanResult

RECORD = ".substrate-plan.json"


@dataclass(frozen=True)
class Written:
    """Where a plan's files went."""

    directory: Path
    manifests: int

    @property
    def plan(self) -> Path:
        return self.directory / "plan.json"

    @property
    def manifests_dir(self) -> Path:
        return self.directory / "manifests"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _atomic(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, mode)  # mkstemp makes 0600; the plan's files are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _recorded(out_dir: Path) -> set[str]:
    """The files the previous plan in ``out_dir`` wrote (relative, inside ``out_dir`` only)."""
    try:
        files = json.loads((out_dir / RECORD).read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return set()
    root = out_dir.resolve()
    return {f for f in files if isinstance(f, str) and (out_dir / f).resolve().is_relative_to(root)}


def _remove(out_dir: Path, rel: str) -> None:
    path = out_dir / rel
    path.unlink(missing_ok=True)
    parent = path.parent
    while parent != out_dir and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent


def contents(result: PlanResult) -> dict[str, str]:
    """Relative path -> text of every file a plan writes."""
    files = {
        "plan.json": json.dumps(result.plan_json(), indent=2, sort_keys=True, ensure_ascii=False)
        + "\n"
    }
    for rel, body in result.manifests.items():
        files[f"manifests/{rel}"] = yaml.safe_dump(
            body, sort_keys=False, default_flow_style=False, width=1000, allow_unicode=True
        )
    return files


def write_outputs(result: PlanResult, out_dir: Path) -> Written:
    """plan.json and manifests/ in ``out_dir``, replacing the previous plan's files only."""
    out_dir.mkdir(parents=True, exist_ok=True)
    mode = 0o666 & ~_umask()
    previous = _recorded(out_dir)
    files = contents(result)
    for rel, text in files.items():
        _atomic(out_dir / rel, text, mode)
    for rel in sorted(previous - set(files)):
        _remove(out_dir, rel)
    _atomic(out_dir / RECORD, json.dumps({"files": sorted(files)}, indent=1) + "\n", mode)
    return Written(out_dir, len(result.manifests))
