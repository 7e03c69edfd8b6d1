"""Karpenter NodeOverlays (karpenter.sh/v1alpha1) that tell Karpenter's scheduling simulation
what a time-sliced pool's nodes will advertise, so it plans and limits in the same unit the
device plugin, Kueue and billing use.

Karpenter knows a GPU instance type's capacity as `nvidia.com/gpu` = its physical GPU count
(EC2 DescribeInstanceTypes). A time-sliced node's device plugin advertises
`nvidia.com/gpu.shared` = GPUs x replicas instead (`renameByDefault`) and no `nvidia.com/gpu`.
One overlay per (pool, GPU count) of the pool's families sets exactly that on the matching
instance types of that pool only (`karpenter.sh/nodepool` and
`karpenter.k8s.aws/instance-gpu-count` requirements): capacity overlays replace the value of an
extended resource they name (core `ApplyCapacityOverlay`: `lo.Assign`). Karpenter reads them
only with the `NodeOverlay` feature gate on (chart `settings.featureGates.nodeOverlay`), which the
Karpenter component enables when any overlay exists.
"""

from collections.abc import Sequence
from typing import Any, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from substrate.components.capacity.pools import PoolSpec
from substrate.components.core._args import check_args
from substrate.components.core.labels import GPU_RESOURCE, KARPENTER_NODEPOOL_LABEL

API_VERSION = "karpenter.sh/v1alpha1"
KIND = "NodeOverlay"
GPU_COUNT_LABEL = "karpenter.k8s.aws/instance-gpu-count"


def overlays(pool: PoolSpec) -> dict[str, dict[str, Any]]:
    """NodeOverlay name -> spec for one pool; none unless its GPUs are time-sliced."""
    sharing = pool.gpu_sharing
    if not pool.is_gpu or sharing.mode != "time-slicing":
        return {}
    counts = sorted({c for f in pool.families for c in f.gpu_counts})
    return {
        f"{pool.name}-{count}-gpu": {
            "requirements": [
                {"key": KARPENTER_NODEPOOL_LABEL, "operator": "In", "values": [pool.name]},
                {"key": GPU_COUNT_LABEL, "operator": "In", "values": [str(count)]},
            ],
            "capacity": {
                sharing.resource: str(count * sharing.units_per_gpu),
                GPU_RESOURCE: "0",
            },
        }
        for count in counts
    }


class NodeOverlaysArgs(TypedDict, total=False):
    pools: Required[Sequence[PoolSpec]]
    """Every pool; overlays are rendered for the time-sliced ones."""


class NodeOverlays(pulumi.ComponentResource):
    """The NodeOverlays of all time-sliced GPU pools."""

    names: list[str]

    def __init__(
        self, name: str, args: NodeOverlaysArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__("substrate:capacity:NodeOverlays", name, None, opts)
        self.names = []
        for pool in args["pools"]:
            for overlay, spec in overlays(pool).items():
                if not any(f.gpu_counts for f in pool.families):
                    raise ValueError(f"NodeOverlaysArgs.pools: {pool.name!r} has no GPU counts")
                k8s.apiextensions.CustomResource(
                    f"{name}-{overlay}",
                    api_version=API_VERSION,
                    kind=KIND,
                    metadata=k8s.meta.v1.ObjectMetaArgs(name=overlay),
                    spec=spec,
                    opts=pulumi.ResourceOptions(parent=self),
                )
                self.names.append(overlay)
        self.register_outputs({"names": self.names})


def needed(pools: Sequence[PoolSpec]) -> bool:
    return any(overlays(p) for p in pools)
