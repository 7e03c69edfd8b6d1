"""Drive the real Pulumi CLI (build/engines/pulumi) offline against a component package.

Everything runs with a throw-away PULUMI_HOME, a file backend, no update check, no plugin
downloads and no registry look-ups. Results (schema, generated and compiled SDKs) are cached under
build/pulumi-cli/ keyed by the package's sources and the engines' builds, so the cached suite
pays for a CLI run only when one of them changes.

Real plugins on PATH, as a Pulumi install would have them: the pulumi-kubernetes engine as
pulumi-resource-kubernetes (the engine takes a plugin it finds on PATH whatever the version its
SDK asked for, with a warning: it is v4.25.0, the Python SDK asks for the pinned one).

Two stand-ins, both forced by what the Go module proxy serves (see tools/engines/README.md):
- the Python language host (pulumi-language-python) cannot be built, so the package is started the
  way that host starts it (`<virtualenv>/bin/python <plugin dir> <engine address>`, read from its
  RunPlugin) by an executable `pulumi-resource-<name>` that the CLI launches as a binary provider;
- SDK generation goes to the pulumi-nodejs-codegen engine (Pulumi's own Node.js generator behind
  the language host's GeneratePackage call), put on PATH as pulumi-language-nodejs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from tests.helpers import ROOT, require_engine

CACHE = ROOT / "build" / "pulumi-cli"
_LDFLAGS = ROOT / "tools" / "engines" / "pulumi-kubernetes" / "ldflags"
KUBERNETES_PLUGIN = re.findall(r"version\.Version=(\S+)", _LDFLAGS.read_text())[0]
"""The version the pulumi-kubernetes engine reports (stamped by its ldflags)."""
ENGINES = ("pulumi", "pulumi-kubernetes")
NODE_PROJECT = ROOT / "examples" / "typescript"
"""The npm project (package-lock.json) that pins @pulumi/pulumi and TypeScript for the examples."""


def offline_env(home: Path, path: Sequence[Path] = ()) -> dict[str, str]:
    """The environment of an offline CLI run: its own PULUMI_HOME and file backend."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    env.update(
        PULUMI_HOME=str(home),
        PULUMI_BACKEND_URL=f"file://{home / 'state'}",
        PULUMI_CONFIG_PASSPHRASE="offline",
        PULUMI_SKIP_UPDATE_CHECK="true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
        PULUMI_DISABLE_REGISTRY_RESOLVE="true",
        PULUMI_SKIP_CONFIRMATIONS="true",
        PATH=os.pathsep.join([*map(str, path), env.get("PATH", "")]),
    )
    (home / "state").mkdir(parents=True, exist_ok=True)
    return env


def plugin_bin(home: Path, language: str | None = None) -> Path:
    """``home``/bin with the pulumi-kubernetes engine as pulumi-resource-kubernetes and, when
    ``language`` is "nodejs", the pulumi-nodejs-codegen engine as pulumi-language-nodejs."""
    bin_dir = home / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "pulumi-resource-kubernetes").symlink_to(require_engine("pulumi-kubernetes"))
    if language == "nodejs":
        (bin_dir / "pulumi-language-nodejs").symlink_to(require_engine("pulumi-nodejs-codegen"))
    return bin_dir


