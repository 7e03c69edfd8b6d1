"""Which workloads get which SPIFFE ID: ClusterSPIFFEIDs and ClusterFederatedTrustDomains.

- One ClusterSPIFFEID per tenant: every pod in the tenant's namespaces gets
  `spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>` (a `fallback` ID).
- One per agent workload: pods labelled `substrate.io/workload-class: agent` and
  `app.kubernetes.io/name: <agent>`, in the agent's namespace and running as its service account,
  get `spiffe://<trust-domain>/agent/<tenant>/<agent>` instead of the tenant fallback.
- One ClusterFederatedTrustDomain per federated peer.

Namespaces are matched on `kubernetes.io/metadata.name`, which the API server sets and nobody can
relabel. Every object carries the controller-manager `className` of
`substrate.components.identity.spire.Spire`.
"""

from collections.abc import Sequence
from enum import StrEnum
from typing import Any, NotRequired, Required, TypedDict

import pulumi
from pulumi_kubernetes.apiextensions import CustomResource
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from substrate.components.core import validators
from substrate.components.core._args import check_args
from substrate.components.core.labels import TENANT_LABEL, WORKLOAD_CLASS_LABEL

API_VERSION = "spire.spiffe.io/v1alpha1"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
APP_NAME_LABEL = "app.kubernetes.io/name"
MANAGED_BY = {"app.kubernetes.io/managed-by": "substrate"}
TENANT_ID_TEMPLATE = (
    "spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/{{ .PodSpec.ServiceAccountName }}"
)


class TenantIdentity(TypedDict, total=False):
    """A tenant whose pods get namespace/service-account SPIFFE IDs."""

    name: Required[str]
    """Tenant name (DNS label), as in the `substrate.io/tenant` namespace label."""
    namespaces: Required[Sequence[str]]
    """The tenant's namespaces."""
    federates_with: NotRequired[Sequence[str]]
    """Foreign trust domains whose bundles the tenant's workloads receive."""


class AgentIdentity(TypedDict, total=False):
    """A long-running agent workload with an identity of its own."""

    name: Required[str]
    """Agent name; pods carry `app.kubernetes.io/name: <name>` and workload-class `agent`."""
    tenant: Required[str]
    """Owning tenant (one of `tenants`)."""
    namespace: Required[str]
    """Namespace the agent runs in (one of the tenant's namespaces)."""
    service_account: Required[str]
    """Service account the agent's pods must run as to receive the ID."""
    ttl: NotRequired[str]
    """Upper bound of the X.509-SVID lifetime (Go duration, e.g. `1h`); SPIRE default otherwise."""
    federates_with: NotRequired[Sequence[str]]
    """Foreign trust domains whose bundles the agent receives."""


class BundleEndpointProfile(StrEnum):
    """How a foreign trust domain's bundle endpoint authenticates."""

    HTTPS_SPIFFE = "https_spiffe"
    HTTPS_WEB = "https_web"


class FederatedTrustDomain(TypedDict, total=False):
    """A foreign trust domain SPIRE fetches a bundle from."""

    trust_domain: Required[str]
    """The foreign trust domain."""
    bundle_endpoint_url: Required[str]
    """HTTPS URL of its bundle endpoint."""
    profile: Required[BundleEndpointProfile]
    """How that endpoint authenticates."""
    endpoint_spiffe_id: NotRequired[str]
    """SPIFFE ID of the endpoint (https_spiffe)."""


class WorkloadIdentityArgs(TypedDict, total=False):
    """Registrations for one SPIRE controller-manager class."""

    trust_domain: Required[str]
    """This environment's trust domain (for the `spiffeIds` output)."""
    class_name: Required[str]
    """Controller-manager class name (SpireArgs.class_name)."""
    tenants: NotRequired[Sequence[TenantIdentity]]
    """Tenants and their namespaces (empty until tenants are configured)."""
    agents: NotRequired[Sequence[AgentIdentity]]
    """Agent workloads with their own IDs."""
    federation: NotRequired[Sequence[FederatedTrustDomain]]
    """Federated peers."""


def _label(field: str, value: str) -> None:
    if validators.dns_label(value):
        raise ValueError(f"WorkloadIdentityArgs.{field}: {value!r} is not a DNS label")


