"""Compose the platform from typed config: the only place config meets components.

Layers are built in dependency order; each takes the typed config and the layers before it.
"""

from __future__ import annotations

from dataclasses import dataclass

from substrate.components.cluster.vpc_endpoints import VpcEndpoints
from substrate.config import PlatformConfig
from substrate.layers import (
    admission,
    agents,
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
    agents: agents.Agents


def build_platform(cfg: PlatformConfig) -> Platform:
    base = foundation.build(cfg)
    nodes = capacity.build(cfg, base)
    # Agents are planned first: KEDA's role must cover their triggers and SPIRE must register
    # their identities, so both layers are built knowing them.
    planned = agents.plans(cfg)
    work = workloads.build(
        cfg, base, nodes, elastic=[p.elastic for p in planned if p.elastic is not None]
    )
    ident = identity.build(cfg, base, tenants=work.identities, agents=[p.identity for p in planned])
    obs = observability.build(cfg, base, nodes, work)
    # Admission comes after every layer that creates platform namespaces: it must know them all.
    platform_namespaces = (
        *base.namespaces,
        *nodes.namespaces,
        *ident.namespaces,
        *obs.namespaces,
        *work.namespaces,
    )
    adm = admission.build(cfg, base, platform_namespaces)
    bed = bedrock.build(cfg, base)
    ends = endpoints.build(cfg, base, bed)
    runtimes = agents.build(
        cfg, base, planned, work=work, ident=ident, bedrock=bed, obs=obs, admission=adm
    )
    return Platform(
        foundation=base,
        capacity=nodes,
        identity=ident,
        observability=obs,
        workloads=work,
        admission=adm,
        endpoints=ends,
        bedrock=bed,
        agents=runtimes,
    )