def run_pulumi(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float = 300,
    ok: Sequence[int] = (0,),
) -> subprocess.CompletedProcess[str]:
    """Run the built CLI; AssertionError carrying its output unless its exit status is in ``ok``."""
    done = subprocess.run(
        [str(require_engine("pulumi")), *args],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode not in ok:
        raise AssertionError(
            f"pulumi {' '.join(args)} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
        )
    return done


def write_launcher(plugin_dir: Path, name: str, dest: Path) -> Path:
    """An executable `pulumi-resource-<name>` in ``dest`` that starts the Python component
    package in ``plugin_dir`` as the Python language host would."""
    dest.mkdir(parents=True, exist_ok=True)
    launcher = dest / f"pulumi-resource-{name}"
    launcher.write_text(
        "#!/bin/sh\n"
        f"cd {json.dumps(str(plugin_dir))} || exit 1\n"
        # The checkout under test, as the host's `pip install` of the plugin's requirements would.
        f"export PYTHONPATH={json.dumps(str(ROOT))}\n"
        f'exec {json.dumps(sys.executable)} {json.dumps(str(plugin_dir))} "$@"\n'
    )
    launcher.chmod(0o755)
    return launcher


def fingerprint(files: Iterable[Path], engines: Iterable[str]) -> str:
    """A cache key over file contents and the engines' builds (size and mtime)."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    for engine in engines:
        stat = require_engine(engine).stat()
        digest.update(f"{engine}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def repinned(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` with its references to the kubernetes package moved from the version the
    Python SDK declares to the one the pulumi-kubernetes engine serves (binding requires the
    loaded schema's version to equal the referenced one)."""
    (pinned,) = [d["version"] for d in schema["dependencies"] if d["name"] == "kubernetes"]
    text = json.dumps(schema).replace(
        f'"/kubernetes/v{pinned}/schema.json#', f'"/kubernetes/v{KUBERNETES_PLUGIN}/schema.json#'
    )
    moved = json.loads(text)
    moved["dependencies"] = [
        {**d, "version": KUBERNETES_PLUGIN} if d["name"] == "kubernetes" else d
        for d in schema["dependencies"]
    ]
    return moved


def generated_package(
    plugin_dir: Path, name: str, sources: Iterable[Path], *, repin_kubernetes: bool = False
) -> Path:
    """build/pulumi-cli/<name>-<key>/ holding what `pulumi package get-schema` printed
    (schema.json, get-schema.stderr, get-schema.exit) and sdk/nodejs, from `pulumi package gen-sdk
    --language nodejs` run against the package itself or, when its schema refers to the
    kubernetes package at the Python SDK's version (``repin_kubernetes``), against repinned.json:
    the served schema with those references at the kubernetes plugin's version."""
    key = fingerprint(sources, (*ENGINES, "pulumi-nodejs-codegen"))
    out = CACHE / f"{name}-{key}"
    if (out / "done").exists():
        return out
    for stale in CACHE.glob(f"{name}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="pulumi-home-") as tmp:
        home = Path(tmp)
        provider = write_launcher(plugin_dir, name, home / "plugin")
        env = offline_env(home, [plugin_bin(home, "nodejs")])
        ok = (0, 1) if repin_kubernetes else (0,)
        served = run_pulumi(["package", "get-schema", str(provider)], cwd=home, env=env, ok=ok)
        out.mkdir(parents=True)
        (out / "schema.json").write_text(served.stdout)
        (out / "get-schema.stderr").write_text(served.stderr)
        (out / "get-schema.exit").write_text(str(served.returncode))
        source = str(provider)
        if repin_kubernetes:
            source = str(out / "repinned.json")
            Path(source).write_text(json.dumps(repinned(json.loads(served.stdout)), indent=2))
        run_pulumi(
            ["package", "gen-sdk", source, "--language", "nodejs", "--out", str(out / "sdk")],
            cwd=home,
            env=env,
        )
    (out / "done").write_text("")
    return out


def _node_modules() -> Path:
    modules = NODE_PROJECT / "node_modules"
    if not (modules / "typescript").is_dir():
        raise AssertionError(f"{modules} is not installed: run `make install` (npm ci)")
    return modules


def compiled_sdk(package: Path) -> Path:
    """The generated Node.js SDK compiled with the pinned TypeScript (cached): its directory."""
    sdk = package / "sdk" / "nodejs"
    link = package / "node_modules"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(_node_modules())
    if not (sdk / "bin" / "package.json").exists():
        tsc(["-p", str(sdk)], cwd=sdk)
        # A published SDK is its bin/ with package.json beside the code (utilities.ts reads it).
        shutil.copy(sdk / "package.json", sdk / "bin" / "package.json")
    return sdk


def tsc(args: Sequence[str], *, cwd: Path) -> None:
    done = subprocess.run(
        ["node", str(_node_modules() / "typescript" / "bin" / "tsc"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"tsc {' '.join(args)} failed\n{done.stdout}\n{done.stderr}")


def compiled_program(program: Path, package: Path, sdk_name: str) -> Path:
    """``program`` (a TypeScript file) type-checked against the compiled SDK's declarations and
    compiled with the pinned TypeScript (cached by its text): the compiled program's path."""
    sdk = compiled_sdk(package)
    modules = _node_modules()
    key = hashlib.sha256(program.read_bytes()).hexdigest()[:12]
    out = package / "programs" / key
    compiled = out / "bin" / f"{program.stem}.js"
    errors = out / "errors.txt"
    if compiled.exists():
        return compiled
    if errors.exists():  # the same text failed to type-check before
        raise AssertionError(errors.read_text())
    out.mkdir(parents=True, exist_ok=True)
    config = {
        "compilerOptions": {
            "strict": True,
            "noEmitOnError": True,
            "target": "es2020",
            "module": "commonjs",
            "moduleResolution": "node",
            "outDir": str(out / "bin"),
            "rootDir": str(program.parent),
            "baseUrl": str(out),
            "paths": {sdk_name: [str(sdk / "bin")], "*": [str(modules / "*")]},
            "typeRoots": [str(modules / "@types")],
            "types": ["node"],
            "skipLibCheck": True,
        },
        "files": [str(program)],
    }
    (out / "tsconfig.json").write_text(json.dumps(config, indent=2))
    try:
        tsc(["-p", str(out / "tsconfig.json")], cwd=out)
    except AssertionError as failed:
        errors.write_text(str(failed))
        raise
    return compiled


def node_path(package: Path, sdk_name: str) -> str:
    """NODE_PATH resolving ``sdk_name`` to the compiled SDK and everything else to the pinned
    node_modules, so the program and the SDK share one @pulumi/pulumi (one mock runtime)."""
    modules = package / "modules"
    link = modules / sdk_name
    target = package / "sdk" / "nodejs" / "bin"
    link.parent.mkdir(parents=True, exist_ok=True)
    # The cache outlives checkouts (a build/ shared by worktrees, a moved clone): a link made
    # from another path would leave the program unable to find its SDK.
    if link.is_symlink() and Path(os.readlink(link)) != target:
        link.unlink()
    if not link.is_symlink():
        link.symlink_to(target)
    return os.pathsep.join([str(modules), str(_node_modules())])


def mock_plan(
    program: Path,
    package: Path,
    sdk_name: str,
    *,
    project: str = "example",
    config: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Run ``program`` under Pulumi's Node.js mocks with stack config ``config`` (keys
    `<project>:<key>`): {"resources": [{type, name, custom, inputs}], "outputs": {...}}."""
    compiled = compiled_program(program, package, sdk_name)
    runner = Path(__file__).with_name("mock_plan.js")
    done = subprocess.run(
        ["node", str(runner), str(compiled), project, "test"],
        env={
            **os.environ,
            "NODE_PATH": node_path(package, sdk_name),
            "PULUMI_CONFIG": json.dumps(dict(config or {})),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"mocked program failed\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout)


@contextmanager
def yaml_project(
    program_dir: Path, packages: Mapping[str, Path], edit: Callable[[str], str] = str
) -> Iterator[tuple[Path, dict[str, str]]]:
    """A copy of the Pulumi YAML program in ``program_dir`` (its Pulumi.yaml passed through
    ``edit``) with a stack `test` on a file backend, configured like its example stack file
    (Pulumi.<stack>.yaml) and with `kubernetes:renderYamlToDirectory` set to `rendered/` beside
    the project (the default Kubernetes provider writes objects there instead of to a cluster),
    and each entry of ``packages`` (name -> component package directory) served by its
    launcher. Yields the project directory and the CLI's environment."""
    require_engine("pulumi-language-yaml")  # found beside the CLI, as in a Pulumi install
    with tempfile.TemporaryDirectory(prefix="pulumi-home-") as tmp:
        home = Path(tmp)
        project = home / "project"
        shutil.copytree(program_dir, project)
        spec = yaml.safe_load(edit((project / "Pulumi.yaml").read_text()))
        spec["packages"] = {
            name: str(write_launcher(path, name, home / "plugins" / name).parent)
            for name, path in packages.items()
        }
        (project / "Pulumi.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
        examples = sorted(project.glob("Pulumi.*.yaml"))  # the program's example stack file
        env = offline_env(home, [plugin_bin(home)])
        run_pulumi(["stack", "init", "test"], cwd=project, env=env)
        for stack_file in examples:
            shutil.copy(stack_file, project / "Pulumi.test.yaml")
        render = ["config", "set", "kubernetes:renderYamlToDirectory", str(home / "rendered")]
        run_pulumi(render, cwd=project, env=env)
        yield project, env


def yaml_up(program_dir: Path, packages: Mapping[str, Path]) -> dict[str, Any]:
    """`pulumi up` of a Pulumi YAML program with the real engine and the pulumi-language-yaml
    engine (see yaml_project); the stack's outputs."""
    with yaml_project(program_dir, packages) as (project, env):
        run_pulumi(["up", "--yes", "--skip-preview", "--non-interactive"], cwd=project, env=env)
        out = run_pulumi(["stack", "output", "--json"], cwd=project, env=env)
    return json.loads(out.stdout)


def rendered(directory: Path) -> dict[str, Any]:
    """What the Kubernetes provider wrote in render mode: "<0-crd|1-manifest>/<file>" -> object."""
    return {
        str(path.relative_to(directory)): yaml.safe_load(path.read_text())
        for path in sorted(directory.glob("*/*.yaml"))
    }


def yaml_run(
    program_dir: Path,
    packages: Mapping[str, Path],
    sources: Iterable[Path],
    edit: Callable[[str], str] = str,
    *,
    command: str = "preview",
) -> dict[str, Any]:
    """`pulumi preview --diff` (or `pulumi up` for ``command="up"``) of a Pulumi YAML program
    (see yaml_project), whatever its exit status: {"returncode", "output", "rendered"}, the last
    the objects the Kubernetes provider rendered (see ``rendered``). Cached by the command, the
    edited program, ``sources`` (the packages') and the engines' builds."""
    program = edit((program_dir / "Pulumi.yaml").read_text())
    stack_files = program_dir.glob("Pulumi.*.yaml")
    key = fingerprint([*sources, *stack_files], (*ENGINES, "pulumi-language-yaml"))
    key += hashlib.sha256(f"{command}\n{program}".encode()).hexdigest()[:16]
    cached = CACHE / "previews" / f"{program_dir.name}-{key}.json"
    if cached.exists():
        return json.loads(cached.read_text())
    args = {"preview": ["preview", "--diff"], "up": ["up", "--yes", "--skip-preview"]}[command]
    with yaml_project(program_dir, packages, edit) as (project, env):
        done = run_pulumi(
            [*args, "--non-interactive", "--color", "never"], cwd=project, env=env, ok=(0, 1)
        )
        objects = rendered(project.parent / "rendered")
    result = {"returncode": done.returncode, "output": done.stdout + done.stderr}
    result["rendered"] = objects
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(result))
    return result
