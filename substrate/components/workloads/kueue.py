"""Kueue: job queueing, quota, fair sharing and all-or-nothing admission for tenant workloads.

Chart keys (kueue chart 0.19.2, ../shared/crds/kueue/chart-values.yaml and the chart templates
at v0.19.2):

- `controllerManager.{replicas,nodeSelector,tolerations,topologySpreadConstraints}` and
  `controllerManager.podDisruptionBudget.{enabled,minAvailable}`: HA on the system nodes.
- `managerConfig.controllerManagerConfigYaml`: the whole `config.kueue.x-k8s.io/v1beta2`
  Configuration as an embedded YAML string (`templates/manager/manager-config.yaml` parses it
  with `fromYaml` and adds `internalCertManagement`). Substrate sets:
  `manageJobsWithoutQueueName: false` and `managedJobsNamespaceSelector` = tenant namespaces
  only (label `substrate.io/tenant` exists), so Kueue never touches system or platform pods;
  `waitForPodsReady` (all-or-nothing), `integrations.frameworks`, `fairSharing`,
  `metrics.enableClusterQueueResources` (the `kueue_cluster_queue_resource_usage` metric the
  GPU dashboard reads) and `resources.excludeResourcePrefixes` (EXCLUDED_RESOURCE_PREFIXES).
- The chart's own ServiceMonitor stays off (`enablePrometheus: false`): the observability layer
  renders one for the metrics Service (substrate.components.observability.scrape_targets.kueue).

The published chart stamps image `registry.k8s.io/kueue/kueue:v0.19.2`
(hack/helm-chart-package.sh); Substrate does not override it.
"""

from collections.abc import Sequence
from enum import StrEnum
from typing import Any, NotRequired, Required, TypedDict

import pulumi
import yaml

from substrate.components.core import validators
from substrate.components.core._args import check_args
from substrate.components.core.addon import Addon, AddonArgs, AddonSpec
from substrate.components.core.labels import (
    CRITICAL_ADDONS_TOLERATION,
    SYSTEM_NODE_SELECTOR,
    TENANT_LABEL,
)
from substrate.components.core.tokens import component_args
from substrate.components.workloads.kueue_integrations import FEATURE_GATES, SUPPORTED

CONFIG_API_VERSION = "config.kueue.x-k8s.io/v1beta2"
RELEASE_NAME = "kueue"
ZONE_KEY = "topology.kubernetes.io/zone"
EXCLUDED_RESOURCE_PREFIXES = ("ephemeral-storage", "hugepages-", "vpc.amazonaws.com/pod-eni")
"""Resources Kueue leaves out of quota (`resources.excludeResourcePrefixes`, matched as name
prefixes): node-local capacity that comes with the nodes CPU, memory and GPU quota already
bound — a node's disk (`ephemeral-storage`, which docs/capacity.md asks NVMe jobs to request),
its huge pages, and the VPC CNI's pod ENIs (`vpc.amazonaws.com/pod-eni`). The kubelet and the
scheduler enforce them per node and Karpenter launches nodes that have them. Without this
Kueue's default quota check (BlockUndeclared) leaves any pod that requests them pending
forever, since no ClusterQueue declares them. EFA interfaces (`vpc.amazonaws.com/efa`) are not
excluded: the ClusterQueues declare them on every whole-GPU flavor, sized from the tenant's GPU
share on an EFA pool's flavor and 0 elsewhere (substrate.components.workloads.tenancy
.cluster_queue_spec), so an EFA job is only admitted where its nodes have EFA. Every other
undeclared resource still blocks (e.g. `nvidia.com/gpu` in a CPU-only tenant's queue, Neuron
devices, which no flavor offers): `quotaCheckStrategy: IgnoreUndeclared` would let those
through unaccounted."""
STRATEGY_SETS = (
    ("LessThanOrEqualToFinalShare",),
    ("LessThanInitialShare",),
    ("LessThanOrEqualToFinalShare", "LessThanInitialShare"),
)


class WaitForPodsReady(TypedDict, total=False):
    """Kueue `waitForPodsReady` (all-or-nothing admission)."""

    timeout: Required[str]
    """Go duration an admitted workload has until all its pods are ready."""
    recovery_timeout: NotRequired[str]
    """Go duration a running workload may wait for a replacement pod (default: timeout)."""
    block_admission: NotRequired[bool]
    """Admit workloads one at a time until each is ready (default false)."""
    backoff_limit_count: NotRequired[int | None]
    """Requeues before deactivation (None: forever)."""
    backoff_base_seconds: NotRequired[int]
    """First requeue delay (default 60)."""
    backoff_max_seconds: NotRequired[int]
    """Longest requeue delay (default 3600)."""


class FairSharingStrategy(StrEnum):
    """A Kueue fair-sharing preemption strategy."""

    LESS_THAN_OR_EQUAL_TO_FINAL_SHARE = "LessThanOrEqualToFinalShare"
    LESS_THAN_INITIAL_SHARE = "LessThanInitialShare"


class KueueArgs(AddonArgs, total=False):
    """Arguments of :class:`Kueue`."""

    namespace: NotRequired[str]
    """Namespace of the release. Default `kueue-system`."""
    replicas: NotRequired[int]
    """Controller-manager replicas (1-5). Default 2."""
    integrations: Required[Sequence[str]]
    """Kueue job integrations to enable
    (substrate.components.workloads.kueue_integrations.SUPPORTED)."""
    wait_for_pods_ready: Required[WaitForPodsReady]
    """All-or-nothing admission settings."""
    fair_sharing: NotRequired[bool]
    """Enable preemption-based fair sharing (default true)."""
    preemption_strategies: NotRequired[Sequence[FairSharingStrategy]]
    """Fair-sharing strategies, in order (a set Kueue accepts)."""


