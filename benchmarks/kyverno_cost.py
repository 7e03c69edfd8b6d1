"""What one Kyverno question costs: a `kyverno apply` run of the CLI against one request to the
long-running kyverno-server, for a few shapes of question (objects x policies).

Prints the median wall time and CPU time (user + system) per question. The CLI's CPU is read
from this process's reaped children, the server's from /proc (Linux). Timings, not assertions:
the machine may be shared, so compare CPU rather than wall time.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from substrate.components.admission.admission_policies import MODULES, REFERENCE_SETTINGS  # noqa: E402
from substrate.engines import kyverno  # noqa: E402

ROUNDS = 5
FOLDER = (
    ROOT
    / "substrate"
    / "components"
    / "admission"
    / "admission_policies"
    / "pod_security_restricted"
    / ".kyverno-test"
)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def server_cpu() -> float:
    pid = kyverno.server().pid
    assert pid is not None
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(ask: Callable[[], Any], cpu: Callable[[], float]) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(ROUNDS):
        before, start = cpu(), time.perf_counter()
        ask()
        walls.append(time.perf_counter() - start)
        cpus.append(cpu() - before)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    policies = [module.build(REFERENCE_SETTINGS) for module in MODULES]
    objects = [o for o in yaml.safe_load_all((FOLDER / "resources.yaml").read_text()) if o]
    namespaces = yaml.safe_load((FOLDER / "values.yaml").read_text()).get("namespaces", [])
    shapes = {
        "1 object x 10 policies": (policies, objects[:1]),
        f"{len(objects)} objects x 1 policy": (policies[5:6], objects),
        f"{len(objects)} objects x 10 policies": (policies, objects),
    }
    kyverno.apply(policies[:1], objects[:1], namespaces=namespaces)  # start the server
    print(f"median of {ROUNDS}; CPU = user + system seconds")
    print(f"{'question':<26} {'CLI wall':>9} {'CLI CPU':>8} {'server wall':>12} {'server CPU':>11}")
    for label, (pols, objs) in shapes.items():
        cli = measure(
            lambda p=pols, o=objs: kyverno.apply_with_cli(p, o, namespaces=namespaces),
            children_cpu,
        )
        served = measure(
            lambda p=pols, o=objs: kyverno.apply(p, o, namespaces=namespaces), server_cpu
        )
        print(f"{label:<26} {cli[0]:>9.3f} {cli[1]:>8.3f} {served[0]:>12.3f} {served[1]:>11.3f}")


if __name__ == "__main__":
    main()
