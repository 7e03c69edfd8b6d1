"""Identity layer: SPIRE (CRDs, server/agents) and the workloads' SPIFFE registrations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.spire import DEFAULT_CLASS_NAME, Spire
from components.spire_crds import SpireCrds
from components.workload_identity import (
    AgentIdentity,
    FederatedTrustDomain,
    TenantIdentity,
    WorkloadIdentity,
)
from substrate.config import PlatformConfig
from substrate.config.identity import FederationConfig
from substrate.layers.foundation import Foundation

TENANTS: tuple[TenantIdentity, ...] = ()
"""Default when no tenants are passed; substrate/platform.py passes the workloads layer's
(`Workloads.identities`), so every tenant gets its ClusterSPIFFEID."""
AGENTS: tuple[AgentIdentity, ...] = ()


@dataclass(frozen=True)
class Identity:
    crds: SpireCrds
    spire: Spire
    workloads: WorkloadIdentity
    trust_domain: str
    class_name: str

    @property
    def namespaces(self) -> tuple[str, ...]:
        return self.crds.created_namespaces + self.spire.created_namespaces


def federation_args(feds: Sequence[FederationConfig]) -> list[FederatedTrustDomain]:
    out: list[FederatedTrustDomain] = []
    for fed in feds:
        peer: FederatedTrustDomain = {
            "trust_domain": fed.trust_domain,
            "bundle_endpoint_url": fed.bundle_endpoint_url,
            "profile": fed.profile,
        }
        if fed.endpoint_spiffe_id is not None:
            peer["endpoint_spiffe_id"] = fed.endpoint_spiffe_id
        out.append(peer)
    return out


def build(
    cfg: PlatformConfig,
    base: Foundation,
    tenants: Sequence[TenantIdentity] = TENANTS,
    agents: Sequence[AgentIdentity] = AGENTS,
) -> Identity:
    ident = cfg.identity
    k8s = pulumi.ResourceOptions.merge(
        base.kubernetes, pulumi.ResourceOptions(depends_on=[base.core_addons, base.storage])
    )
    crds = SpireCrds("spire-crds", {"cluster_name": cfg.cluster_name, "tags": base.tags}, opts=k8s)
    spire = Spire(
        "spire",
        {
            "cluster_name": cfg.cluster_name,
            "tags": base.tags,
            "trust_domain": ident.trust_domain,
            "class_name": DEFAULT_CLASS_NAME,
            "ca_country": ident.ca_country,
            "ca_organization": ident.ca_organization,
            "federation": bool(ident.federation),
        },
        opts=pulumi.ResourceOptions.merge(k8s, pulumi.ResourceOptions(depends_on=[crds])),
    )
    peers = federation_args(ident.federation)
    federated = sorted(p["trust_domain"] for p in peers)
    workloads = WorkloadIdentity(
        "workload-identity",
        {
            "trust_domain": ident.trust_domain,
            "class_name": spire.class_name,
            "tenants": [
                {**t, "federates_with": t.get("federates_with", federated)} for t in tenants
            ],
            "agents": list(agents),
            "federation": peers,
        },
        opts=pulumi.ResourceOptions.merge(
            base.kubernetes, pulumi.ResourceOptions(depends_on=[spire])
        ),
    )
    pulumi.export("spiffeTrustDomain", ident.trust_domain)
    return Identity(
        crds=crds,
        spire=spire,
        workloads=workloads,
        trust_domain=ident.trust_domain,
        class_name=spire.class_name,
    )
