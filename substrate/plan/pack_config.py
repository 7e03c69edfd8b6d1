"""Which policy-pack config judges a stack: the file `pulumi preview --policy-pack-config`
takes, found the same way by `substrate plan`, `substrate diff` and the workflows.

Substrate's own stacks are judged by the config of their tier
(`policy_packs/substrate/config.<tier>.json`: development, staging or production): the pack
config holds per-tier policy settings only, so a new environment needs no copy of it, and a
missing one is an error. Other programs (examples, a team's own program importing the
components) use `--policy-config`, or `config.<stack>.json` beside them; without either, every
policy runs at its own level and the plan says so in one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from substrate.config import PlatformConfig
from substrate.plan.policy import PACK_NAME, PolicyConfigError
from substrate.project import Project

POLICY_PACK_DIR = Path("policy_packs") / PACK_NAME


@dataclass(frozen=True)
class PackConfig:
    path: Path | None
    """The config file, or None: every policy at its own enforcement level."""
    note: str | None = None
    """One line to tell the user when no file was found."""


def tier_config(project: Project, tier: str) -> Path:
    return project.root / POLICY_PACK_DIR / f"config.{tier}.json"


def resolve(
    project: Project, stack: str, config: PlatformConfig | None, explicit: Path | None = None
) -> PackConfig:
    """The policy config for ``stack`` (``config`` is its typed config, for Substrate's own
    project); PolicyConfigError when a file that must exist does not."""
    if explicit is not None:
        if not explicit.is_file():
            raise PolicyConfigError(f"{explicit}: no such policy config file (--policy-config)")
        return PackConfig(explicit)
    if config is not None:
        path = tier_config(project, config.environment.tier)
        if not path.is_file():
            raise PolicyConfigError(
                f"{project.relative(path)}: missing; stack {stack} is of tier "
                f"{config.environment.tier} and is judged by that tier's policy config"
            )
        return PackConfig(path)
    beside = project.root / POLICY_PACK_DIR / f"config.{stack}.json"
    if beside.is_file():
        return PackConfig(beside)
    return PackConfig(
        None,
        f"note: no policy config ({project.relative(beside)} or --policy-config): every "
        "policy of the pack runs at its own enforcement level",
    )
