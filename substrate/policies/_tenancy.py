"""Reading tenants from a stack: namespaces labelled `substrate.io/tenant` and the objects in
them (shared by R27, R28, R30, R32 and P3).

Namespaced objects are matched to a namespace by `metadata.namespace`; values computed at deploy
time (UNKNOWN) are skipped, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import PolicyResource

from substrate.components.core.labels import GPU_NAMESPACE_LABEL, TENANT_LABEL

from ._props import plain, value
from ._types import NAMESPACE


@dataclass(frozen=True)
class TenantNamespace:
    name: str
    tenant: str
    gpu: bool
    resource: PolicyResource


def labels(props: Mapping[str, Any]) -> dict[str, Any]:
    found = plain(value(props, "metadata", "labels"))
    return found if isinstance(found, dict) else {}


def name_of(resource: PolicyResource) -> str:
    name = value(resource.props, "metadata", "name")
    return name if isinstance(name, str) else resource.name


def tenant_namespaces(resources: Sequence[PolicyResource]) -> list[TenantNamespace]:
    out = []
    for r in resources:
        if r.resource_type != NAMESPACE:
            continue
        found = labels(r.props)
        tenant = found.get(TENANT_LABEL)
        if isinstance(tenant, str) and tenant:
            out.append(
                TenantNamespace(name_of(r), tenant, found.get(GPU_NAMESPACE_LABEL) == "true", r)
            )
    return out


@dataclass(frozen=True)
class Found:
    """A namespaced object: its plain props and URN (where a violation about it is reported)."""

    props: dict[str, Any]
    urn: str

    @property
    def name(self) -> str:
        return str((self.props.get("metadata") or {}).get("name"))

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.props.get("spec")
        return spec if isinstance(spec, dict) else {}


def in_namespace(
    resources: Iterable[PolicyResource], types: str | tuple[str, ...], namespace: str
) -> list[Found]:
    """Every resource of `types` in `namespace`."""
    kinds = (types,) if isinstance(types, str) else types
    return [
        Found(plain(r.props), r.urn)
        for r in resources
        if r.resource_type in kinds and value(r.props, "metadata", "namespace") == namespace
    ]
