"""Docs say only what journeys show: every `<!-- journey: ... -->` marker in docs/ names a
journey that exists, and every docs section a journey cites exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tests.journeys.journey import Journey

MARKER = re.compile(r"<!-- journey: (tests/journeys/\w+\.py)::(\w+) -->")
DOCS = sorted((ROOT / "docs").glob("*.md"))


def anchors(doc: Path) -> set[str]:
    """GitHub's heading anchors: lowercase, punctuation dropped, spaces to hyphens."""
    out = set()
    for heading in re.findall(r"^#+ (.+)$", doc.read_text(), flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        out.add(slug)
    return out


def journeys() -> dict[str, Journey]:
    found = {}
    for path in sorted((ROOT / "tests" / "journeys").glob("test_*.py")):
        module = importlib.import_module(f"tests.journeys.{path.stem}")
        for name, fn in vars(module).items():
            record = getattr(fn, "journey", None)
            if isinstance(record, Journey):
                found[f"tests/journeys/{path.name}::{name}"] = record
    return found


MARKERS = [(doc.name, *m) for doc in DOCS for m in MARKER.findall(doc.read_text())]


@pytest.mark.parametrize(("doc", "file", "function"), MARKERS)
def test_docs_marker_names_a_journey(doc: str, file: str, function: str) -> None:
    assert f"{file}::{function}" in journeys(), f"docs/{doc} cites a journey that does not exist"


def test_every_section_a_journey_cites_exists() -> None:
    missing = []
    for name, record in journeys().items():
        for ref in record.docs:
            path, _, anchor = ref.partition("#")
            doc = ROOT / path
            if not doc.exists() or (anchor and anchor not in anchors(doc)):
                missing.append(f"{name} cites {ref}")
    assert missing == []


def test_every_cited_section_points_back_at_its_journey() -> None:
    cited = {f"{f}::{fn}" for _, f, fn in MARKERS}
    unmarked = [
        f"{name} (cites {', '.join(r.docs)})"
        for name, r in journeys().items()
        if r.docs and name not in cited
    ]
    assert unmarked == [], "add <!-- journey: ... --> beside the claim in the cited section"
