"""Identity layer: SPIRE (CRDs, server/agents), the server's RDS datastore and AWS access, and
the workloads' SPIFFE registrations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from substrate.components.identity import spire_policies
from substrate.components.identity.spire import DEFAULT_CLASS_NAME, Spire, SpireServerArgs
from substrate.components.identity.spire_crds import SpireCrds
from substrate.components.identity.spire_database import (
    DATABASE,
    SPIRE_USER,
    SpireDatabase,
    connect_arn,
)
from substrate.components.identity.workload_identity import (
    AgentIdentity,
    BundleEndpointProfile,
    FederatedTrustDomain,
    TenantIdentity,
    WorkloadIdentity,
)
from substrate.config import PlatformConfig
from substrate.config.identity import FederationConfig, SpireServerConfig
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
    database: SpireDatabase | None = None

    @property
    def namespaces(self) -> tuple[str, ...]:
        return (*self.crds.created_namespaces, *self.spire.created_namespaces)


def federation_args(feds: Sequence[FederationConfig]) -> list[FederatedTrustDomain]:
    out: list[FederatedTrustDomain] = []
    for fed in feds:
        peer: FederatedTrustDomain = {
            "trust_domain": fed.trust_domain,
            "bundle_endpoint_url": fed.bundle_endpoint_url,
            "profile": BundleEndpointProfile(fed.profile),
        }
        if fed.endpoint_spiffe_id is not None:
            peer["endpoint_spiffe_id"] = fed.endpoint_spiffe_id
        out.append(peer)
    return out


def database(cfg: PlatformConfig, base: Foundation) -> SpireDatabase | None:
    """The SPIRE server's RDS instance, when the stack declares one."""
    db = cfg.identity.server.database
    if db is None:
        return None
    return SpireDatabase(
        "spire-database",
        {
            "identifier": f"{cfg.cluster_name}-spire",
            "vpc_id": base.network.vpc_id,
            "subnet_ids": base.network.private_subnet_ids,
            "source_security_group_id": base.cluster.cluster_security_group_id,
            "instance_class": db.instance_class,
            "engine_version": db.engine_version,
            "multi_az": db.multi_az,
            "storage_gib": db.storage_gib,
            "backup_retention_days": db.backup_retention_days,
            "deletion_protection": db.deletion_protection,
            "tags": base.tags,
        },
    )


def server_aws(cfg: PlatformConfig, base: Foundation, db: SpireDatabase | None) -> SpireServerArgs:
    """The server's datastore, key manager and Pod Identity policy (nothing with sqlite and
    disk keys)."""
    server: SpireServerConfig = cfg.identity.server
    out: SpireServerArgs = {"replicas": server.replicas}
    kms = server.key_manager == "awsKms"
    postgres = server.datastore == "postgres"
    if not kms and not postgres:
        return out
    parts = base.cluster.cluster_arn.apply(lambda arn: arn.split(":"))
    resource = db.resource_id if (postgres and db is not None) else None
    if postgres:
        assert db is not None  # config: datastore postgres requires database
        out["datastore"] = {
            "host": db.address,
            "port": db.port,
            "database": DATABASE,
            "user": SPIRE_USER,
            "region": cfg.region,
        }
    if kms:
        out["kms"] = {"region": cfg.region}
    domain = cfg.identity.trust_domain

    def policy(values: list[object]) -> str:
        p, resource_id = values
        assert isinstance(p, list)
        partition, region, account = str(p[1]), str(p[3]), str(p[4])
        arn = (
            connect_arn(partition, region, account, str(resource_id), SPIRE_USER)
            if resource_id is not None
            else None
        )
        return spire_policies.server_policy(
            partition, region, account, domain, kms=kms, connect_arn=arn
        )

    out["server_policy_json"] = pulumi.Output.all(parts, resource).apply(policy)
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
    db = database(cfg, base)
    spire = Spire(
        "spire",
        {
            "cluster_name": cfg.cluster_name,
            "tags": base.tags,
            "image_cache": base.image_cache,
            "trust_domain": ident.trust_domain,
            "class_name": DEFAULT_CLASS_NAME,
            "ca_country": ident.ca_country,
            "ca_organization": ident.ca_organization,
            "federation": bool(ident.federation),
            **server_aws(cfg, base, db),
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
        database=db,
    )
