"""The Kubernetes objects of one agent (substrate.components.agents.agent_runtime), as plain specs.

Pure functions, no Pulumi: the component declares them, tests and docs read them.

- Pods: `substrate.io/workload-class: agent` and `app.kubernetes.io/name: <agent>` (what the
  agent's ClusterSPIFFEID selects, with its service account), restricted security context
  (non-root UID/GID/fsGroup, no privilege escalation, read-only root file system, all
  capabilities dropped, RuntimeDefault seccomp), no service-account token, memory limit equal
  to the request, liveness/readiness/startup probes on the `http` port, one replica per zone
  before any zone gets two (`topology.kubernetes.io/zone`, maxSkew 1), and
  `karpenter.sh/do-not-disrupt: "true"` when long tasks are protected.
- Writable paths: the memory volume and a `/tmp` emptyDir; the SPIFFE Workload API socket is
  mounted read-only from the SPIFFE CSI driver.
- StatefulSet: `Parallel` pod management (replicas are independent sessions, not a quorum),
  one `ReadWriteOnce` claim per replica from `volumeClaimTemplates` (`memory-<agent>-<n>`), and a
  `persistentVolumeClaimRetentionPolicy` (Retain/Retain keeps the claims on deletion and
  scale-down; Kubernetes >= 1.32 GA). `replicas` is left out when KEDA scales the set, as the
  StatefulSet docs ask for any HPA-managed workload.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pulumi

from substrate.components.cluster.storage import AGENT_CLASS
from substrate.components.core.labels import (
    KARPENTER_DO_NOT_DISRUPT,
    NAMESPACE_NAME_LABEL,
    TENANT_LABEL,
    WORKLOAD_CLASS_LABEL,
)
from substrate.components.identity.workload_identity import APP_NAME_LABEL, MANAGED_BY
from substrate.components.observability.scrape_targets import MonitorKind, ScrapeTarget

if TYPE_CHECKING:
    from substrate.components.agents.agent_runtime import AgentRuntimeArgs, ProbeArgs

WORKLOAD_CLASS = "agent"
COMPONENT_LABEL = "app.kubernetes.io/component"
CONTAINER = "agent"
HTTP_PORT = "http"
DEFAULT_PORT = 8080
DEFAULT_UID = 65532
DEFAULT_MOUNT = "/var/lib/agent/memory"
MODELS_ENV = "SUBSTRATE_BEDROCK_MODELS"
MEMORY_VOLUME = "memory"
"""Claim template name: replica n's claim is `memory-<agent>-<n>`."""
TMP_VOLUME = "tmp"
SPIFFE_VOLUME = "spiffe-workload-api"
SPIFFE_CSI_DRIVER = "csi.spiffe.io"
SPIFFE_SOCKET_DIR = "/spiffe-workload-api"
ZONE_KEY = "topology.kubernetes.io/zone"
NOT_AN_AGENT = {"key": WORKLOAD_CLASS_LABEL, "operator": "NotIn", "values": [WORKLOAD_CLASS]}
"""Label selector requirement: pods that are not agents."""


def selector(agent: str) -> dict[str, str]:
    """Pod selector of the StatefulSet, Service and PDB (also the ClusterSPIFFEID's)."""
    return {APP_NAME_LABEL: agent, WORKLOAD_CLASS_LABEL: WORKLOAD_CLASS}


def object_labels(agent: str, tenant: str) -> dict[str, str]:
    """Labels of every object of the agent."""
    return {**MANAGED_BY, APP_NAME_LABEL: agent, COMPONENT_LABEL: "agent", TENANT_LABEL: tenant}


def pod_labels(agent: str, tenant: str) -> dict[str, str]:
    return {**object_labels(agent, tenant), **selector(agent)}


def service_spec(agent: str, port: int) -> dict[str, Any]:
    """Headless: DNS gives each replica a stable name `<agent>-<n>.<agent>.<ns>.svc`."""
    return {
        "clusterIP": "None",
        "selector": selector(agent),
        "ports": [{"name": HTTP_PORT, "port": port, "targetPort": HTTP_PORT, "protocol": "TCP"}],
    }


def pdb_spec(agent: str) -> dict[str, Any]:
    """One replica may be evicted at a time: drains proceed, never all sessions at once."""
    return {"maxUnavailable": 1, "selector": {"matchLabels": selector(agent)}}


