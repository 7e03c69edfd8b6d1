"""The Pulumi program: read the stack's config, build the platform.

`pulumi up` runs this through __main__.py; `substrate plan` runs the same function under the
mock engine.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.runtime.config import CONFIG, get_config_env

from substrate.config import ConfigError, PlatformConfig, load_config
from substrate.platform import build_platform
from substrate.project import find_project


def runtime_config() -> dict[str, Any]:
    """Every config key the engine gave this program (``ns:key -> string``)."""
    return {**get_config_env(), **CONFIG.get()}


def read_config() -> PlatformConfig:
    stack = pulumi.get_stack()
    try:
        return load_config(runtime_config(), stack=stack, stacks=find_project().stacks())
    except ConfigError as err:
        # RunError ends the program with this one line and no traceback.
        raise pulumi.RunError(f"stacks/Pulumi.{pulumi.get_stack()}.yaml: {err}") from None


def main() -> None:
    build_platform(read_config())