def _check(args: WorkloadIdentityArgs) -> None:
    problem = validators.spiffe_trust_domain(args["trust_domain"])
    if problem:
        raise ValueError(f"WorkloadIdentityArgs.trust_domain: {args['trust_domain']!r} {problem}")
    tenants: dict[str, set[str]] = {}
    for tenant in args.get("tenants", []):
        _label("tenants[].name", tenant["name"])
        if tenant["name"] in tenants:
            raise ValueError(f"WorkloadIdentityArgs.tenants: {tenant['name']!r} is listed twice")
        if not tenant["namespaces"]:
            raise ValueError(f"WorkloadIdentityArgs.tenants: {tenant['name']!r} has no namespaces")
        for ns in tenant["namespaces"]:
            _label("tenants[].namespaces", ns)
        tenants[tenant["name"]] = set(tenant["namespaces"])
    agents: set[tuple[str, str]] = set()
    for agent in args.get("agents", []):
        _label("agents[].name", agent["name"])
        key = (agent["tenant"], agent["name"])
        if key in agents:
            raise ValueError(f"WorkloadIdentityArgs.agents: {agent['name']!r} is listed twice")
        agents.add(key)
        if agent["namespace"] not in tenants.get(agent["tenant"], set()):
            raise ValueError(
                f"WorkloadIdentityArgs.agents: {agent['name']!r} runs in namespace "
                f"{agent['namespace']!r}, which is not a namespace of tenant {agent['tenant']!r}"
            )


def _selector_in(namespaces: Sequence[str]) -> dict[str, Any]:
    return {
        "matchExpressions": [
            {"key": NAMESPACE_NAME_LABEL, "operator": "In", "values": sorted(namespaces)}
        ]
    }


def tenant_spec(class_name: str, tenant: TenantIdentity) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "className": class_name,
        "spiffeIDTemplate": TENANT_ID_TEMPLATE,
        "namespaceSelector": _selector_in(tenant["namespaces"]),
        "fallback": True,
        "hint": f"tenant-{tenant['name']}",
    }
    if tenant.get("federates_with"):
        spec["federatesWith"] = sorted(tenant.get("federates_with", []))
    return spec


def agent_spec(class_name: str, agent: AgentIdentity) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "className": class_name,
        "spiffeIDTemplate": (
            f"spiffe://{{{{ .TrustDomain }}}}/agent/{agent['tenant']}/{agent['name']}"
        ),
        "namespaceSelector": _selector_in([agent["namespace"]]),
        "podSelector": {
            "matchLabels": {WORKLOAD_CLASS_LABEL: "agent", APP_NAME_LABEL: agent["name"]}
        },
        "workloadSelectorTemplates": [f"k8s:sa:{agent['service_account']}"],
        "hint": f"agent-{agent['name']}",
    }
    if "ttl" in agent:
        spec["ttl"] = agent["ttl"]
    if agent.get("federates_with"):
        spec["federatesWith"] = sorted(agent.get("federates_with", []))
    return spec


def federation_spec(class_name: str, peer: FederatedTrustDomain) -> dict[str, Any]:
    profile: dict[str, str] = {"type": peer["profile"]}
    if "endpoint_spiffe_id" in peer:
        profile["endpointSPIFFEID"] = peer["endpoint_spiffe_id"]
    return {
        "className": class_name,
        "trustDomain": peer["trust_domain"],
        "bundleEndpointURL": peer["bundle_endpoint_url"],
        "bundleEndpointProfile": profile,
    }


class WorkloadIdentity(pulumi.ComponentResource):
    """ClusterSPIFFEIDs per tenant and per agent, ClusterFederatedTrustDomains per peer."""

    spiffe_ids: dict[str, str]

    def __init__(
        self, name: str, args: WorkloadIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__("substrate:identity:WorkloadIdentity", name, None, opts)
        _check(args)
        class_name, domain = args["class_name"], args["trust_domain"]
        child = pulumi.ResourceOptions(parent=self)
        self.spiffe_ids = {}

        def cr(suffix: str, kind: str, obj: str, labels: dict[str, str], spec: dict[str, Any]):
            CustomResource(
                f"{name}-{suffix}",
                api_version=API_VERSION,
                kind=kind,
                metadata=ObjectMetaArgs(name=obj, labels={**MANAGED_BY, **labels}),
                spec=spec,
                opts=child,
            )

        for tenant in args.get("tenants", []):
            obj = f"tenant-{tenant['name']}"
            cr(
                obj,
                "ClusterSPIFFEID",
                obj,
                {TENANT_LABEL: tenant["name"]},
                tenant_spec(class_name, tenant),
            )
            self.spiffe_ids[obj] = f"spiffe://{domain}/ns/<namespace>/sa/<service-account>"
        for agent in args.get("agents", []):
            obj = f"agent-{agent['tenant']}-{agent['name']}"
            cr(
                obj,
                "ClusterSPIFFEID",
                obj,
                {TENANT_LABEL: agent["tenant"]},
                agent_spec(class_name, agent),
            )
            self.spiffe_ids[obj] = f"spiffe://{domain}/agent/{agent['tenant']}/{agent['name']}"
        for peer in args.get("federation", []):
            obj = "federation-" + peer["trust_domain"].replace("_", "-")
            cr(obj, "ClusterFederatedTrustDomain", obj, {}, federation_spec(class_name, peer))
        self.register_outputs({"spiffeIds": self.spiffe_ids})
