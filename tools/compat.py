"""Install Substrate's wheel into a fresh venv beside a user's own `components/` package.

    python tools/compat.py            # the versions in .venv (the hash-pinned lock): fast, offline
    python tools/compat.py --lower    # every dependency at the lower end of its range (PyPI)

Builds the wheel from a copy of the sources (never in the checkout: `build/` there is the
engines' directory), creates a fresh venv, installs the wheel, and from a user's program
directory that has its own `components/` package imports both `substrate.components` and the
user's `components`, then runs Pulumi's schema analyzer over the hosted components; with
`--lower` it also plans every program in examples/ with the installed `substrate plan`. Prints
one JSON line: where each came from, the versions installed, how many components the schema has
and the examples' policy verdicts.

Offline mode reuses the dependencies of `.venv` (a path on the fresh venv's sys.path, so the
checkout's editable install is not seen) and checks that their versions are inside the wheel's
declared ranges. `--lower` asks PyPI for each range's lower end (`make compat`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import tomllib
import zipfile
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]

USER_COMPONENTS = '''"""A user's own components package (Substrate's wheel must not shadow it)."""

OWNER = "platform-team"
'''

PROBE = """
import json, sys
from importlib import metadata
import components
import substrate, substrate.components
from substrate.components import StorageClasses
from substrate.components.cluster.storage import ReclaimPolicy
from substrate import provider
names = ["pulumi", "pulumi-aws", "pulumi-eks", "pulumi-kubernetes", "pulumi-policy", "pyyaml"]
print(json.dumps({
    "substrate": substrate.__file__,
    "components": components.__file__,
    "owner": components.OWNER,
    "storage": StorageClasses.__module__,
    "enum": ReclaimPolicy.RETAIN.value,
    "resources": len(provider.schema()["resources"]),
    "hosted": len(provider.hosted()),
    "versions": {n: metadata.version(n) for n in names},
}))
"""


def requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in project["dependencies"]]


def lower_ends() -> list[str]:
    """`name==<lower end>` for every dependency (each range must have a `>=`)."""
    pins = []
    for req in requirements():
        lows = [s.version for s in req.specifier if s.operator == ">="]
        if len(lows) != 1:
            raise SystemExit(f"{req}: no single lower end (>=) to test")
        pins.append(f"{req.name}=={lows[0]}")
    return pins


def build_wheel(work: Path) -> Path:
    src = work / "src"
    shutil.copytree(ROOT / "substrate", src / "substrate", ignore=shutil.ignore_patterns("__py*"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    run(
        sys.executable,
        *("-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"),
        *("--disable-pip-version-check", "-w", str(work / "dist"), str(src)),
    )
    return next((work / "dist").glob("substrate-*.whl"))


def run(*argv: str, cwd: Path | None = None) -> str:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def out_of_range() -> list[str]:
    """Dependencies of .venv whose versions are outside the declared ranges."""
    from importlib import metadata

    return [
        f"{r.name} {metadata.version(r.name)} not in {r.specifier}"
        for r in requirements()
        if not r.specifier.contains(metadata.version(r.name), prereleases=True)
    ]


def install(work: Path, wheel: Path, lower: bool) -> Path:
    python = work / "venv" / "bin" / "python"
    if lower:
        run(sys.executable, "-m", "venv", str(work / "venv"))
        (work / "lower.txt").write_text("\n".join(lower_ends()) + "\n")
        pip = (str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check")
        run(*pip, "-c", str(work / "lower.txt"), str(wheel))
        return python
    run(sys.executable, "-m", "venv", "--without-pip", str(work / "venv"))
    pip = (sys.executable, "-m", "pip", "--python", str(python), "install", "-q")
    run(*pip, "--disable-pip-version-check", "--no-deps", "--no-index", str(wheel))
    site = Path(run(str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"))
    # A plain path (not site.addsitedir): .venv's .pth files, the editable checkout, stay unseen.
    (Path(str(site).strip()) / "substrate-deps.pth").write_text(
        sysconfig.get_path("purelib") + "\n"
    )
    return python


def check(lower: bool, work: Path) -> dict[str, object]:
    if not lower and (bad := out_of_range()):
        raise SystemExit(f"the lock is outside the declared ranges: {bad}")
    wheel = build_wheel(work)
    with zipfile.ZipFile(wheel) as archive:
        top = sorted({n.split("/")[0] for n in archive.namelist()} - {""})
    python = install(work, wheel, lower)
    program = work / "program"
    (program / "components").mkdir(parents=True)
    (program / "components" / "__init__.py").write_text(USER_COMPONENTS)
    result = json.loads(run(str(python), "-c", PROBE, cwd=program).strip().splitlines()[-1])
    if result["resources"] != result["hosted"]:
        read = f"{result['resources']} of {result['hosted']}"
        raise SystemExit(f"the analyzer read {read} components")
    if lower:
        result["examples"] = plan_examples(work, python.parent / "substrate")
    result["venv"] = str(work / "venv")
    result["top_level"] = [t for t in top if not t.endswith(".dist-info")]
    return result


def plan_examples(work: Path, substrate: Path) -> dict[str, str]:
    """`substrate plan example` of every example program, run by the installed package (its
    components, its policy pack and the dependencies' lower ends): each one's verdict line."""
    verdicts = {}
    for example in sorted((ROOT / "examples").glob("*/Pulumi.example.yaml")):
        copy = work / "examples" / example.parent.name
        shutil.copytree(example.parent, copy, ignore=shutil.ignore_patterns("out", "__py*"))
        out = run(str(substrate), "plan", "example", cwd=copy)
        verdicts[copy.name] = next(x for x in out.splitlines() if x.startswith("policy violations"))
    return verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description="Install the wheel into a fresh venv.")
    parser.add_argument("--lower", action="store_true", help="dependencies at their lower ends")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="substrate-compat-") as work:
        print(json.dumps(check(options.lower, Path(work))))


if __name__ == "__main__":
    main()
