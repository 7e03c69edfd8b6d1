"""Karpenter value rules (AMI aliases, durations, disruption budgets, schedules), shared like every
rule in substrate.components.core.validators, which re-exports them. Pure Python."""

from __future__ import annotations

import re

from substrate.components.cluster.network_rules import Problem

AMI_ALIAS_FAMILIES = ("al2023", "bottlerocket")
_ALIAS_VERSION = {
    # AL2023 EKS AMIs are released as vYYYYMMDD; Bottlerocket as semantic versions (the
    # leading "v" is optional: Karpenter trims it for the SSM path).
    "al2023": re.compile(r"^v\d{8}$"),
    "bottlerocket": re.compile(r"^v?\d+\.\d+\.\d+$"),
}
_DURATION = re.compile(r"^([0-9]+(s|m|h))+$")
_BUDGET_DURATION = re.compile(r"^(([0-9]+(h|m))|([0-9]+h[0-9]+m))$")
_BUDGET_NODES = re.compile(r"^((100|[0-9]{1,2})%|[0-9]+)$")
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,?-]+$")


def ami_alias(alias: str) -> Problem | None:
    """A Karpenter EC2NodeClass alias term: `family@version`, version pinned or `latest`."""
    family, _, version = alias.partition("@")
    allowed = "al2023@v20261112, bottlerocket@v1.53.0 or <family>@latest"
    if family not in AMI_ALIAS_FAMILIES or not version or len(alias) > 30:
        return Problem(f"is not an AMI alias of {' or '.join(AMI_ALIAS_FAMILIES)}", allowed)
    if version != "latest" and not _ALIAS_VERSION[family].match(version):
        return Problem(f"has a version {family} AMIs are not released as", allowed)
    return None


def alias_is_pinned(alias: str) -> bool:
    return "@" in alias and alias.rpartition("@")[2] != "latest"


def duration(value: str, never: bool = False) -> Problem | None:
    """A Karpenter duration such as `30m` or `720h` (optionally `Never`)."""
    if _DURATION.match(value) or (never and value == "Never"):
        return None
    allowed = '"30s", "10m", "720h"' + (' or "Never"' if never else "")
    if value.isdigit():
        return Problem(
            "is a number without a unit; a duration needs one", f'"{value}s", ' + allowed
        )
    return Problem("is not a duration", allowed)


def budget_duration(value: str) -> Problem | None:
    if _BUDGET_DURATION.match(value):
        return None
    return Problem("is not a budget duration", 'hours and/or minutes such as "10h" or "8h30m"')


def budget_nodes(value: str) -> Problem | None:
    if _BUDGET_NODES.match(value):
        return None
    return Problem("is not a node count or percentage", '"1", "0" or a percentage such as "10%"')


def cron(value: str) -> Problem | None:
    fields = value.split()
    if len(fields) == 5 and all(_CRON_FIELD.match(f) for f in fields):
        return None
    return Problem("is not a five-field cron schedule", '"0 13 * * 1-5" (UTC)')


_WINDOW = re.compile(
    r"^([0-9]|[1-5][0-9]) ([0-9]|1[0-9]|2[0-3]) \* \* (\*|[0-6]|sun|mon|tue|wed|thu|fri|sat)$"
)


def maintenance_schedule(value: str) -> Problem | None:
    """A maintenance window's start: daily `M H * * *` or weekly `M H * * D` (UTC)."""
    if _WINDOW.match(value):
        return None
    return Problem(
        "is not a daily or weekly start time",
        '"M H * * *" (daily) or "M H * * D" (weekly, D = 0-6 or sun-sat), e.g. "0 2 * * sat"',
    )
