"""Compose the platform from typed config: the only place config meets components.

Layers are built in dependency order; each takes the typed config and the layers before it.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.vpc_endpoints import VpcEndpoints
from substrate.config import PlatformConfig
from substrate.layers import (
    admission,
    bedrock,
    capacity,
    endpoints,
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
    endpoints: VpcEndpoints | None
    bedrock: bedrock.Bedrock
    workloads: workloads.Workloads


def build_platform(cfg: PlatformConfig) -> Platform:
    base = foundation.build(cfg)
    nodes = capacity.build(cfg, base)
    work = workloads.build(cfg, base, nodes)
    ident = identity.build(cfg, base, tenants=work.identities)
    obs = observability.build(cfg, base, nodes, work)
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
        endpoints=endpoints.build(cfg, base),
        bedrock=bedrock.build(cfg, base),
    )
