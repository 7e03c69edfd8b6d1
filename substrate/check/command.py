"""`substrate check STACK FILE...`: read the manifests, run the engines, word the verdicts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from substrate.check import chain, context, identity, inputs, network, spark, spiffe, verdicts
from substrate.check.render import Report
from substrate.config import PlatformConfig, load_config, stack_file_config
from substrate.project import Project


def tenants_of(config: PlatformConfig) -> dict[str, list[str]]:
    """Tenant -> its namespaces, as the stack file declares them."""
    return {name: list(t.spec(name).namespaces) for name, t in sorted(config.tenants.items())}


def stack_config(project: Project, stack: str) -> PlatformConfig:
    """The stack's typed config (ProjectError or ConfigError, both bad input)."""
    raw = stack_file_config(project.stack_config(stack))
    return load_config(raw, stack=stack, stacks=project.stacks())


def place(
    manifests: Sequence[inputs.Manifest], config: PlatformConfig, tenant: str | None
) -> list[tuple[str, inputs.Manifest]]:
    """Every manifest in a tenant namespace, SparkApplications in the Spark namespaces."""
    placed = inputs.place(manifests, tenants_of(config), tenant)
    spark.refuse_unwatched(placed, spark.namespaces(config))
    return placed


def check_placed(
    ctx: context.Context,
    placed: Sequence[tuple[str, inputs.Manifest]],
    config: PlatformConfig,
) -> Report:
    """The verdict on every placed manifest against a stack's context and typed config."""
    runs = chain.run_all(ctx, placed)
    access = identity.access(config, ctx.records)
    connections = network.judge_all(ctx, [m for _, m in placed])
    ids = spiffe.judge_all(ctx, runs)
    return Report(ctx.stack, tuple(verdicts.of_run(ctx, r, access, connections, ids) for r in runs))


def check_objects(
    ctx: context.Context,
    manifests: Sequence[inputs.Manifest],
    config: PlatformConfig,
    tenant: str | None = None,
) -> Report:
    return check_placed(ctx, place(manifests, config, tenant), config)


def check(
    project: Project,
    stack: str,
    files: Sequence[Path],
    tenant: str | None = None,
    *,
    use_cache: bool = True,
) -> Report:
    """Read and place ``files`` (ManifestError on bad input) before planning anything, then
    judge them against the stack's (cached) context."""
    manifests = inputs.read(files)
    config = stack_config(project, stack)
    placed = place(manifests, config, tenant)
    return check_placed(context.load(project, stack, use_cache=use_cache), placed, config)
