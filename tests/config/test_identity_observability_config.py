"""substrate:identity and substrate:observability: exact one-line errors and accepted shapes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import config_error, stack_yaml, typed_config

Mutation = Callable[[dict[str, Any]], None]
DOMAIN_HINT = (
    "(allowed: 1-255 lowercase letters, digits, '.', '-' or '_' (no scheme, port or path), "
    "e.g. prod.substrate.internal)"
)


def _identity(**values: Any) -> Mutation:
    return lambda c: c["substrate:identity"].update(values)


def _observability(section: str | None = None, **values: Any) -> Mutation:
    def mutate(c: dict[str, Any]) -> None:
        obs = c.setdefault("substrate:observability", {})
        (obs.setdefault(section, {}) if section else obs).update(values)

    return mutate


def _peer(**values: Any) -> dict[str, Any]:
    return {
        "trustDomain": "partner.example.com",
        "bundleEndpointUrl": "https://spire.partner.example.com:8443",
        **values,
    }


CASES: list[tuple[str, Mutation, str]] = [
    (
        "chart placeholder trust domain",
        _identity(trustDomain="example.org"),
        'substrate:identity.trustDomain = "example.org": is the SPIRE chart\'s placeholder trust '
        "domain (allowed: a DNS-style name the platform owns, e.g. prod.substrate.internal)",
    ),
    (
        "uppercase trust domain",
        _identity(trustDomain="Prod.Substrate.Internal"),
        'substrate:identity.trustDomain = "Prod.Substrate.Internal": is not a SPIFFE trust domain '
        f"name {DOMAIN_HINT}",
    ),
    (
        "trust domain given as a SPIFFE ID",
        _identity(trustDomain="spiffe://prod.substrate.internal"),
        'substrate:identity.trustDomain = "spiffe://prod.substrate.internal": is not a SPIFFE '
        f"trust domain name {DOMAIN_HINT}",
    ),
    (
        "empty label in the trust domain",
        _identity(trustDomain="prod..internal"),
        f'substrate:identity.trustDomain = "prod..internal": is not a SPIFFE trust domain name '
        f"{DOMAIN_HINT}",
    ),
    (
        "identity section missing",
        lambda c: c.pop("substrate:identity"),
        "substrate:identity = <missing>: is required (allowed: a mapping with keys trustDomain, "
        "caCountry, caOrganization, federation, server)",
    ),
    (
        "CA country of three letters",
        _identity(caCountry="USA"),
        'substrate:identity.caCountry = "USA": is not an ISO 3166 two-letter country code '
        '(allowed: e.g. "US" or "DE")',
    ),
    (
        "https_spiffe peer without its endpoint SPIFFE ID",
        _identity(federation=[_peer()]),
        "substrate:identity.federation[0].endpointSpiffeId = null: is not a SPIFFE ID in the "
        "federated trust domain (allowed: a SPIFFE ID starting with spiffe://partner.example.com/ "
        "when profile is https_spiffe)",
    ),
    (
        "https_spiffe peer whose endpoint ID is in another domain",
        _identity(federation=[_peer(endpointSpiffeId="spiffe://other.example.com/spire/server")]),
        'substrate:identity.federation[0].endpointSpiffeId = "spiffe://other.example.com/spire/'
        'server": is not a SPIFFE ID in the federated trust domain (allowed: a SPIFFE ID starting '
        "with spiffe://partner.example.com/ when profile is https_spiffe)",
    ),
    (
        "federating with ourselves",
        _identity(federation=[_peer(trustDomain="prod.substrate.internal", profile="https_web")]),
        'substrate:identity.federation[0].trustDomain = "prod.substrate.internal": is this '
        "environment's own trust domain (allowed: a foreign trust domain)",
    ),
    (
        "peer listed twice",
        _identity(federation=[_peer(profile="https_web")] * 2),
        'substrate:identity.federation[1].trustDomain = "partner.example.com": is listed twice '
        "(allowed: each trust domain once)",
    ),
    (
        "plain-http bundle endpoint",
        _identity(
            federation=[_peer(bundleEndpointUrl="http://x.example.com", profile="https_web")]
        ),
        'substrate:identity.federation[0].bundleEndpointUrl = "http://x.example.com": is not an '
        'https URL (allowed: e.g. "https://spire.partner.example:8443")',
    ),
    (
        "endpoint SPIFFE ID with the web profile",
        _identity(
            federation=[
                _peer(profile="https_web", endpointSpiffeId="spiffe://partner.example.com/s")
            ]
        ),
        'substrate:identity.federation[0].endpointSpiffeId = "spiffe://partner.example.com/s": '
        "is set while profile is https_web (allowed: no endpointSpiffeId with https_web (the "
        "endpoint uses a Web PKI certificate))",
    ),
    (
        "external settings with the managed stack",
        _observability(external={"labels": {"release": "prometheus"}}),
        'substrate:observability.external = {"installCrds": false, "labels": {"release": '
        '"prometheus"}, "namespace": "monitoring"}: is set while stack is kube-prometheus-stack '
        '(allowed: stack: "external" to use an existing Prometheus Operator, or no external key)',
    ),
    (
        "unknown monitoring stack",
        _observability(stack="prometheus"),
        'substrate:observability.stack = "prometheus": is not one of the allowed values (allowed: '
        '"kube-prometheus-stack", "external")',
    ),
    (
        "alert window that is not a Prometheus duration",
        _observability("alerts", gpuIdleFor="1 hour"),
        'substrate:observability.alerts.gpuIdleFor = "1 hour": is not a Prometheus duration '
        '(allowed: a positive duration such as "30m" or "1h")',
    ),
    (
        "zero-length alert window",
        _observability("alerts", kueuePendingFor="0m"),
        'substrate:observability.alerts.kueuePendingFor = "0m": is not a Prometheus duration '
        '(allowed: a positive duration such as "30m" or "1h")',
    ),
    (
        "no Prometheus replica",
        _observability("prometheus", replicas=0),
        "substrate:observability.prometheus.replicas = 0: is out of range (allowed: 1 to 5)",
    ),
]


@pytest.mark.parametrize(("mutate", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_identity_or_observability_config_gives_one_exact_line(
    mutate: Mutation, message: str
) -> None:
    assert config_error("prod", mutate) == message


def test_every_stack_has_its_own_trust_domain() -> None:
    domains = {
        s: typed_config(stack_yaml(s)).identity.trust_domain for s in ("dev", "staging", "prod")
    }
    assert domains == {
        "dev": "dev.substrate.internal",
        "staging": "staging.substrate.internal",
        "prod": "prod.substrate.internal",
    }


def test_external_stack_and_federation_are_accepted() -> None:
    raw = stack_yaml("dev")
    raw["substrate:observability"] = {
        "stack": "external",
        "external": {"namespace": "observability", "installCrds": True, "labels": {"a": "b"}},
    }
    raw["substrate:identity"]["federation"] = [
        _peer(endpointSpiffeId="spiffe://partner.example.com/spire/server")
    ]
    cfg = typed_config(raw)
    assert not cfg.observability.managed
    assert cfg.observability.external_settings.namespace == "observability"
    assert cfg.identity.federation[0].profile == "https_spiffe"
