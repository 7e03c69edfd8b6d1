"""``substrate:identity``: SPIRE workload identity (trust domain, CA subject, federation)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

from components import validators
from substrate.config.checks import rule
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
