"""tests/engine_memo.py keys a kept answer on the binary and every input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import engine_memo


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    exe = tmp_path / "engines" / "fake"
    exe.parent.mkdir()
    exe.write_bytes(b"v1")
    monkeypatch.setattr(engine_memo, "binary", lambda name: exe.parent / name)
    monkeypatch.setattr(engine_memo, "CACHE", tmp_path / "cache")
    return exe


def test_an_answer_is_kept_for_the_same_inputs_and_binary(engine: Path) -> None:
    calls: list[int] = []

    def compute() -> list[int]:
        calls.append(1)
        return [len(calls)]

    assert engine_memo.memo("fake", {"a": [1, 2]}, compute) == [1]
    assert engine_memo.memo("fake", {"a": [1, 2]}, compute) == [1]
    assert engine_memo.memo("fake", {"a": [1, 3]}, compute) == [2]
    assert len(calls) == 2


def test_a_rebuilt_binary_is_a_new_key(engine: Path) -> None:
    before = engine_memo.key("fake", {"a": 1})
    os.utime(engine, ns=(1, 1))
    assert engine_memo.key("fake", {"a": 1}) != before
