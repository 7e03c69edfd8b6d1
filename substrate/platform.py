"""Compose the platform from typed config: the only place config meets components.

Layers are built in dependency order; each takes the typed config and the layers before it.
"""

from __future__ import annotations

from dataclasses import dataclass

from substrate.config import PlatformConfig
from substrate.layers import (
    admission,
    capacity,
    foundation,
    identity,
    observability,
    workloads,
)


@dataclass(frozen=True)
class Platform:
    foundation: foundation.Foundation
    capacity: capacity.Capacity
    admission: admission.Admission
    identity: identity.Identity
    observability: observability.Observability
    workloads: workloads.Workloads


def build_platform(cfg: PlatformConfig) -> Platform:
    base = foundation.build(cfg)
    nodes = capacity.build(cfg, base)
    work = workloads.build(cfg, base, nodes)
    ident = identity.build(cfg, base, tenants=work.identities)
    obs = observability.build(cfg, base)
    # Admission comes last: it must know every namespace the platform's add-ons create.
    platform_namespaces = (
        *nodes.namespaces,
        *ident.namespaces,
        *obs.namespaces,
        *work.namespaces,
    )
    return Platform(
        foundation=base,
        capacity=nodes,
        identity=ident,
        observability=obs,
        workloads=work,
        admission=admission.build(cfg, base, platform_namespaces),
    )
