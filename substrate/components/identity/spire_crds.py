"""The SPIRE custom resource definitions (chart `spire-crds`), installed before the `spire` chart.

A separate release, as spiffe/helm-charts-hardened recommends: the CRDs are chart templates there
(not a `crds/` directory), so `helm upgrade` updates them, and uninstalling SPIRE does not delete
every ClusterSPIFFEID with them.
"""

from typing import TypedDict

import pulumi

from substrate.components.core._args import check_args
from substrate.components.core.addon import Addon, AddonArgs, AddonSpec

SPIRE_SERVER_NAMESPACE = "spire-server"
"""Namespace of the SPIRE server, controller manager and both releases (PSA restricted)."""


class SpireCrdsArgs(AddonArgs, TypedDict, total=False):
    """Only the common add-on args: the CRD chart has no settings Substrate changes."""


class SpireCrds(Addon):
    """ClusterSPIFFEID, ClusterStaticEntry and ClusterFederatedTrustDomain CRDs."""

    def __init__(
        self, name: str, args: SpireCrdsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__("substrate:identity:SpireCrds", name, None, opts)
        self._install(
            name,
            args,
            AddonSpec(chart="spire-crds", namespace=SPIRE_SERVER_NAMESPACE, values={}),
        )
        self._finish()
