"""A workload operator a Kueue integration needs: JobSet, LeaderWorkerSet or KubeRay.

Chart keys (verified in the charts at the pinned tags):

- jobset 0.12.0 (kubernetes-sigs/jobset `charts/jobset/values.yaml`): `controller.replicas`,
  `controller.nodeSelector`, `controller.tolerations`, `controller.podDisruptionBudget`; the
  pod security context already sets `runAsNonRoot` and `seccompProfile: RuntimeDefault`.
- lws 0.10.0 (kubernetes-sigs/lws `charts/lws/values.yaml`): `replicaCount`, `nodeSelector`,
  `tolerations`, `podSecurityContext`; the chart's default pod security context lacks a seccomp
  profile, which PSA `restricted` requires, so Substrate sets `RuntimeDefault`; `resources`
  requests 1 CPU and 1Gi (the chart's own requests) and Substrate adds the 1Gi memory limit.
- kuberay-operator 1.7.0 (ray-project/kuberay `helm-chart/kuberay-operator/values.yaml`):
  `replicas`, `nodeSelector`, `tolerations`; its container security context is already
  restricted-compliant. `singleNamespaceInstall: false` (default): it watches tenant namespaces.

Every operator runs on the system nodes, in a PSA-restricted namespace of its own, with no AWS
access.
"""

from collections.abc import Callable
from typing import Any, Required

import pulumi

from substrate.components.core._args import check_args
from substrate.components.core.addon import Addon, AddonArgs, AddonSpec
from substrate.components.core.labels import CRITICAL_ADDONS_TOLERATION, SYSTEM_NODE_SELECTOR
from substrate.components.workloads.kueue_integrations import OPERATORS, Operator

NODE_SELECTOR = {"kubernetes.io/os": "linux", **SYSTEM_NODE_SELECTOR}


def _jobset(replicas: int) -> dict[str, Any]:
    return {
        "controller": {
            "replicas": replicas,
            "nodeSelector": NODE_SELECTOR,
            "tolerations": [dict(CRITICAL_ADDONS_TOLERATION)],
            "podDisruptionBudget": {"enabled": replicas > 1, "minAvailable": 1},
        }
    }


def _lws(replicas: int) -> dict[str, Any]:
    return {
        "replicaCount": replicas,
        "nodeSelector": NODE_SELECTOR,
        "tolerations": [dict(CRITICAL_ADDONS_TOLERATION)],
        "podSecurityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}},
    }


def _kuberay(replicas: int) -> dict[str, Any]:
    return {
        "replicas": replicas,
        "nodeSelector": NODE_SELECTOR,
        "tolerations": [dict(CRITICAL_ADDONS_TOLERATION)],
    }


VALUES: dict[str, Callable[[int], dict[str, Any]]] = {
    "jobset": _jobset,
    "lws": _lws,
    "kuberay-operator": _kuberay,
}


class WorkloadOperatorArgs(AddonArgs, total=False):
    """Arguments of :class:`WorkloadOperator`."""

    operator: Required[Operator]
    """Which operator (substrate.components.workloads.kueue_integrations.OPERATORS)."""
    replicas: Required[int]
    """Controller replicas (1-5)."""


class WorkloadOperator(Addon):
    """One workload operator (JobSet, LWS or KubeRay) on the system nodes."""

    def __init__(
        self, name: str, args: WorkloadOperatorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        op = args["operator"]
        if op not in OPERATORS:
            raise ValueError(
                f"WorkloadOperatorArgs.operator: {op.chart!r} is not one of "
                f"{[o.chart for o in OPERATORS]}"
            )
        if not 1 <= args["replicas"] <= 5:
            raise ValueError(
                f"WorkloadOperatorArgs.replicas: {args['replicas']} is out of range (1 to 5)"
            )
        super().__init__("substrate:workloads:WorkloadOperator", name, None, opts)
        self.operator = op
        self._install(
            name,
            args,
            AddonSpec(
                chart=op.chart, namespace=op.namespace, values=VALUES[op.chart](args["replicas"])
            ),
        )
        self._finish({"operator": op.title})
