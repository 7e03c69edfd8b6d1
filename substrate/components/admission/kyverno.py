"""Kyverno: the admission controller that runs Substrate's ValidatingPolicies (R27-R34).

Chart keys (kyverno chart 3.9.0, ../shared/crds/kyverno/chart-values.yaml and the chart's
templates at v1.19.0):

- `global.nodeSelector` / `global.tolerations`: every controller, hook and test pod falls back
  to them when its own list is empty, so one setting puts all of Kyverno on the system nodes.
- `admissionController.replicas` (default null = 1); `podDisruptionBudget.enabled` (the chart
  forces it on whenever replicas > 1) with `minAvailable: 1`; `topologySpreadConstraints`
  across zones; the chart's default preferred hostname anti-affinity stays.
- `admissionController.container.extraArgs.webhookTimeout`: rendered as `--webhookTimeout`,
  the timeoutSeconds of every webhook Kyverno registers for policies that set none (default 10).
- `config.webhooks.namespaceSelector`: merged into every webhook Kyverno registers (and into each
  ValidatingPolicy's own selector); `config.excludeKyvernoNamespace: true` appends Kyverno's
  namespace. `config.resourceFiltersIncludeNamespaces` makes the engine itself skip the platform
  namespaces too (kube-system, kube-public and kube-node-lease are in the default filters).
- `features.excludeBootstrapResources.enabled`: keeps Node and CertificateSigningRequest out of
  Kyverno's Fail webhooks, so new Karpenter nodes register even when no Kyverno pod runs.
"""

from collections.abc import Sequence
from typing import Any, NotRequired, Required

import pulumi

from substrate.components.core import validators
from substrate.components.core._args import check_args
from substrate.components.core.addon import Addon, AddonArgs, AddonSpec
from substrate.components.core.labels import (
    CRITICAL_ADDONS_TOLERATION,
    NAMESPACE_NAME_LABEL,
    SYSTEM_NAMESPACES,
    SYSTEM_NODE_SELECTOR,
)

CONTROLLERS = ("backgroundController", "cleanupController", "reportsController")
ZONE_KEY = "topology.kubernetes.io/zone"
MAX_WEBHOOK_TIMEOUT = 29
"""R34: under 30 s (the API server's maximum), so a slow Kyverno fails fast."""


class KyvernoArgs(AddonArgs, total=False):
    """Arguments of :class:`Kyverno`."""

    namespace: NotRequired[str]
    """Namespace Kyverno runs in (always excluded from its webhooks). Default `kyverno`."""
    admission_replicas: Required[int]
    """Admission-controller replicas (1-10); production stacks use at least 3."""
    controller_replicas: NotRequired[int]
    """Replicas of the background, cleanup and reports controllers (1-5). Default 1."""
    webhook_timeout_seconds: NotRequired[int]
    """timeoutSeconds of Kyverno's webhooks (1-29). Default 10."""
    excluded_namespaces: NotRequired[Sequence[str]]
    """Platform namespaces Kyverno's webhooks never receive, in addition to kube-system,
    kube-node-lease, kube-public and Kyverno's own."""


def _check(args: KyvernoArgs) -> None:
    bounds = {
        "admission_replicas": (args["admission_replicas"], 1, 10),
        "controller_replicas": (args.get("controller_replicas", 1), 1, 5),
        "webhook_timeout_seconds": (
            args.get("webhook_timeout_seconds", 10),
            1,
            MAX_WEBHOOK_TIMEOUT,
        ),
    }
    for key, (value, low, high) in bounds.items():
        if not low <= value <= high:
            raise ValueError(f"KyvernoArgs.{key}: {value} is out of range ({low} to {high})")
    for name in [args.get("namespace", "kyverno"), *args.get("excluded_namespaces", [])]:
        problem = validators.dns_label(name)
        if problem is not None:
            raise ValueError(f"KyvernoArgs.namespace: {name!r} {problem}")


def excluded(namespace: str, extra: Sequence[str]) -> list[str]:
    """Every namespace Kyverno must never intercept, sorted."""
    return sorted({*SYSTEM_NAMESPACES, namespace, *extra})


def _ha(replicas: int, component: str) -> dict[str, Any]:
    return {
        "replicas": replicas,
        "podDisruptionBudget": {"enabled": replicas > 1, "minAvailable": 1},
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": ZONE_KEY,
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {
                    "matchLabels": {
                        "app.kubernetes.io/component": component,
                        "app.kubernetes.io/instance": "kyverno",
                    }
                },
            }
        ],
    }


def chart_values(args: KyvernoArgs) -> dict[str, Any]:
    """Helm values for the pinned kyverno chart (see the module docstring for each key)."""
    namespace = args.get("namespace", "kyverno")
    extra = list(args.get("excluded_namespaces", []))
    platform = sorted(set(extra) - {namespace, *SYSTEM_NAMESPACES})
    admission = _ha(args["admission_replicas"], "admission-controller")
    admission["container"] = {
        "extraArgs": {"webhookTimeout": args.get("webhook_timeout_seconds", 10)}
    }
    values: dict[str, Any] = {
        "global": {
            "nodeSelector": {"kubernetes.io/os": "linux", **SYSTEM_NODE_SELECTOR},
            "tolerations": [dict(CRITICAL_ADDONS_TOLERATION)],
        },
        "crds": {"install": True},
        "config": {
            "webhooks": {
                "namespaceSelector": {
                    "matchExpressions": [
                        {
                            "key": NAMESPACE_NAME_LABEL,
                            "operator": "NotIn",
                            "values": excluded(namespace, extra),
                        }
                    ]
                }
            },
            "excludeKyvernoNamespace": True,
            "resourceFiltersIncludeNamespaces": platform,
        },
        "features": {
            "excludeBootstrapResources": {"enabled": True},
            "forceFailurePolicyIgnore": {"enabled": False},
            "policyExceptions": {"enabled": False},
        },
        "admissionController": admission,
    }
    controller_replicas = args.get("controller_replicas", 1)
    for key in CONTROLLERS:
        component = key.removesuffix("Controller") + "-controller"
        values[key] = _ha(controller_replicas, component)
    return values


class Kyverno(Addon):
    """Kyverno on the system nodes, highly available, its webhooks scoped away from system and
    platform namespaces (R34)."""

    excluded_namespaces: list[str]

    def __init__(
        self, name: str, args: KyvernoArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        _check(args)
        super().__init__("substrate:admission:Kyverno", name, None, opts)
        namespace = args.get("namespace", "kyverno")
        self.excluded_namespaces = excluded(namespace, list(args.get("excluded_namespaces", [])))
        self._install(
            name,
            args,
            AddonSpec(chart="kyverno", namespace=namespace, values=chart_values(args)),
        )
        self._finish(
            {
                "admissionReplicas": args["admission_replicas"],
                "excludedNamespaces": self.excluded_namespaces,
            }
        )