def probe(p: ProbeArgs) -> dict[str, Any]:
    return {
        "httpGet": {"path": p["path"], "port": HTTP_PORT},
        "periodSeconds": p.get("period_seconds", 10),
        "failureThreshold": p.get("failure_threshold", 3),
        "timeoutSeconds": p.get("timeout_seconds", 2),
    }


def environment(args: AgentRuntimeArgs) -> list[dict[str, Any]]:
    """What the agent is told: its name, tenant, memory path, Region, SDK retries and timeouts,
    session lifetime, the models it may call (catalog name -> model or profile id) and the
    guardrail it must send."""
    mount = args["memory_volume"].get("mount_path", DEFAULT_MOUNT)
    env = {
        "SUBSTRATE_AGENT": args["agent"],
        "SUBSTRATE_TENANT": args["tenant"],
        "SUBSTRATE_MEMORY_PATH": mount,
    }
    if args.get("region"):
        env["AWS_REGION"] = str(args.get("region"))
    timeouts = args.get("timeouts", {})
    env["AWS_MAX_ATTEMPTS"] = str(timeouts.get("max_attempts", 3))
    env["AWS_RETRY_MODE"] = timeouts.get("retry_mode", "standard")
    env["SUBSTRATE_BEDROCK_READ_TIMEOUT_SECONDS"] = str(timeouts.get("model_read_seconds", 3600))
    env["SUBSTRATE_SESSION_MAX_SECONDS"] = str(timeouts.get("session_seconds", 28800))
    bedrock = args.get("bedrock")
    if bedrock is not None:
        models = {ref.name: ref.id for ref in bedrock["models"]}
        env[MODELS_ENV] = json.dumps(models, sort_keys=True)
        guardrail = bedrock.get("guardrail")
        if guardrail:
            env["SUBSTRATE_BEDROCK_GUARDRAIL"] = f"{guardrail['id']}:{guardrail['version']}"
    if args.get("spiffe", True):
        env["SPIFFE_ENDPOINT_SOCKET"] = f"unix://{SPIFFE_SOCKET_DIR}/spire-agent.sock"
    extra = dict(sorted(args.get("env", {}).items()))
    return [{"name": k, "value": v} for k, v in {**env, **extra}.items()]


def models_env(ids: Mapping[str, pulumi.Input[str]]) -> pulumi.Output[str]:
    """`SUBSTRATE_BEDROCK_MODELS` once every id is known (application profile ARNs are known
    only after their profiles are created)."""
    return pulumi.Output.all(**ids).apply(lambda found: json.dumps(found, sort_keys=True))


def set_env(spec: dict[str, Any], name: str, value: pulumi.Input[str]) -> None:
    """Replace variable ``name`` of the agent container of a StatefulSet or Job template spec."""
    for entry in spec["template"]["spec"]["containers"][0]["env"]:
        if entry["name"] == name:
            entry["value"] = value
            return
    raise KeyError(name)


def pod_spec(args: AgentRuntimeArgs) -> dict[str, Any]:
    agent, uid = args["agent"], args.get("run_as_user", DEFAULT_UID)
    mount = args["memory_volume"].get("mount_path", DEFAULT_MOUNT)
    mounts: list[dict[str, Any]] = [
        {"name": MEMORY_VOLUME, "mountPath": mount},
        {"name": TMP_VOLUME, "mountPath": "/tmp"},
    ]
    volumes: list[dict[str, Any]] = [{"name": TMP_VOLUME, "emptyDir": {"sizeLimit": "1Gi"}}]
    if args.get("spiffe", True):
        volumes.append(
            {"name": SPIFFE_VOLUME, "csi": {"driver": SPIFFE_CSI_DRIVER, "readOnly": True}}
        )
        mounts.append({"name": SPIFFE_VOLUME, "mountPath": SPIFFE_SOCKET_DIR, "readOnly": True})
    probes = args["probes"]
    container = {
        "name": CONTAINER,
        "image": args["image"],
        "ports": [
            {"name": HTTP_PORT, "containerPort": args.get("port", DEFAULT_PORT), "protocol": "TCP"}
        ],
        "env": environment(args),
        "resources": {
            "requests": {"cpu": args["cpu"], "memory": args["memory"]},
            "limits": {"memory": args["memory"]},
        },
        "startupProbe": probe(probes["startup"]),
        "livenessProbe": probe(probes["liveness"]),
        "readinessProbe": probe(probes["readiness"]),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": mounts,
    }
    stop = args.get("pre_stop_path")
    if stop:
        container["lifecycle"] = {"preStop": {"httpGet": {"path": stop, "port": HTTP_PORT}}}
    return {
        "serviceAccountName": agent,
        # The agent calls Bedrock (Pod Identity) and SPIRE (CSI socket), never the Kubernetes
        # API: no token is mounted (R29).
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": args.get("termination_grace_seconds", 300),
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": uid,
            "runAsGroup": uid,
            "fsGroup": uid,
            # Chown the volume only when its root does not match: large memory volumes mount
            # without a recursive walk on every restart.
            "fsGroupChangePolicy": "OnRootMismatch",
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": ZONE_KEY,
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": selector(agent)},
            }
        ],
        "containers": [container],
        "volumes": volumes,
    }


