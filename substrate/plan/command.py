"""`substrate plan STACK`: run the program offline, write plan.json and manifests, judge it."""

from __future__ import annotations

import runpy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from substrate.config import PlatformConfig, load_config, stack_file_config
from substrate.plan import pack_config
from substrate.plan.manifests import helm_releases, render_manifests
from substrate.plan.outputs import Written
from substrate.plan.policy import (
    Violation,
    effective_policies,
    evaluate,
    load_pack_config,
)
from substrate.plan.recorder import ResourceRecord
from substrate.plan.report import Summary, as_json, markdown, plural, summarize, text
from substrate.plan.runner import run_under_mocks
from substrate.project import Project, ProjectError

Format = Literal["text", "json", "markdown"]


@dataclass(frozen=True)
class PlanResult:
    project: str
    stack: str
    records: list[ResourceRecord]
    violations: list[Violation]
    manifests: dict[str, dict[str, Any]]
    releases: list[dict[str, Any]]
    policy_config: str = ""
    """The policy-pack config that judged the plan (a path, or "the pack's own levels")."""
    notes: tuple[str, ...] = ()
    """Lines for the user (stderr): what was assumed."""

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.enforcement == "mandatory"]

    def plan_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "resources": [
                {
                    "urn": r.urn,
                    "type": r.type,
                    "name": r.name,
                    "parent": r.parent,
                    "dependencies": sorted(r.dependencies),
                    "provider": r.provider_urn,
                    "inputs": r.inputs,
                }
                for r in self.records
            ],
            "helmReleases": self.releases,
            "policy": {"violations": [v.as_dict() for v in self.violations]},
        }

    def summary(self) -> Summary:
        return summarize(
            self.project,
            self.stack,
            self.records,
            violations=self.violations,
            manifests=len(self.manifests),
            helm_releases=len(self.releases),
        )


def program_of(project: Project) -> Callable[[], None]:
    """The project's entry point, run as the Pulumi language host runs it."""
    entry = project.root / "__main__.py"
    if not entry.exists():
        raise ProjectError(f"{project.relative(entry)}: the project has no __main__.py")

    def program() -> None:
        runpy.run_path(str(entry), run_name="__main__")

    return program


def typed_config(project: Project, stack: str, config: Mapping[str, str]) -> PlatformConfig | None:
    """Substrate's own project validates its whole config before anything runs (one-line
    ConfigError); other projects (examples, a team's program) have their own config."""
    if project.name == "substrate":
        return load_config(config, stack=stack, stacks=project.stacks())
    return None


def stack_region(project: Project, stack: str, config: Mapping[str, str]) -> str:
    """The Region of a project other than Substrate's own: its `aws:region`."""
    region = config.get("aws:region")
    if not region:
        raise ProjectError(
            f"{project.relative(project.stack_file(stack))}: aws:region is required to plan offline"
        )
    return region


def plan_stack(project: Project, stack: str, policy_config: Path | None = None) -> PlanResult:
    """Parse the stack's config (ConfigError on a bad file), run the project's program under
    the mock engine, judge it with the policy pack (config: ``policy_config``, or the one
    substrate.plan.pack_config finds)."""
    from substrate.policies import POLICIES

    config = stack_file_config(project.stack_config(stack))
    typed = typed_config(project, stack, config)  # fail before any resource is declared
    region = typed.region if typed is not None else stack_region(project, stack, config)
    pack = pack_config.resolve(project, stack, typed, policy_config)
    source = project.relative(pack.path) if pack.path else "the pack's own levels"
    policies = effective_policies(  # and before running anything on a bad policy config
        POLICIES, load_pack_config(pack.path) if pack.path else {}, source=source
    )
    records = run_under_mocks(
        program_of(project),
        project=project.name,
        stack=stack,
        config=config,
        region=region,
        caller=typed.deploy.role if typed is not None else None,
    )
    violations = evaluate(records, policies)
    return PlanResult(
        project.name,
        stack,
        records,
        violations,
        render_manifests(records),
        helm_releases(records),
        policy_config=source,
        notes=(pack.note,) if pack.note else (),
    )


def render(result: PlanResult, fmt: Format, written: Written | None = None) -> str:
    summary = result.summary()
    out = {"text": text, "json": as_json, "markdown": markdown}[fmt](summary)
    if fmt == "text" and written is not None:
        out += (
            f"wrote {written.plan} and {plural(written.manifests, 'manifest')} under "
            f"{written.manifests_dir}/\n"
        )
    return out


__all__ = ["PlanResult", "plan_stack", "render"]