def _check(args: KueueArgs) -> None:
    replicas = args.get("replicas", 2)
    if not 1 <= replicas <= 5:
        raise ValueError(f"KueueArgs.replicas: {replicas} is out of range (1 to 5)")
    namespace = args.get("namespace", "kueue-system")
    if validators.dns_label(namespace):
        raise ValueError(f"KueueArgs.namespace: {namespace!r} is not a DNS label")
    if not args["integrations"]:
        raise ValueError("KueueArgs.integrations: empty; enable at least batch/job")
    for name in args["integrations"]:
        if name not in SUPPORTED:
            raise ValueError(
                f"KueueArgs.integrations: {name!r} is not an integration Substrate supports "
                f"({', '.join(sorted(SUPPORTED))})"
            )
    strategies = tuple(args.get("preemption_strategies", STRATEGY_SETS[2]))
    if strategies not in STRATEGY_SETS:
        raise ValueError(
            f"KueueArgs.preemption_strategies: {[str(s) for s in strategies]} "
            "is not a set Kueue accepts"
        )
    ready = args["wait_for_pods_ready"]
    for key in ("timeout", "recovery_timeout"):
        value = ready.get(key)
        if value is not None and validators.duration(value):
            raise ValueError(f"KueueArgs.wait_for_pods_ready.{key}: {value!r} is not a duration")


def manager_config(args: KueueArgs) -> dict[str, Any]:
    """The Kueue Configuration (config.kueue.x-k8s.io/v1beta2) the controller runs with."""
    ready = args["wait_for_pods_ready"]
    requeue: dict[str, Any] = {
        "timestamp": "Eviction",
        "backoffBaseSeconds": ready.get("backoff_base_seconds", 60),
        "backoffMaxSeconds": ready.get("backoff_max_seconds", 3600),
    }
    if ready.get("backoff_limit_count") is not None:
        requeue["backoffLimitCount"] = ready.get("backoff_limit_count")
    wait: dict[str, Any] = {
        "timeout": ready["timeout"],
        "blockAdmission": ready.get("block_admission", False),
        "requeuingStrategy": requeue,
    }
    if "recovery_timeout" in ready:
        wait["recoveryTimeout"] = ready["recovery_timeout"]
    config: dict[str, Any] = {
        "apiVersion": CONFIG_API_VERSION,
        "kind": "Configuration",
        "health": {"healthProbeBindAddress": ":8081"},
        "metrics": {"bindAddress": ":8443", "enableClusterQueueResources": True},
        "webhook": {"port": 9443},
        "leaderElection": {"leaderElect": True, "resourceName": "c1f6bfd2.kueue.x-k8s.io"},
        "manageJobsWithoutQueueName": False,
        "managedJobsNamespaceSelector": {
            "matchExpressions": [{"key": TENANT_LABEL, "operator": "Exists"}]
        },
        "waitForPodsReady": wait,
        "integrations": {"frameworks": list(args["integrations"])},
        "resources": {"excludeResourcePrefixes": list(EXCLUDED_RESOURCE_PREFIXES)},
    }
    gates = {FEATURE_GATES[i]: True for i in args["integrations"] if i in FEATURE_GATES}
    if gates:
        config["featureGates"] = gates
    if args.get("fair_sharing", True):
        config["fairSharing"] = {
            "preemptionStrategies": [
                str(s) for s in args.get("preemption_strategies", STRATEGY_SETS[2])
            ]
        }
    return config


def chart_values(args: KueueArgs) -> dict[str, Any]:
    replicas = args.get("replicas", 2)
    return {
        "enablePrometheus": False,
        "controllerManager": {
            "replicas": replicas,
            "nodeSelector": {"kubernetes.io/os": "linux", **SYSTEM_NODE_SELECTOR},
            "tolerations": [dict(CRITICAL_ADDONS_TOLERATION)],
            "topologySpreadConstraints": [
                {
                    "maxSkew": 1,
                    "topologyKey": ZONE_KEY,
                    "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {
                        "matchLabels": {
                            "app.kubernetes.io/name": "kueue",
                            "app.kubernetes.io/instance": RELEASE_NAME,
                        }
                    },
                }
            ],
            "podDisruptionBudget": {"enabled": replicas > 1, "minAvailable": 1},
        },
        "managerConfig": {
            "controllerManagerConfigYaml": yaml.safe_dump(manager_config(args), sort_keys=False)
        },
    }


class Kueue(Addon):
    """Kueue on the system nodes, managing only tenant namespaces."""

    def __init__(
        self,
        name: str,
        args: KueueArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        check_args(self, args)
        _check(args)
        super().__init__(*component_args("substrate:workloads:Kueue", name, opts))
        namespace = args.get("namespace", "kueue-system")
        self._install(
            name,
            args,
            AddonSpec(
                chart="kueue",
                namespace=namespace,
                release_name=RELEASE_NAME,
                values=chart_values(args),
            ),
        )
        self._finish(
            {"integrations": list(args["integrations"]), "replicas": args.get("replicas", 2)}
        )
