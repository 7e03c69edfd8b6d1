"""``substrate:environment`` and ``substrate:tags``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from substrate.components.core import validators
from substrate.config.checks import rule
from substrate.config.schema import Invalid, doc

Tier = Literal["development", "staging", "production"]


@dataclass(frozen=True)
class EnvironmentConfig:
    """Which environment this stack is; the tier switches on production guardrails."""

    name: Annotated[str, rule(validators.dns_label, 20)] = doc(
        "Short environment name used in resource names and tags: the stack's name (stack "
        "`dev` is environment `dev`)."
    )
    tier: Tier = doc(
        "`production` enforces the production guardrails at config time (private API endpoint, "
        "at least 3 AZs, on-demand system nodes). The stack is judged by its tier's policy-pack "
        "config, `policy_packs/substrate/config.<tier>.json`."
    )

    @property
    def production(self) -> bool:
        return self.tier == "production"


def aws_tags(tags: dict[str, str]) -> None:
    """AWS tag limits: key 1-128 chars not starting with 'aws:', value at most 256 chars."""
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or key.lower().startswith("aws:"):
            raise Invalid(
                f"has tag key {key!r} that AWS rejects",
                "keys of 1-128 characters not starting with 'aws:'",
            )
        if len(value) > 256:
            raise Invalid(
                f"has a value for {key!r} longer than 256 characters",
                "values of at most 256 characters",
            )


Tags = Annotated[dict[str, str], aws_tags]
