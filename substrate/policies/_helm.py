"""Helm releases as a policy sees them: `helm.sh/v3:Release` and `helm.sh/v4:Chart` inputs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._props import value
from ._types import HELM_CHART, HELM_RELEASE

HELM_TYPES = (HELM_RELEASE, HELM_CHART)


def chart_name(resource_type: str, props: Mapping[str, Any]) -> str | None:
    """The chart's name (last path element of an OCI reference); None if not a Helm release."""
    if resource_type not in HELM_TYPES:
        return None
    chart = value(props, "chart")
    if not isinstance(chart, str):
        return None
    return chart.rstrip("/").rsplit("/", 1)[-1]


def chart_value(props: Mapping[str, Any], *path: str | int) -> Any:
    """A Helm value (MISSING when unset, UNKNOWN when computed at deploy time)."""
    return value(props, "values", *path)
