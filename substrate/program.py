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


def deploying_principal() -> str:
    """The IAM role or user behind the credentials this program runs with: the caller identity,
    and for a role session the role it was assumed from (aws.iam.getSessionContext)."""
    import pulumi_aws as aws

    caller = aws.get_caller_identity()
    return aws.iam.get_session_context(arn=caller.arn).issuer_arn


def check_deployer(cfg: PlatformConfig) -> None:
    """Refuse to run as a principal outside substrate:cluster.admins: the cluster grants no
    implicit admin to its creator, so an update by anyone else could not reach the Kubernetes
    API, and an update that removed the running principal from the admins would lock it out.
    A preview (which changes nothing) may also run as substrate:deploy.previewRole, the
    read-only role pull-request previews use."""
    who = deploying_principal()
    allowed = list(cfg.cluster.admins)
    if pulumi.runtime.is_dry_run() and cfg.deploy.preview_role is not None:
        allowed.append(cfg.deploy.preview_role)
    if who not in allowed:
        raise pulumi.RunError(
            f"stacks/Pulumi.{pulumi.get_stack()}.yaml: refusing to deploy as {who}: it is not "
            "in substrate:cluster.admins, so it would have no access to the cluster (deploy "
            f"as {cfg.deploy.role}, or add it to the admins)"
        )


def main() -> None:
    cfg = read_config()
    check_deployer(cfg)
    build_platform(cfg)
