"""Every Helm release of every stack renders with real Helm, and what it renders can be
installed: each object is named, no two objects claim the same name, and every namespace an
object goes into exists."""

from __future__ import annotations

from collections import Counter

import pytest

from substrate.components.core.labels import SYSTEM_NAMESPACES
from tests.helm.rendered import STACKS, by_chart, chart_releases, label, rendered

# Namespaces the API server creates itself.
BUILT_IN_NAMESPACES = frozenset({"default", *SYSTEM_NAMESPACES})


@pytest.mark.parametrize("chart", by_chart({}))
def test_every_release_renders_named_objects(chart: str) -> None:
    """A values key the chart's schema rejects or a failing template fails the render (and
    every test here); a release that renders nothing installs nothing."""
    for render, release in chart_releases(chart):
        assert release.objects, f"{render.stack}: {release.release.key} renders no object"
        for obj in release.objects:
            meta = obj.get("metadata") or {}
            assert obj.get("apiVersion") and obj.get("kind") and meta.get("name"), (
                f"{render.stack}: {release.release.key} renders an unnamed object {obj!r:.200}"
            )


def _identity(obj: dict) -> tuple[str, str, str, str]:
    group = str(obj["apiVersion"]).rpartition("/")[0]
    meta = obj["metadata"]
    return group, obj["kind"], meta.get("namespace", ""), meta["name"]


@pytest.mark.parametrize("stack", STACKS)
def test_no_two_objects_claim_the_same_name(stack: str) -> None:
    """Helm refuses to install an object another release or the program already owns."""
    counts = Counter(_identity(o) for o in rendered(stack).objects)
    assert [key for key, n in counts.items() if n > 1] == []


@pytest.mark.parametrize("stack", STACKS)
def test_every_namespace_an_object_goes_into_exists(stack: str) -> None:
    """Releases install with createNamespace false: their namespaces come from the plan."""
    objects = rendered(stack).objects
    created = {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}
    missing = sorted(
        f"{label(o)}"
        for o in objects
        if o["metadata"].get("namespace")
        and o["metadata"]["namespace"] not in created | BUILT_IN_NAMESPACES
    )
    assert missing == []
