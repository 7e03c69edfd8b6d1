"""What `substrate check` costs for 10 workloads against a cached plan.

The workloads: the 7 of examples/tenant-manifests/ (with their ServiceAccount and
PodDisruptionBudget) and 3 of docs/check.md. One untimed run fills the cache (out/.check/), then
each round runs the real command in a new process (interpreter start, cache read, the apiserver,
Kyverno and Kueue engines, the IAM evaluator). Prints the median wall time and CPU time (user +
system of the command and the engines it waits for). Timings, not assertions: the machine may
be shared, so compare CPU rather than wall time.

    .venv/bin/python benchmarks/check_cost.py [STACK]
"""

from __future__ import annotations

import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 5
DOC_SECTIONS = ("Admitted on a pool", "Denied by a rule", "AccessDenied on a model")


def docs_workloads(out: Path) -> Path:
    """The YAML blocks of three docs/check.md sections, in one file."""
    text = (ROOT / "docs" / "check.md").read_text()
    blocks = []
    for heading in DOC_SECTIONS:
        section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
        blocks += re.findall(r"```yaml\n(.*?)```", section, flags=re.S)
    out.write_text("---\n".join(blocks))
    return out


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(args: list[str]) -> tuple[float, float, int]:
    cpu, start = children_cpu(), time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode not in {0, 1}:
        raise SystemExit(f"substrate check exited {done.returncode}: {done.stderr.strip()}")
    return time.perf_counter() - start, children_cpu() - cpu, done.returncode


def main() -> None:
    stack = sys.argv[1] if len(sys.argv) > 1 else "prod"
    os.environ.setdefault("SUBSTRATE_SHARED_DIR", str(ROOT.parent / "shared"))
    with tempfile.TemporaryDirectory() as tmp:
        files = sorted(str(p) for p in (ROOT / "examples" / "tenant-manifests").glob("*.yaml"))
        files.append(str(docs_workloads(Path(tmp) / "docs.yaml")))
        args = [sys.executable, "-m", "substrate.cli", "check", stack, *files, "--format", "json"]
        cold_wall, cold_cpu, _ = run(args)
        rounds = [run(args) for _ in range(ROUNDS)]
    walls = [w for w, _, _ in rounds]
    cpus = [c for _, c, _ in rounds]
    print(f"substrate check {stack}: 10 workloads ({len(files)} files), {ROUNDS} rounds")
    print(f"  first run (fills out/.check if empty): {cold_wall:.2f} s wall, {cold_cpu:.2f} s CPU")
    print(
        f"  cached plan: median {statistics.median(walls):.2f} s wall "
        f"(min {min(walls):.2f}), median {statistics.median(cpus):.2f} s CPU"
    )
    print(f"  load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
