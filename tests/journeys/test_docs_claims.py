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


def slug(heading: str) -> str:
    """GitHub's heading anchor: lowercase, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    return {slug(h) for h in re.findall(r"^#+ (.+)$", doc.read_text(), flags=re.MULTILINE)}


def placed_markers(doc: Path) -> list[tuple[str, str]]:
    """(section anchor, journey) for every marker of ``doc``: the section is the nearest
    heading above the marker outside fenced code blocks."""
    out, section, fenced = [], "", False
    for line in doc.read_text().splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (heading := re.match(r"^#+ (.+)$", line)):
            section = slug(heading.group(1))
        out += [(section, f"{f}::{fn}") for f, fn in MARKER.findall(line)]
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


def test_every_marker_sits_in_a_section_its_journey_cites() -> None:
    """A marker beside a claim says the journey shows that claim, so the journey names the
    section (docs=) the claim is in; a marker moved beside another claim fails here."""
    found = journeys()
    astray = [
        f"docs/{doc.name}#{section}: {name} cites {list(found[name].docs)}"
        for doc in DOCS
        for section, name in placed_markers(doc)
        if name in found and f"docs/{doc.name}#{section}" not in found[name].docs
    ]
    assert astray == []
