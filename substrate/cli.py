"""`substrate` command line.

`substrate plan` exits 0 clean, 1 on a mandatory policy violation, 2 on an invalid stack file
or usage error (one line on stderr, no traceback). `substrate diff` exits 0 when the plans are
identical, 3 when anything changed, 2 on an error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_VIOLATIONS, EXIT_CONFIG, EXIT_CHANGES = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="substrate", description="Substrate: the AI platform blueprint's tools."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    plan = sub.add_parser(
        "plan",
        help="run the stack's program offline under Pulumi's mock "
        "engine, render every object and evaluate the policy pack",
    )
    plan.add_argument("stack", help="stack name: stacks/Pulumi.<stack>.yaml")
    plan.add_argument("--out", type=Path, help="output directory (default out/<stack>)")
    plan.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="summary printed on stdout",
    )
    diff = sub.add_parser(
        "diff",
        help="plan the stack at a git revision and in the working tree, offline, and show "
        "what changes (exit 3 if anything does)",
    )
    diff.add_argument("stack", help="stack name: stacks/Pulumi.<stack>.yaml")
    diff.add_argument("--base", required=True, help="git revision to compare against")
    diff.add_argument("--format", choices=("text", "markdown"), default="text")
    return parser


def cmd_plan(args: argparse.Namespace) -> int:
    from substrate.config import ConfigError
    from substrate.plan.command import plan_stack, render, write_outputs
    from substrate.plan.policy import PolicyConfigError
    from substrate.project import ProjectError, find_project

    try:
        project = find_project()
    except ProjectError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        result = plan_stack(project, args.stack)
    except ConfigError as err:
        print(f"error: {project.relative(project.stack_file(args.stack))}: {err}", file=sys.stderr)
        return EXIT_CONFIG
    except (ProjectError, PolicyConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_CONFIG
    out_dir = args.out if args.out is not None else project.root / "out" / args.stack
    write_outputs(result, out_dir)
    sys.stdout.write(render(result, args.format))
    return EXIT_VIOLATIONS if result.mandatory else EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from substrate.config import ConfigError
    from substrate.diff.command import DiffError, diff_stack
    from substrate.diff.render import markdown, text
    from substrate.plan.policy import PolicyConfigError
    from substrate.project import ProjectError, find_project

    try:
        project = find_project()
    except ProjectError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        result = diff_stack(project, args.stack, args.base)
    except ConfigError as err:
        print(f"error: {project.relative(project.stack_file(args.stack))}: {err}", file=sys.stderr)
        return EXIT_CONFIG
    except (ProjectError, PolicyConfigError, DiffError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_CONFIG
    render = markdown if args.format == "markdown" else text
    sys.stdout.write(render(result, args.base))
    return EXIT_OK if result.identical else EXIT_CHANGES


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "plan":
        return cmd_plan(args)
    if args.command == "diff":
        return cmd_diff(args)
    return EXIT_CONFIG


if __name__ == "__main__":
    raise SystemExit(main())
