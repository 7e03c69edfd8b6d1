"""Prometheus Operator CRDs (chart `prometheus-operator-crds`), owned apart from any stack.

kube-prometheus-stack can install the CRDs itself (`crds.enabled`), but Helm never upgrades
CRDs shipped that way. The dedicated chart ships them as templates, so `helm upgrade` moves them
with the pinned operator version (v0.93.1 for both charts), and they survive a reinstall of the
stack. With a bring-your-own Prometheus Operator this release is optional (its operator usually
owns the CRDs).
"""

from typing import NotRequired, Required, TypedDict

import pulumi

from substrate.components.core._args import check_args
from substrate.components.core.addon import Addon, AddonArgs, AddonSpec


class PrometheusOperatorCrdsArgs(AddonArgs, TypedDict, total=False):
    """Where the CRD release lives."""

    namespace: Required[str]
    """Namespace that stores the Helm release (the monitoring namespace)."""
    create_namespace: NotRequired[bool]
    """Create that namespace (PSA restricted); false when it already exists."""


class PrometheusOperatorCrds(Addon):
    """ServiceMonitor, PodMonitor, PrometheusRule, ... CRDs."""

    def __init__(
        self,
        name: str,
        args: PrometheusOperatorCrdsArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        check_args(self, args)
        super().__init__("substrate:observability:PrometheusOperatorCrds", name, None, opts)
        self._install(
            name,
            args,
            AddonSpec(
                chart="prometheus-operator-crds",
                namespace=args["namespace"],
                create_namespace=args.get("create_namespace", True),
                values={},
            ),
        )
        self._finish()
