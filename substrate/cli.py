"""`substrate` command line.

Exit status, for every command (README, "Exit status"):

- 0: done; for `plan`, no mandatory policy violation; for `diff`, the plans are identical;
- 1: `plan` found a mandatory policy violation (and only that); `check` found a workload that
  would not run;
- 2: invalid input: a bad argument, an unreadable or invalid stack file, a bad policy config,
  an unknown revision, an output path that is a file, a program the engine would refuse (a
  duplicate URN, a name longer than the provider's auto-naming allows), a program's component
  args that do not match the component's TypedDict (a misspelled key, a wrong type);
- 3: `diff` found changes;
- 4: Substrate itself failed (a bug): one line; `--debug` shows the traceback.

Every error is one line on stderr, prefixed `error:`.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import traceback
from importlib import metadata
from pathlib import Path
from typing import NoReturn

EXIT_OK, EXIT_VIOLATIONS, EXIT_INPUT, EXIT_CHANGES, EXIT_INTERNAL = 0, 1, 2, 3, 4
EXIT_CONFIG = EXIT_INPUT  # the name earlier releases used


class InputError(Exception):
    """Invalid input found by the CLI itself (exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(EXIT_INPUT)


def _version() -> str:
    try:
        return metadata.version("substrate")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="substrate",
        description="Substrate: plan, diff and list the AI platform's stacks offline.",
        epilog="Exit status: 0 ok, 1 mandatory policy violation (plan), 2 invalid input, "
        "3 changes (diff), 4 internal error; check: 1 a workload would not run.",
    )
    parser.add_argument("--version", action="version", version=f"substrate {_version()}")
    parser.add_argument(
        "--debug", action="store_true", help="on an internal error, print the traceback"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    plan = sub.add_parser(
        "plan",
        help="run the stack's program offline under Pulumi's mock engine, render every object "
        "and evaluate the policy pack",
        description="Run the stack's program offline under Pulumi's mock engine, write plan.json "
        "and every Kubernetes manifest, and evaluate the policy pack.",
    )
    plan.add_argument("stack", help="stack name: stacks/Pulumi.<stack>.yaml")
    plan.add_argument(
        "--out",
        type=Path,
        help="output directory (default out/<stack>); files a previous plan did not write are "
        "left alone",
    )
    plan.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="summary printed on stdout (default text; markdown adds a diagram for PR comments)",
    )
    _policy_config_option(plan)
    diff = sub.add_parser(
        "diff",
        help="plan the stack at a git revision and in the working tree, offline, and show what "
        "changes (exit 3 if anything does)",
        description="Plan the stack at REV (in a temporary git worktree, with that revision's "
        "code) and in the working tree, and list resources added, removed and changed and "
        "policy violations introduced or fixed.",
    )
    diff.add_argument("stack", help="stack name: stacks/Pulumi.<stack>.yaml")
    diff.add_argument("--base", required=True, metavar="REV", help="git revision to compare with")
    diff.add_argument(
        "--format",
        choices=("text", "markdown"),
        default="text",
        help="output on stdout (default text)",
    )
    _policy_config_option(diff)
    _check_parser(sub)
    stacks = sub.add_parser(
        "stacks",
        help="list the project's stacks with their environment, tier and policy config",
        description="List every stack (stacks/Pulumi.<stack>.yaml) with its environment name, "
        "tier and the policy-pack config that judges it; workflows read --format json.",
    )
    stacks.add_argument(
        "--format", choices=("text", "json"), default="text", help="output (default text)"
    )
    return parser


def _check_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    check = sub.add_parser(
        "check",
        help="judge a tenant's manifests against a stack with the real engines: admission, "
        "queue (exit 1 if a workload would not run)",
        description="Create the manifests on the stack's planned cluster offline: the API "
        "server's admission and controllers, Kyverno under the stack's policies, Kueue on its "
        "idle queues. Exit 0 when every workload would run, 1 when one would not.",
    )
    check.add_argument("stack", help="stack name: stacks/Pulumi.<stack>.yaml")
    check.add_argument(
        "files", nargs="+", type=Path, metavar="FILE", help="multi-document YAML manifests"
    )
    check.add_argument(
        "--tenant",
        metavar="NAME",
        help="the tenant submitting them: manifests without a namespace go into its first "
        "namespace, and every namespace must be its own",
    )
    check.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="output on stdout (default text; markdown for a PR comment)",
    )
    check.add_argument(
        "--no-cache",
        action="store_true",
        help="plan the stack again instead of reusing out/.check/ (the cache is keyed by the "
        "stack file, the code and the chart packages)",
    )


