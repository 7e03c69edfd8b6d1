"""SPIRE (chart `spire` of spiffe/helm-charts-hardened): server, agents, CSI driver, controller.

Layout follows the chart's production recommendations (`global.spire.recommendations`):

- `spire-server` (PSA restricted): SPIRE server, spire-controller-manager, OIDC discovery;
- `spire-system` (PSA privileged, R27 exemption): the agent DaemonSet (hostPID, hostNetwork,
  hostPath sockets) and the SPIFFE CSI driver (privileged, mounts the Workload API socket).

Nodes attest with `k8s_psat` (projected service account tokens checked through TokenReview):
no cloud API and no instance metadata, which pods on Karpenter nodes cannot reach (hop limit 1).
The controller manager only reconciles ClusterSPIFFEIDs whose `className` is `class_name`
(`watchClassless: false`); the chart's catch-all `default` identity is disabled, so a workload gets
an SVID only from an explicit ClusterSPIFFEID (components.workload_identity).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, Required, TypedDict

import pulumi

from components import validators
from components._args import check_args
from components.addon import Addon, AddonArgs, AddonSpec
from components.labels import CRITICAL_ADDONS_TOLERATION, SYSTEM_NODE_SELECTOR
from components.spire_crds import SPIRE_SERVER_NAMESPACE

SPIRE_SYSTEM_NAMESPACE = "spire-system"
"""Namespace of the SPIRE agent and CSI driver: the one PSA `privileged` namespace of SPIRE."""
DEFAULT_CLASS_NAME = "substrate-spire"
TOLERATE_EVERYTHING = {"operator": "Exists"}
"""Node agents must run on every node, GPU and tenant pools included (whatever their taints)."""


class SpireArgs(AddonArgs, TypedDict, total=False):
    """SPIRE settings; `cluster_name` (from AddonArgs) is also SPIRE's cluster name."""

    trust_domain: Required[str]
    """SPIFFE trust domain of this environment (never the chart's example.org)."""
    class_name: NotRequired[str]
    """Controller-manager class; ClusterSPIFFEIDs must carry the same `className`."""
    ca_country: NotRequired[str]
    """Country in the SPIRE server CA subject (strict mode rejects the chart default)."""
    ca_organization: NotRequired[str]
    """Organization in the SPIRE server CA subject."""
    federation: NotRequired[bool]
    """Serve this trust domain's bundle endpoint (port 8443) for federated peers."""
    oidc_discovery: NotRequired[bool]
    """Run the OIDC discovery provider (JWKS for JWT-SVIDs); off unless a relying party needs it."""
    agent_tolerations: NotRequired[Sequence[Mapping[str, str]]]
    """Tolerations of the agent and CSI driver DaemonSets (default: every taint)."""


def _check(args: SpireArgs) -> None:
    problem = validators.spiffe_trust_domain(args["trust_domain"])
    if problem:
        raise ValueError(f"SpireArgs.trust_domain: {args['trust_domain']!r} {problem}")
    class_name = args.get("class_name", DEFAULT_CLASS_NAME)
    if validators.dns_label(class_name):
        raise ValueError(f"SpireArgs.class_name: {class_name!r} is not a DNS label")


def spire_values(args: SpireArgs) -> dict[str, Any]:
    """Helm values of the `spire` chart (keys verified against chart spire-0.30.0)."""
    trust_domain = args["trust_domain"]
    class_name = args.get("class_name", DEFAULT_CLASS_NAME)
    oidc = args.get("oidc_discovery", False)
    node_tolerations = [dict(t) for t in args.get("agent_tolerations", [TOLERATE_EVERYTHING])]
    on_system_nodes = {
        "nodeSelector": dict(SYSTEM_NODE_SELECTOR),
        "tolerations": [dict(CRITICAL_ADDONS_TOLERATION)],
    }
    return {
        "global": {
            "spire": {
                "trustDomain": trust_domain,
                "clusterName": args["cluster_name"],
                "caSubject": {
                    "country": args.get("ca_country", "US"),
                    "organization": args.get("ca_organization", "Substrate"),
                    "commonName": trust_domain,
                },
                # namespaceLayout, restricted securityContexts, priority classes, Prometheus
                # exporters, and strictMode: the chart fails on example.org / example-cluster.
                "recommendations": {"enabled": True},
                "namespaces": {
                    "system": {"name": SPIRE_SYSTEM_NAMESPACE},
                    "server": {"name": SPIRE_SERVER_NAMESPACE},
                },
            },
        },
        "spire-server": {
            **on_system_nodes,
            "nodeAttestor": {"k8sPSAT": {"enabled": True}},
            "federation": {"enabled": args.get("federation", False)},
            "controllerManager": {
                "enabled": True,
                "className": class_name,
                "watchClassless": False,
                "identities": {
                    "clusterSPIFFEIDs": {
                        "default": {"enabled": False},
                        "test-keys": {"enabled": False},
                        "oidc-discovery-provider": {"enabled": oidc},
                    },
                },
            },
        },
        "spire-agent": {
            "nodeAttestor": {"k8sPSAT": {"enabled": True}},
            "tolerations": node_tolerations,
        },
        "spiffe-csi-driver": {"tolerations": node_tolerations},
        "spiffe-oidc-discovery-provider": {"enabled": oidc, **on_system_nodes},
    }


class Spire(Addon):
    """The `spire` release plus its privileged agent namespace."""

    trust_domain: str
    class_name: str

    def __init__(self, name: str, args: SpireArgs, opts: pulumi.ResourceOptions | None = None):
        check_args(self, args)
        super().__init__("substrate:identity:Spire", name, None, opts)
        _check(args)
        self.trust_domain = args["trust_domain"]
        self.class_name = args.get("class_name", DEFAULT_CLASS_NAME)
        self._install(
            name,
            args,
            AddonSpec(
                chart="spire",
                namespace=SPIRE_SERVER_NAMESPACE,
                create_namespace=False,  # made by SpireCrds, whose release lives there too
                values=spire_values(args),
                # R27 exemption: the agent needs hostPID/hostNetwork/hostPath and the CSI
                # driver runs privileged; nothing else is scheduled in this namespace.
                extra_namespaces={SPIRE_SYSTEM_NAMESPACE: "privileged"},
            ),
        )
        self._finish({"trustDomain": self.trust_domain, "className": self.class_name})
