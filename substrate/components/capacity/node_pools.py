"""Karpenter NodePools (karpenter.sh/v1), rendered from
`substrate.components.capacity.pools.PoolSpec` data.

Each pool: requirements on instance family, capacity type, architecture and OS; the pool's
taints; `substrate.io/pool: <name>` (plus any extra labels) on every node; `limits`; explicit
disruption (policy, consolidateAfter, budgets: the pool's `budgetNodes` and, with a maintenance
window, a `nodes: "0"` Drifted budget outside it); `expireAfter`, `terminationGracePeriod`. The
NodePool object (not its nodes) carries `substrate.io/pool-kind`, its disruption contract.
"""

from collections.abc import Sequence
from typing import Any, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from substrate.components.capacity.pools import POOL_KIND_LABEL, PoolSpec, Selection, overlaps
from substrate.components.core._args import check_args
from substrate.components.core.labels import INSTANCE_FAMILY_LABEL, KARPENTER_CAPACITY_TYPE_LABEL
from substrate.components.core.tokens import component_args

API_VERSION = "karpenter.sh/v1"
ZONE_LABEL = "topology.kubernetes.io/zone"
KIND = "NodePool"


def node_pool_spec(pool: PoolSpec) -> dict[str, Any]:
    """The NodePool `spec` (plain data)."""
    requirements = [
        {"key": INSTANCE_FAMILY_LABEL, "operator": "In", "values": list(pool.instance_families)},
        {
            "key": KARPENTER_CAPACITY_TYPE_LABEL,
            "operator": "In",
            "values": [str(c) for c in pool.capacity_types],
        },
        {"key": "kubernetes.io/arch", "operator": "In", "values": [pool.arch]},
        {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
    ]
    if pool.zones:
        requirements.append({"key": ZONE_LABEL, "operator": "In", "values": list(pool.zones)})
    template_spec: dict[str, Any] = {
        "nodeClassRef": {
            "group": "karpenter.k8s.aws",
            "kind": "EC2NodeClass",
            "name": pool.node_class,
        },
        "requirements": requirements,
        "expireAfter": pool.expire_after,
    }
    if pool.taints:
        template_spec["taints"] = [t.manifest() for t in pool.taints]
    if pool.termination_grace_period is not None:
        template_spec["terminationGracePeriod"] = pool.termination_grace_period
    spec: dict[str, Any] = {
        "template": {
            "metadata": {"labels": dict(sorted(pool.node_labels.items()))},
            "spec": template_spec,
        },
        "limits": pool.limits.manifest(pool.gpu_sharing),
        "disruption": {
            "consolidationPolicy": str(pool.consolidation_policy),
            "consolidateAfter": pool.consolidate_after,
            "budgets": [b.manifest() for b in pool.budgets],
        },
    }
    if pool.weight is not None:
        spec["weight"] = pool.weight
    return spec


class NodePoolsArgs(TypedDict, total=False):
    pools: Required[Sequence[PoolSpec]]
    """The pools; no two may match the same pod with equal weight."""


class NodePools(pulumi.ComponentResource):
    """One NodePool custom resource per PoolSpec."""

    names: list[str]

    def __init__(
        self, name: str, args: NodePoolsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__(*component_args("substrate:capacity:NodePools", name, opts))
        pools = list(args["pools"])
        clash = overlaps([Selection.of(p) for p in pools])
        if clash:
            raise ValueError(f"NodePoolsArgs.pools: {clash[0].second!r} {clash[0].describe()}")
        for i, pool in enumerate(pools):
            if pool.required_taint is not None and pool.required_taint not in pool.taints:
                raise ValueError(
                    f"NodePoolsArgs.pools[{i}]: {pool.name!r} lacks the {pool.required_taint} taint"
                )
            if not pool.budgets:
                raise ValueError(f"NodePoolsArgs.pools[{i}]: {pool.name!r} has no budgets")
            if pool.kind == "training" and (
                pool.termination_grace_period is not None or pool.expire_after != "Never"
            ):
                raise ValueError(
                    f"NodePoolsArgs.pools[{i}]: {pool.name!r} is a training pool with "
                    "terminationGracePeriod or expireAfter, which let Karpenter kill running jobs"
                )
        self.names = []
        for pool in pools:
            k8s.apiextensions.CustomResource(
                f"{name}-{pool.name}",
                api_version=API_VERSION,
                kind=KIND,
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=pool.name, labels={POOL_KIND_LABEL: str(pool.kind)}
                ),
                spec=node_pool_spec(pool),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.names.append(pool.name)
        self.register_outputs({"names": self.names})
