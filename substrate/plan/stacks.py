"""`substrate stacks`: the project's environments, as workflows and tests enumerate them.

Every stack file in `stacks/` is an environment; nothing else lists them. The JSON form feeds
the GitHub workflows' matrices (preview every stack; deploy tier by tier).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from substrate.config import load_config, stack_file_config
from substrate.plan.pack_config import tier_config
from substrate.project import Project

TIERS = ("development", "staging", "production")
"""Deployment order: every stack of a tier before any stack of the next."""


@dataclass(frozen=True)
class StackInfo:
    stack: str
    environment: str
    tier: str
    policy_config: str
    runner_group: str
    """The GitHub Actions runner group its deploy and preview jobs run on (substrate:deploy)."""

    def as_dict(self) -> dict[str, str]:
        return {
            "stack": self.stack,
            "environment": self.environment,
            "tier": self.tier,
            "policyConfig": self.policy_config,
            "runnerGroup": self.runner_group,
        }


def describe(project: Project) -> list[StackInfo]:
    """Each stack with its environment and tier (ConfigError if a stack file is invalid)."""
    out = []
    for stack in project.stacks():
        cfg = load_config(
            stack_file_config(project.stack_config(stack)), stack=stack, stacks=project.stacks()
        )
        path = project.relative(tier_config(project, cfg.environment.tier))
        out.append(
            StackInfo(
                stack, cfg.environment.name, cfg.environment.tier, path, cfg.deploy.runner_group
            )
        )
    return sorted(out, key=lambda s: (TIERS.index(s.tier), s.stack))


def render_text(stacks: list[StackInfo]) -> str:
    rows = [f"{s.stack:<16} {s.tier:<12} {s.runner_group:<20} {s.policy_config}" for s in stacks]
    header = f"{'STACK':<16} {'TIER':<12} {'RUNNER GROUP':<20} POLICY CONFIG"
    return "\n".join([header, *rows]) + "\n"


def render_json(stacks: list[StackInfo]) -> str:
    """`stacks` (every stack, in deployment order) and `byTier` (tier -> its stacks), the
    shapes the workflows' matrices take."""
    by_tier = {tier: [s.as_dict() for s in stacks if s.tier == tier] for tier in TIERS}
    return json.dumps({"stacks": [s.as_dict() for s in stacks], "byTier": by_tier}) + "\n"