def retention_policy(retain: bool) -> dict[str, str]:
    action = "Retain" if retain else "Delete"
    return {"whenDeleted": action, "whenScaled": action}


def statefulset_spec(args: AgentRuntimeArgs) -> dict[str, Any]:
    agent, volume = args["agent"], args["memory_volume"]
    annotations = {"kubectl.kubernetes.io/default-container": CONTAINER}
    if args.get("protect_long_tasks", True):
        annotations[KARPENTER_DO_NOT_DISRUPT] = "true"
    spec: dict[str, Any] = {
        "serviceName": agent,
        "selector": {"matchLabels": selector(agent)},
        "podManagementPolicy": "Parallel",
        "updateStrategy": {"type": "RollingUpdate"},
        "persistentVolumeClaimRetentionPolicy": retention_policy(volume.get("retain", True)),
        "template": {
            "metadata": {"labels": pod_labels(agent, args["tenant"]), "annotations": annotations},
            "spec": pod_spec(args),
        },
        "volumeClaimTemplates": [
            {
                "metadata": {"name": MEMORY_VOLUME, "labels": object_labels(agent, args["tenant"])},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": volume.get("storage_class", AGENT_CLASS),
                    "resources": {"requests": {"storage": volume["size"]}},
                },
            }
        ],
    }
    if args.get("scaling") is None:
        spec["replicas"] = args.get("replicas") or 1
    return spec


def session_network_policy(
    agent: str, tenant: str, port: int, *, tenant_pods: bool, agents: list[str]
) -> dict[str, Any]:
    """Who may open sessions on the agent's port (the tenant's own policies no longer admit
    anything to agent pods): the tenant's pods that are not agents when ``tenant_pods``, and the
    pods of the declared caller ``agents``. Nothing else reaches the agent but Prometheus (with
    `metricsPath`, :func:`scrape_network_policy`)."""
    tenant_ns = {"matchLabels": {TENANT_LABEL: tenant}}
    peers: list[dict[str, Any]] = []
    if tenant_pods:
        peers.append(
            {"namespaceSelector": tenant_ns, "podSelector": {"matchExpressions": [NOT_AN_AGENT]}}
        )
    peers += [
        {"namespaceSelector": tenant_ns, "podSelector": {"matchLabels": selector(caller)}}
        for caller in sorted(agents)
    ]
    ingress = [{"from": peers, "ports": [{"protocol": "TCP", "port": port}]}] if peers else []
    return {
        "podSelector": {"matchLabels": selector(agent)},
        "policyTypes": ["Ingress"],
        "ingress": ingress,
    }


def scrape_target(agent: str, namespace: str, path: str) -> ScrapeTarget:
    """ServiceMonitor of the agent's headless Service (one endpoint per replica)."""
    return {
        "name": f"agent-{agent}",
        "kind": MonitorKind.SERVICE_MONITOR,
        "namespace": namespace,
        "match_labels": {APP_NAME_LABEL: agent, COMPONENT_LABEL: "agent"},
        "port": HTTP_PORT,
        "path": path,
    }


def scrape_network_policy(agent: str, port: int, monitoring_namespace: str) -> dict[str, Any]:
    """Let Prometheus (in the monitoring namespace) through the tenant's default-deny (R30) to
    the agent's port, and nothing else."""
    return {
        "podSelector": {"matchLabels": selector(agent)},
        "policyTypes": ["Ingress"],
        "ingress": [
            {
                "from": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {NAMESPACE_NAME_LABEL: monitoring_namespace}
                        }
                    }
                ],
                "ports": [{"protocol": "TCP", "port": port}],
            }
        ],
    }
