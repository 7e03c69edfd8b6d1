"""All policies of the `substrate` pack: one module per posture rule (rNN_, ids from rules.md)
or Substrate platform rule (pNN_, documented in docs/policies.md), found by that name, so a new
rule module cannot be left out of the pack."""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

from pulumi_policy import Policy

RULE_MODULE = re.compile(r"[rp]\d\d_\w+")
"""Policy module names; helpers are `_private`."""

MODULES: tuple[ModuleType, ...] = tuple(
    importlib.import_module(f"{__name__}.{info.name}")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name)
    if RULE_MODULE.fullmatch(info.name)
)

POLICIES: list[Policy] = [m.POLICY for m in MODULES]
