"""SPIRE (chart `spire` of spiffe/helm-charts-hardened): server, agents, CSI driver, controller.

Layout follows the chart's production recommendations (`global.spire.recommendations`):

- `spire-server` (PSA restricted): SPIRE server, spire-controller-manager, OIDC discovery;
- `spire-system` (PSA privileged, R27 exemption): the agent DaemonSet (hostPID, hostNetwork,
  hostPath sockets) and the SPIFFE CSI driver (privileged, mounts the Workload API socket).

Nodes attest with `k8s_psat` (projected service account tokens checked through TokenReview):
no cloud API and no instance metadata, which pods on Karpenter nodes cannot reach (hop limit 1).
The agents' k8s workload attestor verifies the kubelet it asks about pods: it connects by node
name and checks the kubelet's serving certificate against the cluster CA (EKS nodes bootstrap
their serving certificates from the cluster, `serverTLSBootstrap`).

HA (`replicas` > 1) needs a shared datastore and keys that are not on one replica's volume: the
SQL datastore `aws_postgres` (an RDS instance, substrate.components.identity.spire_database,
reached with IAM
database authentication) and the `aws_kms` key manager, both through the server's Pod Identity
role (substrate.components.identity.spire_policies). Replicas spread over zones and at most one is
disrupted at a
time.
The controller manager only reconciles ClusterSPIFFEIDs whose `className` is `class_name`
(`watchClassless: false`); the chart's catch-all `default` identity is disabled, so a workload gets
an SVID only from an explicit ClusterSPIFFEID (substrate.components.identity.workload_identity).
"""

from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from substrate.components.cluster.image_cache import DOCKER_BASH
from substrate.components.core import validators
from substrate.components.core._args import check_args
from substrate.components.core.addon import Addon, AddonArgs, AddonSpec
from substrate.components.core.labels import CRITICAL_ADDONS_TOLERATION, SYSTEM_NODE_SELECTOR
from substrate.components.identity import spire_policies
from substrate.components.identity.pod_identity import PodIdentityRole
from substrate.components.identity.spire_crds import SPIRE_SERVER_NAMESPACE

SPIRE_SYSTEM_NAMESPACE = "spire-system"
"""Namespace of the SPIRE agent and CSI driver: the one PSA `privileged` namespace of SPIRE."""
DEFAULT_CLASS_NAME = "substrate-spire"
TOLERATE_EVERYTHING = {"operator": "Exists"}
"""Node agents must run on every node, GPU and tenant pools included (whatever their taints)."""
SERVER_SERVICE_ACCOUNT = "spire-server"
"""The chart's server service account (`spire-server.serviceAccountName` for release `spire`)."""
SERVER_LABELS = {"app.kubernetes.io/name": "server", "app.kubernetes.io/instance": "spire"}
"""Selector labels of the server pods (`spire-server.selectorLabels`, release `spire`)."""
ZONE_KEY = "topology.kubernetes.io/zone"


def _sized(cpu: str, memory: str) -> dict[str, Any]:
    """Requests, and a memory limit equal to the memory request (R28)."""
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory}}


SIZES: dict[str, dict[str, Any]] = {
    "server": _sized("200m", "512Mi"),
    "controller-manager": _sized("50m", "128Mi"),
    "agent": _sized("50m", "128Mi"),
    "csi-driver": _sized("20m", "64Mi"),
    "hooks": _sized("50m", "64Mi"),
}
"""Starting sizes (the chart sets none); the CSI driver's value covers its registrar too."""

INIT_IMAGE = {
    "registry": DOCKER_BASH.partition("/")[0],
    "repository": DOCKER_BASH.partition("/")[2],
    "tag": "5.3.15-alpine3.24",
}
"""The agent's init containers (`bash -c`: chown, readlink, ln, rm). The chart's default is
cgr.dev/chainguard/bash under the `latest` tag (R28), from a registry that publishes no version
tags without a subscription. Docker's official bash image is mirrored to ECR Public; 5.3.15 on
Alpine 3.24 is a tag of docker-library/official-images `library/bash` (2026-08). Tag only: no
digest could be verified offline; the cache repository's immutable tags freeze the first pull."""


class SpireDatastore(TypedDict):
    """The SQL datastore on RDS for PostgreSQL with IAM authentication (`aws_postgres`)."""

    host: pulumi.Input[str]
    """The RDS instance's endpoint address (no port)."""
    port: pulumi.Input[int]
    """The instance's PostgreSQL port."""
    database: str
    """Database SPIRE's tables live in (created by an operator, see docs/identity.md)."""
    user: str
    """Database user SPIRE logs in as with an IAM authentication token (`rds-db:connect`)."""
    region: str
    """AWS Region of the instance, for signing the IAM authentication token."""


class SpireKms(TypedDict):
    """The `aws_kms` key manager: SPIRE creates and uses its signing keys in KMS, with a key
    policy that names the server's role
    (substrate.components.identity.spire_policies.signing_key_policy)."""

    region: str
    """AWS Region of the keys (the stack's Region)."""


class SpireServerArgs(TypedDict, total=False):
    """How the SPIRE server runs (part of SpireArgs)."""

    replicas: NotRequired[int]
    """SPIRE server replicas. Default 1; more need `datastore` and `kms`."""
    datastore: NotRequired[SpireDatastore]
    """Shared SQL datastore (default: sqlite on the server's volume)."""
    kms: NotRequired[SpireKms]
    """Signing keys in AWS KMS (default: on the server's volume)."""
    server_policy_json: NotRequired[pulumi.Input[str]]
    """The server's Pod Identity role policy
    (substrate.components.identity.spire_policies.server_policy); required
    with `datastore` or `kms`."""


