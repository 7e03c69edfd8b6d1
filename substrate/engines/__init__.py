"""The real engines Substrate's behaviour is judged by, and where their binaries live.

Each engine is a Go program built by `make engines` from `tools/engines/<name>/go.mod`, pinned in
``substrate.components.core.versions.ENGINES`` at the version the platform deploys, into
``build/engines/``
(override with ``SUBSTRATE_ENGINE_DIR``). Nothing here re-implements an engine: callers hand the
engine real objects and read its verdict.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD_TARGET = "make engines"


class EngineMissingError(RuntimeError):
    """An engine binary is not built: the message names the make target that builds it."""


def engine_dir() -> Path:
    return Path(os.environ.get("SUBSTRATE_ENGINE_DIR", ROOT / "build" / "engines"))


def binary(name: str) -> Path:
    """The built engine ``name``; EngineMissingError (one line) when it is not there."""
    path = engine_dir() / name
    if not os.access(path, os.X_OK):
        raise EngineMissingError(f"the {name} engine is not built at {path}: run `{BUILD_TARGET}`")
    return path


class EngineFailedError(RuntimeError):
    """An engine exited in a way its caller did not expect; the message carries its output."""


def run(
    name: str,
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    ok: Sequence[int] = (0,),
    stdin: str | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run engine ``name`` with ``args``; EngineFailedError unless its exit status is in ``ok``."""
    done = subprocess.run(
        [str(binary(name)), *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode not in ok:
        raise EngineFailedError(
            f"{name} {' '.join(args)} exited {done.returncode}\n"
            f"stdout:\n{done.stdout[-4000:]}\nstderr:\n{done.stderr[-4000:]}"
        )
    return done
