"""What `substrate plan` costs beyond the mock engine's own per-resource cost.

Baseline: a program registering N plain custom resources under the stock MockMonitor. Then each
stack's plan (program + recording + policy evaluation + rendering). Prints seconds and the
per-resource overhead. Timings, not assertions: run it before and after a change.
"""

from __future__ import annotations

import contextvars
import statistics
import sys
import time
from pathlib import Path

import pulumi
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.mocks import MockMonitor, set_mocks
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from substrate.plan.command import plan_stack, render  # noqa: E402
from substrate.plan.mocks import SubstrateMocks  # noqa: E402
from substrate.project import find_project  # noqa: E402


def baseline(count: int) -> float:
    def program() -> None:
        for i in range(count):
            pulumi.CustomResource("bench:index:Thing", f"thing-{i}", {"value": i})

    def run() -> float:
        pulumi_settings.ROOT.set(None)
        mocks = SubstrateMocks("us-west-2")
        set_mocks(mocks, project="bench", stack="bench", preview=False, monitor=MockMonitor(mocks))
        start = time.perf_counter()
        _sync_await(run_pulumi_func(program))
        return time.perf_counter() - start

    return contextvars.copy_context().run(run)


def main() -> None:
    project = find_project(ROOT)
    base = [baseline(n) for n in (100, 400)]
    per_resource = (base[1] - base[0]) / 300
    fixed = base[0] - 100 * per_resource
    print(f"mock engine baseline: {fixed:.3f} s fixed + {per_resource * 1000:.2f} ms/resource")
    for stack in project.stacks():
        times = []
        for _ in range(3):
            start = time.perf_counter()
            result = plan_stack(project, stack)
            render(result, "text")
            times.append(time.perf_counter() - start)
        n = len(result.records)
        expected = fixed + n * per_resource
        took = statistics.median(times)
        print(
            f"plan {stack:8s}: {n:4d} resources, {took:.3f} s "
            f"(mock engine alone ~{expected:.3f} s, overhead {took - expected:+.3f} s)"
        )


if __name__ == "__main__":
    main()