class SpireArgs(AddonArgs, SpireServerArgs, TypedDict, total=False):
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
    replicas = args.get("replicas", 1)
    if replicas < 1:
        raise ValueError(f"SpireArgs.replicas: {replicas} is not a replica count")
    if replicas > 1 and ("datastore" not in args or "kms" not in args):
        raise ValueError(
            f"SpireArgs.replicas: {replicas} needs a shared datastore and KMS keys "
            "(SpireArgs.datastore and SpireArgs.kms)"
        )
    if ("datastore" in args or "kms" in args) and "server_policy_json" not in args:
        raise ValueError(
            "SpireArgs.server_policy_json: required with datastore or kms (the server reaches "
            "them with its Pod Identity role)"
        )


def _server_aws(args: SpireArgs, role_arn: pulumi.Input[str] | None) -> dict[str, Any]:
    """Server values for the SQL datastore on RDS with IAM authentication, the aws_kms key
    manager (each replica's server id in a file on its own volume, so replicas never share key
    aliases) and, with several replicas, zone spread."""
    out: dict[str, Any] = {}
    store = args.get("datastore")
    if store is not None:
        out["dataStore"] = {
            "sql": {
                # The template accepts `aws_postgres` (SPIRE's name); the values comment says
                # aws_postgresql, which the chart's helper refuses ("Unsupported database type").
                "databaseType": "aws_postgres",
                "databaseName": store["database"],
                "host": store["host"],
                "port": store["port"],
                "username": store["user"],
                "region": store["region"],
                "options": [{"sslmode": "require"}],
            }
        }
    kms = args.get("kms")
    if kms is not None:
        assert role_arn is not None  # _check: kms needs server_policy_json, hence a role
        key_policy = pulumi.Output.from_input(role_arn).apply(spire_policies.signing_key_policy)
        out["keyManager"] = {
            "disk": {"enabled": False},
            "awsKMS": {
                "enabled": True,
                "region": kms["region"],
                "keyIdentifierFile": {"enabled": True},
                "keyPolicy": {"policy": key_policy},
            },
        }
    if args.get("replicas", 1) > 1:
        out["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": ZONE_KEY,
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": dict(SERVER_LABELS)},
            }
        ]
    return out


def spire_values(args: SpireArgs, role_arn: pulumi.Input[str] | None = None) -> dict[str, Any]:
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
            "installAndUpgradeHooks": {"resources": SIZES["hooks"]},
            "deleteHooks": {"resources": SIZES["hooks"]},
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
            "resources": SIZES["server"],
            "replicaCount": args.get("replicas", 1),
            **_server_aws(args, role_arn),
            "nodeAttestor": {"k8sPSAT": {"enabled": True}},
            "federation": {"enabled": args.get("federation", False)},
            "controllerManager": {
                "enabled": True,
                "resources": SIZES["controller-manager"],
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
            # Verify the kubelet: connect by node name (a SAN of its serving certificate) and
            # check the certificate against the cluster CA, which signs EKS nodes' serving
            # certificates (nodeadm sets serverTLSBootstrap).
            "kubeletAddress": {"mode": "hostname"},
            "workloadAttestors": {"k8s": {"verification": {"type": "apiServerCA"}}},
            # Also the init containers' (the chart gives them the agent's resources).
            "resources": SIZES["agent"],
            "fsGroupFix": {"image": dict(INIT_IMAGE)},
            "socketAlternate": {"image": dict(INIT_IMAGE)},
        },
        "spiffe-csi-driver": {"tolerations": node_tolerations, "resources": SIZES["csi-driver"]},
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
        role = self._server_role(name, args)
        self._install(
            name,
            args,
            AddonSpec(
                chart="spire",
                namespace=SPIRE_SERVER_NAMESPACE,
                create_namespace=False,  # made by SpireCrds, whose release lives there too
                values=spire_values(args, role.role_arn if role is not None else None),
                # R27 exemption: the agent needs hostPID/hostPath and the CSI driver runs
                # privileged; nothing else is scheduled in this namespace.
                extra_namespaces={SPIRE_SYSTEM_NAMESPACE: "privileged"},
                depends_on=[role] if role is not None else (),
            ),
        )
        if role is not None:
            self.role_arn = role.role_arn
        if args.get("replicas", 1) > 1:
            k8s.policy.v1.PodDisruptionBudget(
                f"{name}-server-pdb",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name="spire-server", namespace=SPIRE_SERVER_NAMESPACE
                ),
                spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                    max_unavailable=1,
                    selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(SERVER_LABELS)),
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release]),
            )
        self._finish({"trustDomain": self.trust_domain, "className": self.class_name})

    def _server_role(self, name: str, args: SpireArgs) -> PodIdentityRole | None:
        """The server's Pod Identity role, made before the release: the key policy in the
        release's values names it."""
        policy = args.get("server_policy_json")
        if policy is None:
            return None
        return PodIdentityRole(
            f"{name}-pod-identity",
            {
                "cluster_name": args["cluster_name"],
                "namespace": SPIRE_SERVER_NAMESPACE,
                "service_account": SERVER_SERVICE_ACCOUNT,
                "policy_json": policy,
                "tags": dict(args.get("tags", {})),
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
