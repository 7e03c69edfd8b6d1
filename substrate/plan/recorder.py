"""Record every resource registration the program makes under the mock engine.

The stock MockMonitor tells ``Mocks.new_resource`` neither parent nor dependencies; this
monitor keeps the whole RegisterResource request: type, name, parent, dependencies, provider,
options and the inputs in the engine's camelCase shape (what a policy pack receives).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from pulumi.runtime.mocks import MockMonitor, Mocks
from pulumi.runtime.settings import get_project, get_stack

from substrate.plan.engine_rules import autoname, default_provider_disabled, duplicate_urn

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
STACK_TYPE = "pulumi:pulumi:Stack"
SECRET_MASK = "[secret]"
UNKNOWN_MASK = "[unknown]"


@dataclass
class ResourceRecord:
    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    remote: bool
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    provider: str | None
    """Provider reference as the engine writes it: ``<provider urn>::<provider id>``."""
    raw_inputs: dict[str, Any]
    """Inputs exactly as serialized for the engine (secret/resource signatures kept)."""
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def provider_urn(self) -> str | None:
        return self.provider.rsplit("::", 1)[0] if self.provider else None

    @property
    def inputs(self) -> dict[str, Any]:
        """Inputs for reports: secrets masked, whole numbers as integers, refs as URNs."""
        return normalize(self.raw_inputs)


def normalize(value: Any) -> Any:
    """Engine-shaped value for reports: secrets masked, whole floats as ints, refs as URNs."""
    if isinstance(value, dict):
        sig = value.get(SIG_KEY)
        if sig == SECRET_SIG:
            return SECRET_MASK
        if sig == RESOURCE_SIG:
            return value.get("urn")
        if sig == OUTPUT_SIG:
            if value.get("secret"):
                return SECRET_MASK
            return normalize(value.get("value", UNKNOWN))
        if sig in (ASSET_SIG, ARCHIVE_SIG):
            return {k: v for k, v in value.items() if k != SIG_KEY}
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if value == UNKNOWN:
        return UNKNOWN_MASK
    return value


class RecordingMonitor(MockMonitor):
    """Also refuses what the engine refuses at registration (a duplicate URN) and records the
    inputs as the provider's Check returns them (auto-names filled in), which is what a policy
    pack sees."""

    def __init__(self, mocks: Mocks, disabled_default_providers: tuple[str, ...] = ()) -> None:
        super().__init__(mocks)
        self.records: list[ResourceRecord] = []
        self._urns: set[str] = set()
        self.disabled = disabled_default_providers
        """Packages whose default provider the stack disables (pulumi:disable-default-providers)."""

    def _check_provider(self, request: Any) -> None:
        package = request.type.split(":", 1)[0]
        if package not in self.disabled or not (request.custom or request.remote):
            return
        if not request.provider and package not in request.providers:
            raise default_provider_disabled(package, request.type)

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the engine forms them: the full chain of parent types, without the root
        stack's type (the stock mock keeps only the last parent type and adds the stack's)."""
        if parent:
            qualified = parent.split("::")[2]
            if qualified != STACK_TYPE:
                type_ = f"{qualified}${type_}"
        return "urn:pulumi:" + "::".join([get_stack(), get_project(), type_, name])

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        self._check_provider(request)
        response = super().RegisterResource(request)
        if request.type == STACK_TYPE:
            return response
        if response.urn in self._urns:
            raise duplicate_urn(response.urn)
        self._urns.add(response.urn)
        inputs = json_format.MessageToDict(request.object)
        named = autoname(request.type, request.name, inputs) if request.custom else None
        if named is not None:
            inputs[named[0]] = named[1]
        timeouts = request.customTimeouts
        self.records.append(
            ResourceRecord(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                custom=bool(request.custom),
                remote=bool(request.remote),
                dependencies=list(request.dependencies),
                property_dependencies={
                    k: list(v.urns) for k, v in request.propertyDependencies.items()
                },
                provider=request.provider or None,
                raw_inputs=inputs,
                options={
                    "protect": bool(request.protect),
                    "retainOnDelete": bool(request.retainOnDelete),
                    "ignoreChanges": list(request.ignoreChanges),
                    "deleteBeforeReplace": bool(request.deleteBeforeReplace),
                    "aliases": [json_format.MessageToDict(a) for a in request.aliases],
                    "additionalSecretOutputs": list(request.additionalSecretOutputs),
                    "customTimeouts": {
                        "create": timeouts.create,
                        "update": timeouts.update,
                        "delete": timeouts.delete,
                    },
                    "transforms": len(request.transforms),
                },
            )
        )
        return response
