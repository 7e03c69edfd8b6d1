"""Building blocks shared by Substrate's Prometheus rule modules (pure data, no Pulumi import).

- ``alert``: one alerting rule with Substrate's labels (`severity`, `platform`).
- ``seconds``: a Prometheus duration in seconds (for thresholds that compare durations).
- ``increase_since_created``: the increase of a counter over a window that also counts the
  increments of series created during the window. Client-library counters with labels (Kueue's,
  Karpenter's) are created on their first increment, at 1, and ``increase()`` only sees the
  change between samples, so a counter's first increments after its process starts are lost.
- ``kube_label``: kube-state-metrics' `label_<sanitized key>` name of a Kubernetes label.
"""

from __future__ import annotations

import re
from typing import Any

PLATFORM_LABELS = {"platform": "substrate"}
CREATED_LOOKBACK = "1h"
"""How far before a window a counter series must have existed to count as old (a series seen in
that hour is judged by ``increase()``; one that was not is new)."""


def alert(
    name: str,
    expr: str,
    for_: str,
    severity: str,
    *,
    summary: str,
    description: str,
    keep_firing_for: str | None = None,
) -> dict[str, Any]:
    rule: dict[str, Any] = {"alert": name, "expr": expr, "for": for_}
    if keep_firing_for is not None:
        rule["keep_firing_for"] = keep_firing_for
    rule["labels"] = {"severity": severity, **PLATFORM_LABELS}
    rule["annotations"] = {"summary": summary, "description": description}
    return rule


_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def seconds(duration: str) -> int:
    """`1h30m` -> 5400 (Prometheus duration units)."""
    total = 0.0
    for number, unit in re.findall(r"(\d+)(ms|[smhdwy])", duration):
        total += int(number) * _UNITS[unit]
    return int(total)


def increase_since_created(selector: str, window: str) -> str:
    """Per series: ``increase(selector[window])`` for series that existed before the window, the
    current value for series created during it (all their increments happened in the window).

    A series is new when it had no sample in the ``CREATED_LOOKBACK`` before the window while
    Prometheus was already scraping its job then (`up` of the same `job`): a restarted process
    that recreates a series under the same labels is still judged by ``increase()`` (which
    handles the reset), and a Prometheus without that history (just installed, or down longer
    than the look-back) counts no old counter as new."""
    before = f"[{CREATED_LOOKBACK}] offset {window}"
    new = (
        f"({selector} unless last_over_time({selector}{before}) "
        f"and on (job) last_over_time(up{before}))"
    )
    return f"((increase({selector}[{window}]) unless {new}) or {new})"


def kube_label(key: str) -> str:
    """kube-state-metrics' Prometheus label for a Kubernetes label key (v2.20.0
    `internal/store/utils.go`: `label_` + the key with every character outside [a-zA-Z0-9_]
    replaced by `_`, snake-cased and lower-cased)."""
    sanitized = re.sub(r"[^a-zA-Z0-9_]", "_", key)
    return "label_" + re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", sanitized).lower()
