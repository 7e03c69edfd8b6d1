"""Answers of deterministic engine runs, kept between test sessions in build/cache/.

A run's key is the engine binary (path, size, modification time: `make engines` rewrites it)
and the complete JSON of its inputs, so a changed input, policy or binary is a new run; a clean
checkout (CI) has no cache and runs everything. Use it only where a test compares one engine
with another (the comparison still runs every time); never for the engine a verdict comes from.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from substrate.engines import binary
from tests.helpers import ROOT

CACHE = ROOT / "build" / "cache"


def key(engine: str, inputs: Any) -> str:
    """The cache key of `engine` run on `inputs` (anything JSON can encode)."""
    exe = binary(engine).stat()
    digest = hashlib.sha256()
    digest.update(f"{binary(engine)}\0{exe.st_size}\0{exe.st_mtime_ns}\0".encode())
    digest.update(json.dumps(inputs, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def memo(engine: str, inputs: Any, compute: Callable[[], Any]) -> Any:
    """`compute()` (a JSON value), or what it returned the last time `engine` saw `inputs`."""
    path = CACHE / engine / f"{key(engine, inputs)}.json"
    if path.is_file():
        return json.loads(path.read_text())
    answer = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(answer, sort_keys=True))
    tmp.replace(path)
    return answer
