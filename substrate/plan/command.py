"""`substrate plan STACK`: run the program offline, write plan.json and manifests, judge it."""

from __future__ import annotations

import json
import runpy
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from substrate.config import load_config, stack_file_config
from substrate.plan.manifests import helm_releases, render_manifests
from substrate.plan.policy import (
    PACK_NAME,
    Violation,
    effective_policies,
    evaluate,
    load_pack_config,
)
from substrate.plan.recorder import ResourceRecord
from substrate.plan.report import Summary, as_json, markdown, summarize, text
from substrate.plan.runner import run_under_mocks
from substrate.project import Project, ProjectError

Format = Literal["text", "json", "markdown"]
POLICY_PACK_DIR = Path("policy_packs") / PACK_NAME


@dataclass(frozen=True)
class PlanResult:
    project: str
    stack: str
    records: list[ResourceRecord]
    violations: list[Violation]
    manifests: dict[str, dict[str, Any]]
    releases: list[dict[str, Any]]

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


def stack_region(project: Project, stack: str, config: Mapping[str, str]) -> str:
    """The stack's Region. Substrate's own project validates its whole config first (one-line
    ConfigError); any other project (e.g. an example importing the components) needs
    `aws:region`."""
    if project.name == "substrate":
        return load_config(config, stack=stack, stacks=project.stacks()).region
    region = config.get("aws:region")
    if not region:
        raise ProjectError(
            f"{project.relative(project.stack_file(stack))}: aws:region is required to plan offline"
        )
    return region


def plan_stack(project: Project, stack: str) -> PlanResult:
    """Parse the stack's config (ConfigError on a bad file), run the project's program under
    the mock engine, judge it with the policy pack."""
    from policy_packs.substrate.policies import POLICIES

    config = stack_file_config(project.stack_config(stack))
    region = stack_region(project, stack, config)  # fail before any resource is declared
    pack_config_path = project.root / POLICY_PACK_DIR / f"config.{stack}.json"
    policies = effective_policies(  # and before running anything on a bad policy config
        POLICIES, load_pack_config(pack_config_path), source=project.relative(pack_config_path)
    )
    records = run_under_mocks(
        program_of(project), project=project.name, stack=stack, config=config, region=region
    )
    violations = evaluate(records, policies)
    return PlanResult(
        project.name, stack, records, violations, render_manifests(records), helm_releases(records)
    )


def write_outputs(result: PlanResult, out_dir: Path) -> None:
    """plan.json and manifests/, replacing any previous plan in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifests_dir = out_dir / "manifests"
    if manifests_dir.exists():
        shutil.rmtree(manifests_dir)
    (out_dir / "plan.json").write_text(
        json.dumps(result.plan_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )
    for rel, body in result.manifests.items():
        path = manifests_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            yaml.safe_dump(
                body, sort_keys=False, default_flow_style=False, width=1000, allow_unicode=True
            )
        )


def render(result: PlanResult, fmt: Format) -> str:
    summary = result.summary()
    return {"text": text, "json": as_json, "markdown": markdown}[fmt](summary)


__all__ = ["PlanResult", "plan_stack", "render", "write_outputs"]
