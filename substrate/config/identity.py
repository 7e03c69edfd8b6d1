"""``substrate:identity``: SPIRE workload identity (trust domain, CA subject, federation)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

from substrate.components.core import validators
from substrate.config.checks import between, rule
from substrate.config.schema import ConfigError, Invalid, doc

TrustDomain = Annotated[str, rule(validators.spiffe_trust_domain)]


def _country(value: str) -> None:
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise Invalid("is not an ISO 3166 two-letter country code", 'e.g. "US" or "DE"')


def _organization(value: str) -> None:
    if not value.strip() or value in ("Example", "SPIFFE"):
        raise Invalid(
            "is empty or a chart placeholder", "the organization that operates the platform"
        )


def _https_url(value: str) -> None:
    if not re.fullmatch(r"https://[A-Za-z0-9.-]+(:\d{1,5})?(/\S*)?", value):
        raise Invalid("is not an https URL", 'e.g. "https://spire.partner.example:8443"')


@dataclass(frozen=True)
class FederationConfig:
    """A foreign SPIFFE trust domain whose bundle SPIRE fetches (ClusterFederatedTrustDomain)."""

    trust_domain: TrustDomain = doc("The foreign trust domain, e.g. `partner.example.com`.")
    bundle_endpoint_url: Annotated[str, _https_url] = doc(
        "Where the foreign SPIRE server publishes its trust bundle."
    )
    profile: Literal["https_spiffe", "https_web"] = doc(
        "`https_spiffe`: the endpoint authenticates with an SVID of the foreign trust domain "
        "(needs `endpointSpiffeId`); `https_web`: with a Web PKI certificate.",
        default="https_spiffe",
    )
    endpoint_spiffe_id: str | None = doc(
        "SPIFFE ID of the foreign bundle endpoint (https_spiffe only), e.g. "
        "`spiffe://partner.example.com/spire/server`.",
        default=None,
    )

    def check(self, path: str) -> None:
        if self.profile == "https_spiffe":
            prefix = f"spiffe://{self.trust_domain}/"
            shown = self.endpoint_spiffe_id
            if shown is None or not shown.startswith(prefix) or shown == prefix:
                raise ConfigError(
                    f"{path}.endpointSpiffeId",
                    shown,
                    "is not a SPIFFE ID in the federated trust domain",
                    f"a SPIFFE ID starting with {prefix} when profile is https_spiffe",
                )
        elif self.endpoint_spiffe_id is not None:
            raise ConfigError(
                f"{path}.endpointSpiffeId",
                self.endpoint_spiffe_id,
                "is set while profile is https_web",
                "no endpointSpiffeId with https_web (the endpoint uses a Web PKI certificate)",
            )


def _instance_class(value: str) -> None:
    if not re.fullmatch(r"db\.[a-z0-9]+\.[a-z0-9]+", value):
        raise Invalid("is not an RDS instance class", 'e.g. "db.t4g.small" or "db.m7g.large"')


def _major_version(value: str) -> None:
    if value not in ("14", "15", "16", "17"):
        raise Invalid(
            "is not a PostgreSQL major version RDS offers with IAM authentication",
            '"14", "15", "16" or "17" (RDS picks the current minor version)',
        )


@dataclass(frozen=True)
class SpireDatabaseConfig:
    """The RDS for PostgreSQL instance Substrate creates for the SPIRE server: private subnets,
    reachable on 5432 only from the cluster security group, storage and master secret encrypted
    with its own KMS key, IAM database authentication on."""

    instance_class: Annotated[str, _instance_class] = doc(
        "RDS instance class.", default="db.t4g.small"
    )
    engine_version: Annotated[str, _major_version] = doc("PostgreSQL major version.", default="17")
    multi_az: bool = doc(
        "A synchronous standby in another Availability Zone (RDS fails over to it).",
        default=True,
    )
    storage_gib: Annotated[int, between(20, 1024)] = doc("Allocated storage (gp3).", default=20)
    backup_retention_days: Annotated[int, between(1, 35)] = doc(
        "Automated backups kept this long.", default=7
    )
    deletion_protection: bool = doc(
        "Refuse deletion until turned off (a final snapshot is kept either way).", default=True
    )


@dataclass(frozen=True)
class SpireServerConfig:
    """How the SPIRE server runs: replicas, where it keeps its data and its signing keys."""

    replicas: Annotated[int, between(1, 5)] = doc(
        "SPIRE server replicas (one per zone first). More than one needs `datastore: postgres` "
        "and `keyManager: awsKms`.",
        default=1,
    )
    datastore: Literal["sqlite", "postgres"] = doc(
        "`sqlite`: a file on the server's volume (one replica); `postgres`: the RDS instance "
        "of `database`, reached with IAM database authentication as user `spire`.",
        default="sqlite",
    )
    key_manager: Literal["disk", "awsKms"] = doc(
        "`disk`: signing keys on the server's volume; `awsKms`: keys created and used in AWS "
        "KMS (they never leave it), through the server's Pod Identity role.",
        default="disk",
    )
    database: SpireDatabaseConfig | None = doc(
        "Create the RDS instance (set it one deployment before `datastore: postgres`, to create "
        "the `spire` user once: docs/identity.md).",
        default=None,
    )

    def check(self, path: str) -> None:
        if self.datastore == "postgres" and self.database is None:
            raise ConfigError(
                f"{path}.datastore",
                self.datastore,
                "needs the database Substrate creates",
                f"a {path}.database section, or sqlite",
            )
        if self.replicas > 1 and self.datastore == "sqlite":
            raise ConfigError(
                f"{path}.replicas",
                self.replicas,
                "needs a shared datastore; sqlite lives on one replica's volume",
                "1, or datastore: postgres",
            )
        if self.replicas > 1 and self.key_manager == "disk":
            raise ConfigError(
                f"{path}.replicas",
                self.replicas,
                "keeps each replica's signing keys on its own zonal volume",
                "1, or keyManager: awsKms",
            )


@dataclass(frozen=True)
class IdentityConfig:
    """SPIRE: registered tenant and agent workloads get SVIDs in this environment's domain."""

    trust_domain: TrustDomain = doc(
        "SPIFFE trust domain of this environment, e.g. `prod.substrate.internal`; never the "
        "chart's `example.org`. Changing it re-issues every SVID and breaks federation."
    )
    ca_country: Annotated[str, _country] = doc(
        "Country (two letters) in the subject of the SPIRE server CA.", default="US"
    )
    ca_organization: Annotated[str, _organization] = doc(
        "Organization in the subject of the SPIRE server CA.", default="Substrate"
    )
    federation: list[FederationConfig] = doc(
        "Foreign trust domains to federate with; tenant workloads receive their bundles.",
        factory=list,
    )
    server: SpireServerConfig = doc(
        "SPIRE server replicas, datastore and key manager.", factory=SpireServerConfig
    )

    def check(self, path: str) -> None:
        seen: set[str] = set()
        for i, fed in enumerate(self.federation):
            where = f"{path}.federation[{i}].trustDomain"
            if fed.trust_domain == self.trust_domain:
                raise ConfigError(
                    where,
                    fed.trust_domain,
                    "is this environment's own trust domain",
                    "a foreign trust domain",
                )
            if fed.trust_domain in seen:
                raise ConfigError(
                    where, fed.trust_domain, "is listed twice", "each trust domain once"
                )
            seen.add(fed.trust_domain)
