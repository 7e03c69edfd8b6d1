"""`substrate` command line.

Exit status: 0 clean, 1 a mandatory policy violation, 2 an invalid stack file or usage error
(one line on stderr, no traceback), 3 reserved for `substrate diff` (changes found).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_VIOLATIONS, EXIT_CONFIG = 0, 1, 2


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


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "plan":
        return cmd_plan(args)
    return EXIT_CONFIG


if __name__ == "__main__":
    raise SystemExit(main())