def _policy_config_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--policy-config",
        type=Path,
        metavar="FILE",
        help="policy-pack config to judge with (what `pulumi preview --policy-pack-config` "
        "takes); default: the stack tier's policy_packs/substrate/config.<tier>.json",
    )


def cmd_plan(args: argparse.Namespace) -> int:
    from substrate.plan.command import plan_stack, render
    from substrate.plan.outputs import write_outputs
    from substrate.project import find_project

    project = find_project()
    out_dir = args.out if args.out is not None else project.root / "out" / args.stack
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out {out_dir}: is a file; give a directory")
    result = plan_stack(project, args.stack, args.policy_config)
    for note in result.notes:
        print(note, file=sys.stderr)
    written = write_outputs(result, out_dir)
    sys.stdout.write(render(result, args.format, written))
    return EXIT_VIOLATIONS if result.mandatory else EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from substrate.diff.command import diff_stack
    from substrate.diff.render import markdown, text
    from substrate.project import find_project

    project = find_project()
    result = diff_stack(project, args.stack, args.base, args.policy_config)
    render = markdown if args.format == "markdown" else text
    sys.stdout.write(render(result, args.base))
    return EXIT_OK if result.identical else EXIT_CHANGES


def cmd_check(args: argparse.Namespace) -> int:
    from substrate.check.command import check
    from substrate.check.render import render
    from substrate.project import find_project

    report = check(find_project(), args.stack, args.files, args.tenant, use_cache=not args.no_cache)
    sys.stdout.write(render(report, args.format))
    return EXIT_OK if report.runs else EXIT_VIOLATIONS


def cmd_stacks(args: argparse.Namespace) -> int:
    from substrate.plan.stacks import describe, render_json, render_text
    from substrate.project import find_project

    listed = describe(find_project())
    sys.stdout.write(render_json(listed) if args.format == "json" else render_text(listed))
    return EXIT_OK


def _input_errors() -> tuple[type[Exception], ...]:
    from pulumi import RunError

    from substrate.check.context import ChartsMissingError
    from substrate.check.inputs import ManifestError
    from substrate.components.core._args import ArgsError
    from substrate.config import ConfigError
    from substrate.diff.command import DiffError
    from substrate.plan.engine_rules import EngineRefusalError
    from substrate.plan.policy import PolicyConfigError
    from substrate.project import ProjectError

    return (
        ArgsError,
        ConfigError,
        DiffError,
        EngineRefusalError,
        PolicyConfigError,
        ProjectError,
        InputError,
        RunError,
        ManifestError,
        ChartsMissingError,
    )


def _stack_error(args: argparse.Namespace, err: Exception) -> str:
    """ConfigErrors name the stack file they come from; ArgsErrors the program line that
    constructed the component."""
    from substrate.components.core._args import ArgsError
    from substrate.config import ConfigError
    from substrate.project import find_project

    if isinstance(err, ConfigError):
        project = find_project()
        return f"{project.relative(project.stack_file(args.stack))}: {err}"
    if isinstance(err, ArgsError) and (where := _constructed_at(err)) is not None:
        return f"{find_project().relative(Path(where.filename))}:{where.lineno}: {err}"
    return str(err)


def _constructed_at(err: Exception) -> traceback.FrameSummary | None:
    """The last frame before the traceback enters substrate/components/: the line that
    constructed it."""
    from substrate import components

    inside = Path(components.__file__).parent
    frames = traceback.extract_tb(err.__traceback__)
    for before, frame in itertools.pairwise(frames):
        if inside in Path(frame.filename).parents and inside not in Path(before.filename).parents:
            return before
    return None


def _first_line(err: Exception) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else ""


def main(argv: list[str] | None = None) -> int:
    commands = {"plan": cmd_plan, "diff": cmd_diff, "check": cmd_check, "stacks": cmd_stacks}
    try:
        args = _parser().parse_args(argv)
    except SystemExit as done:  # --help, --version, or a usage error already printed
        return int(done.code or 0)
    try:
        return commands[args.command](args)
    except _input_errors() as err:
        print(f"error: {_stack_error(args, err)}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if args.debug:
            traceback.print_exc()
        else:
            print(
                f"error: internal error: {type(err).__name__}: {_first_line(err)} (run "
                "`substrate --debug "
                f"{args.command} ...` for the traceback; please report it)",
                file=sys.stderr,
            )
        return EXIT_INTERNAL


if __name__ == "__main__":
    raise SystemExit(main())
