"""SPIRE add-ons and workload registrations: trust domain, class name, attestation, namespaces."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pytest

from substrate.components.identity.spire import SPIRE_SYSTEM_NAMESPACE, Spire, SpireArgs
from substrate.components.identity.spire_crds import SPIRE_SERVER_NAMESPACE, SpireCrds
from substrate.components.identity.workload_identity import (
    AgentIdentity,
    BundleEndpointProfile,
    TenantIdentity,
    WorkloadIdentity,
    WorkloadIdentityArgs,
)
from tests.crds import validation_errors
from tests.helpers import Resources, run_program

DOMAIN = "test.substrate.internal"
TENANTS: list[TenantIdentity] = [
    {"name": "research", "namespaces": ["research-train", "research-agents"]},
    {"name": "search", "namespaces": ["search"], "federates_with": ["partner.example.com"]},
]
AGENTS: list[AgentIdentity] = [
    {
        "name": "planner",
        "tenant": "research",
        "namespace": "research-agents",
        "service_account": "planner",
        "ttl": "1h",
    }
]
CR = "kubernetes:spire.spiffe.io/v1alpha1"


def _spire_args(**extra: object) -> SpireArgs:
    args: SpireArgs = {"cluster_name": "substrate-test", "trust_domain": DOMAIN}
    args.update(extra)  # type: ignore[typeddict-item]
    return args


def _identity_args(**extra: object) -> WorkloadIdentityArgs:
    args: WorkloadIdentityArgs = {
        "trust_domain": DOMAIN,
        "class_name": "substrate-spire",
        "tenants": TENANTS,
        "agents": AGENTS,
        "federation": [
            {
                "trust_domain": "partner.example.com",
                "bundle_endpoint_url": "https://spire.partner.example.com:8443",
                "profile": BundleEndpointProfile.HTTPS_SPIFFE,
                "endpoint_spiffe_id": "spiffe://partner.example.com/spire/server",
            }
        ],
    }
    args.update(extra)  # type: ignore[typeddict-item]
    return args


@pytest.fixture(scope="module")
def spire() -> Resources:
    def program() -> None:
        crds = SpireCrds("spire-crds", {"cluster_name": "substrate-test"})
        spire = Spire("spire", _spire_args(), opts=pulumi.ResourceOptions(depends_on=[crds]))
        WorkloadIdentity(
            "workload-identity",
            _identity_args(class_name=spire.class_name),
            opts=pulumi.ResourceOptions(depends_on=[spire]),
        )

    return Resources(run_program(program))


def _values(resources: Resources, chart: str) -> dict:
    return next(
        r.inputs["values"]
        for r in resources.of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["chart"] == chart
    )


def test_spire_runs_with_the_environment_trust_domain_and_cluster(spire: Resources) -> None:
    glob = _values(spire, "spire")["global"]["spire"]
    assert glob["trustDomain"] == DOMAIN
    assert glob["clusterName"] == "substrate-test"
    assert glob["caSubject"]["commonName"] == DOMAIN
    assert glob["recommendations"] == {"enabled": True}  # strictMode rejects placeholders


def test_controller_manager_class_matches_every_registration(spire: Resources) -> None:
    manager = _values(spire, "spire")["spire-server"]["controllerManager"]
    assert manager["className"] == "substrate-spire"
    assert manager["watchClassless"] is False
    assert manager["identities"]["clusterSPIFFEIDs"]["default"] == {"enabled": False}
    crs = spire.of_type(f"{CR}:ClusterSPIFFEID") + spire.of_type(
        f"{CR}:ClusterFederatedTrustDomain"
    )
    assert len(crs) == 4
    assert {r.inputs["spec"]["className"] for r in crs} == {"substrate-spire"}


def test_nodes_attest_with_projected_service_account_tokens(spire: Resources) -> None:
    values = _values(spire, "spire")
    assert values["spire-server"]["nodeAttestor"] == {"k8sPSAT": {"enabled": True}}
    assert values["spire-agent"]["nodeAttestor"] == {"k8sPSAT": {"enabled": True}}


def test_agents_run_on_every_node_and_the_server_on_system_nodes(spire: Resources) -> None:
    values = _values(spire, "spire")
    assert values["spire-agent"]["tolerations"] == [{"operator": "Exists"}]
    assert values["spiffe-csi-driver"]["tolerations"] == [{"operator": "Exists"}]
    assert values["spire-server"]["nodeSelector"] == {"substrate.io/pool": "system"}
    assert values["spire-server"]["tolerations"] == [
        {"key": "CriticalAddonsOnly", "operator": "Exists"}
    ]


def test_only_the_agent_namespace_is_privileged(spire: Resources) -> None:
    levels = {
        ns.inputs["metadata"]["name"]: ns.inputs["metadata"]["labels"][
            "pod-security.kubernetes.io/enforce"
        ]
        for ns in spire.of_type("kubernetes:core/v1:Namespace")
    }
    assert levels == {SPIRE_SERVER_NAMESPACE: "restricted", SPIRE_SYSTEM_NAMESPACE: "privileged"}
    release = spire.named("spire-release")
    assert release.inputs["namespace"] == SPIRE_SERVER_NAMESPACE
    assert spire.named("spire-spire-system-namespace").urn in release.dependencies
    glob = _values(spire, "spire")["global"]["spire"]
    assert glob["namespaces"]["system"]["name"] == SPIRE_SYSTEM_NAMESPACE


def test_tenant_ids_cover_the_tenant_namespaces_as_a_fallback(spire: Resources) -> None:
    spec = spire.named("workload-identity-tenant-research").inputs["spec"]
    assert spec["spiffeIDTemplate"] == (
        "spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/"
        "{{ .PodSpec.ServiceAccountName }}"
    )
    assert spec["namespaceSelector"] == {
        "matchExpressions": [
            {
                "key": "kubernetes.io/metadata.name",
                "operator": "In",
                "values": ["research-agents", "research-train"],
            }
        ]
    }
    assert spec["fallback"] is True
    assert "federatesWith" not in spec
    search = spire.named("workload-identity-tenant-search").inputs["spec"]
    assert search["federatesWith"] == ["partner.example.com"]


def test_agent_id_is_pinned_to_its_pods_and_service_account(spire: Resources) -> None:
    agent = spire.named("workload-identity-agent-research-planner").inputs
    assert agent["metadata"]["labels"]["substrate.io/tenant"] == "research"
    spec = agent["spec"]
    assert spec["spiffeIDTemplate"] == "spiffe://{{ .TrustDomain }}/agent/research/planner"
    assert spec["podSelector"] == {
        "matchLabels": {
            "substrate.io/workload-class": "agent",
            "app.kubernetes.io/name": "planner",
        }
    }
    assert spec["workloadSelectorTemplates"] == ["k8s:sa:planner"]
    assert spec["ttl"] == "1h"
    assert "fallback" not in spec  # wins over the tenant's fallback ID


def test_federated_peer_is_registered(spire: Resources) -> None:
    spec = spire.named("workload-identity-federation-partner.example.com").inputs["spec"]
    assert spec["bundleEndpointProfile"] == {
        "type": "https_spiffe",
        "endpointSPIFFEID": "spiffe://partner.example.com/spire/server",
    }


@pytest.mark.crds
def test_registrations_validate_against_the_spire_crds(spire: Resources, crds: Path) -> None:
    crs = spire.of_type(f"{CR}:ClusterSPIFFEID") + spire.of_type(
        f"{CR}:ClusterFederatedTrustDomain"
    )
    assert crs
    for record in crs:
        assert validation_errors(crds, record.inputs) == [], record.name


def test_chart_placeholder_trust_domain_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^SpireArgs.trust_domain: 'example.org' is the SPIRE"):
        run_program(lambda: Spire("spire", _spire_args(trust_domain="example.org")))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"agents": [{**AGENTS[0], "namespace": "search"}]},
            "WorkloadIdentityArgs.agents: 'planner' runs in namespace 'search', which is not a "
            "namespace of tenant 'research'",
        ),
        (
            {"tenants": [TENANTS[0], TENANTS[0]]},
            "WorkloadIdentityArgs.tenants: 'research' is listed twice",
        ),
        (
            {"tenants": [{"name": "Research", "namespaces": ["r"]}], "agents": []},
            "WorkloadIdentityArgs.tenants[].name: 'Research' is not a DNS label",
        ),
        (
            {"trust_domain": "example.org"},
            "WorkloadIdentityArgs.trust_domain: 'example.org' is the",
        ),
    ],
)
def test_registration_args_are_validated(change: dict, message: str) -> None:
    with pytest.raises(ValueError) as err:
        run_program(lambda: WorkloadIdentity("wi", _identity_args(**change)))
    assert str(err.value).startswith(message)
