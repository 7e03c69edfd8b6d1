"""tools/migrate_imports.py rewrites a user's pre-0.2 imports to the new package layout."""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.helpers import ROOT


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("migrate", ROOT / "tools" / "migrate_imports.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOL = _tool()

OLD = """from substrate.components.workloads import tenancy
from substrate.components.core import labels as lb
from substrate.components.cluster import network
from substrate.components.capacity.karpenter import Karpenter
from substrate.policies import POLICIES
# see substrate/components/capacity/node_pools.py
# and substrate/components/bedrock/data/bedrock_models.json.
# docs/components.md and Substrate's components.md stay.
"""

NEW = """from substrate.components.workloads import tenancy
from substrate.components.core import labels as lb
from substrate.components.cluster import network
from substrate.components.capacity.karpenter import Karpenter
from substrate.policies import POLICIES
# see substrate/components/capacity/node_pools.py
# and substrate/components/bedrock/data/bedrock_models.json.
# docs/components.md and Substrate's components.md stay.
"""


def test_old_imports_and_paths_are_rewritten_once() -> None:
    assert TOOL.rewrite(OLD) == NEW
    assert TOOL.rewrite(NEW) == NEW


def test_every_rewritten_import_resolves() -> None:
    for domain, modules in TOOL.DOMAINS.items():
        for module in modules:
            importlib.import_module(f"substrate.components.{domain}.{module}")
    for name, domain in TOOL.DATA_FILES.items():
        assert (ROOT / "substrate" / "components" / domain / "data" / name).is_file()


def test_an_import_of_a_module_it_does_not_know_fails_naming_it(tmp_path: Path) -> None:
    program = tmp_path / "__main__.py"
    program.write_text("from components.my_thing import Thing\n")
    with pytest.raises(TOOL.UnknownModuleError, match="my_thing"):
        TOOL.rewrite(program.read_text())
    run = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "migrate_imports.py"), str(program)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1
    assert "components.my_thing has no domain" in run.stdout
    assert program.read_text() == "from components.my_thing import Thing\n"
