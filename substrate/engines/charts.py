"""Chart packages that are not in ../shared/charts, fetched at build time (`make charts`).

A chart pinned in ``substrate.components.core.versions.GO_MODULE_CHARTS`` is downloaded with Go's
own client
(`go mod download -json <module>@<version>`: the Go module proxy serves the repository tree,
chart and CRDs included, and `go` checks it against the checksum database), its hash is checked
against the pin, and the helm engine packages the chart directory into
``build/charts/<chart>-<version>.tgz``. The package is a build product: cached, never committed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from substrate.components.core.versions import CHARTS, GO_MODULE_CHARTS
from substrate.engines import ROOT, run

BUILD_TARGET = "make charts"


class ChartFetchError(RuntimeError):
    """The module could not be downloaded, or is not the pinned one."""


def fetched_dir() -> Path:
    return Path(os.environ.get("SUBSTRATE_FETCHED_CHARTS", ROOT / "build" / "charts"))


def package_path(name: str) -> Path:
    return fetched_dir() / f"{CHARTS[name].name}-{CHARTS[name].version}.tgz"


def download(name: str) -> Path:
    """The pinned module's directory in the Go module cache (downloaded when absent)."""
    pin = GO_MODULE_CHARTS[name]
    with tempfile.TemporaryDirectory() as tmp:  # outside any module: no go.mod is read or written
        done = subprocess.run(
            ["go", "mod", "download", "-json", f"{pin.module}@{pin.version}"],
            cwd=tmp,
            env={**os.environ, "GOFLAGS": "-mod=mod"},
            capture_output=True,
            text=True,
            check=False,
        )
    info = json.loads(done.stdout or "{}")
    if done.returncode != 0 or "Error" in info:
        raise ChartFetchError(f"{name}: {info.get('Error') or done.stderr.strip()}")
    if info.get("Sum") != pin.sum:
        raise ChartFetchError(
            f"{name}: {pin.module}@{pin.version} has {info.get('Sum')}, pin {pin.sum}"
        )
    chart = Path(info["Dir"]) / pin.path
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    found = (str(meta.get("name")), str(meta.get("version")))
    if found != (CHARTS[name].name, CHARTS[name].version):
        raise ChartFetchError(
            f"{name}: {pin.module}@{pin.version} holds {found[0]} {found[1]} at {pin.path}, "
            f"pin {CHARTS[name].name} {CHARTS[name].version}"
        )
    return chart


def fetch(name: str) -> Path:
    """``build/charts/<chart>-<version>.tgz``, built once from the pinned module."""
    out = package_path(name)
    if out.is_file():
        return out
    chart = download(name)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        run("helm", ["package", str(chart), "--destination", tmp])
        (Path(tmp) / out.name).replace(out)
    return out


def main(argv: list[str]) -> int:
    for name in argv or sorted(GO_MODULE_CHARTS):
        try:
            print(f"{name}: {fetch(name)}")
        except ChartFetchError as err:
            print(f"chart fetch failed: {err}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
