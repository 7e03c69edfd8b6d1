"""One stack, one environment: values that name an environment must name this one.

A new environment starts as a copy of another stack file (README, "Add an environment"). What
identifies the copied environment must not survive the copy: the environment name is the stack
name; the SPIFFE trust domain carries it as a label (SVIDs of two environments must never share
a domain); the account's ECR registry is in the stack's Region (nodes pull through the Region's
ECR endpoints); the cluster name and the admins' IAM names do not name another stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from substrate.config.schema import ConfigError

if TYPE_CHECKING:
    from substrate.config.platform import PlatformConfig

ECR_REGISTRY = re.compile(r"^\d{12}\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(/|$)")


def _tokens(text: str) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", text.lower())) - {""}


def _what(path: str) -> str:
    if "admins" in path:
        return "admin"
    if path.startswith("substrate:deploy."):
        return {"runnerGroup": "runner group"}.get(path.rsplit(".", 1)[1], "deploy role")
    return "cluster name"


def check_environment(cfg: PlatformConfig, stack: str, stacks: Iterable[str]) -> None:
    """ConfigError when a value of ``stack``'s config names another of the project's
    ``stacks`` (or, for the environment name, is not ``stack`` itself)."""
    env = cfg.environment.name
    if env != stack:
        raise ConfigError(
            "substrate:environment.name",
            env,
            f"names another environment than this stack, {stack}",
            f'"{stack}" (the stack name: one stack, one environment)',
        )
    others = {s.lower() for s in stacks} - {stack.lower()}
    domain = cfg.identity.trust_domain
    labels = domain.lower().split(".")
    if env.lower() not in labels or others & set(labels):
        raise ConfigError(
            "substrate:identity.trustDomain",
            domain,
            f"does not name environment {env} (two environments must never share a trust domain)",
            f'a trust domain with "{env}" as a label, such as "{env}.substrate.internal"',
        )
    for i, registry in enumerate(cfg.admission.allowed_registries):
        match = ECR_REGISTRY.match(registry)
        if match and match.group(1) != cfg.region:
            raise ConfigError(
                f"substrate:admission.allowedRegistries[{i}]",
                registry,
                f"is the ECR registry of {match.group(1)}, not of this stack's Region "
                f"{cfg.region} (nodes pull through the Region's ECR endpoints)",
                f"the account's registry in {cfg.region}: <account>.dkr.ecr.{cfg.region}"
                ".amazonaws.com",
            )
    named = [("substrate:cluster.name", cfg.cluster.name or "")]
    named += [(f"substrate:cluster.admins[{i}]", a) for i, a in enumerate(cfg.cluster.admins)]
    for tenant, spec in sorted(cfg.tenants.items()):
        named += [(f"substrate:tenants.{tenant}.admins[{i}]", a) for i, a in enumerate(spec.admins)]
    named += [
        ("substrate:deploy.role", cfg.deploy.role),
        ("substrate:deploy.previewRole", cfg.deploy.preview_role or ""),
        ("substrate:deploy.runnerGroup", cfg.deploy.runner_group),
    ]
    for path, value in named:
        clash = sorted(others & _tokens(value.rsplit(":", 1)[-1])) if value else []
        if clash and env.lower() not in _tokens(value.rsplit(":", 1)[-1]):
            raise ConfigError(
                path,
                value,
                f"names environment {clash[0]}, not this stack's ({env})",
                f"this environment's own {_what(path)}",
            )
