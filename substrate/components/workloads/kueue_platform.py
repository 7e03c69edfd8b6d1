"""Cluster-wide Kueue objects: one ResourceFlavor per Karpenter GPU pool, the default flavor
for CPU and memory, and the WorkloadPriorityClasses of the priority tiers.

A GPU pool's flavor selects the pool's node labels (`substrate.io/pool: <pool>` plus its extra
labels) and tolerates the pool's taints: Kueue injects both into an admitted workload's pod
templates, so its pods land on that pool and Karpenter scales exactly it
(kueue v0.19.2 `concepts/resource_flavor.md`, "ResourceFlavor tolerations for automatic
scheduling").
"""

from collections.abc import Mapping, Sequence
from typing import Any, Required, TypedDict

import pulumi
from pulumi_kubernetes._utilities import get_version
from pulumi_kubernetes.apiextensions import CustomResource
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from substrate.components.capacity.pools import PoolSpec
from substrate.components.core import validators
from substrate.components.core._args import check_args
from substrate.components.core.labels import POOL_LABEL
from substrate.components.core.tokens import component_args
from substrate.components.workloads.tenancy import DEFAULT_FLAVOR

API_VERSION = "kueue.x-k8s.io/v1beta2"
"""The version Kueue v0.19.2 stores (v1beta1 is served but deprecated)."""
MANAGED_BY = {"app.kubernetes.io/managed-by": "substrate"}
MAX_TOLERATIONS = 8
"""ResourceFlavor `spec.tolerations` maxItems in the v0.19.2 CRD."""


class WorkloadPriorityClass(CustomResource):
    """A `kueue.x-k8s.io/v1beta2` WorkloadPriorityClass. Its fields (`value`, `description`) sit
    at the top level, not under `spec`, which `CustomResource.__init__` cannot express; this
    registers the same resource type with those fields."""

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        value: int,
        description: str,
        labels: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        kind = "WorkloadPriorityClass"
        props = {
            "apiVersion": API_VERSION,
            "kind": kind,
            "metadata": {"name": name, "labels": labels},
            "value": value,
            "description": description,
        }
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(version=get_version()))
        pulumi.CustomResource.__init__(
            self, f"kubernetes:{API_VERSION}:{kind}", resource_name, props, opts
        )


class KueuePlatformArgs(TypedDict, total=False):
    """Arguments of :class:`KueuePlatform`."""

    gpu_pools: Required[Sequence[PoolSpec]]
    """The Karpenter NVIDIA GPU pools; one ResourceFlavor each, named after the pool."""
    priority_classes: Required[Mapping[str, int]]
    """WorkloadPriorityClass name -> value (the priority tiers)."""


def flavor_spec(pool: PoolSpec) -> dict[str, Any]:
    """ResourceFlavor spec for one pool: its node labels and tolerations for its taints."""
    spec: dict[str, Any] = {"nodeLabels": dict(sorted(pool.node_labels.items()))}
    if pool.taints:
        spec["tolerations"] = [
            {"key": t.key, "operator": "Equal", "value": t.value, "effect": str(t.effect)}
            for t in pool.taints
        ]
    return spec


def _check(args: KueuePlatformArgs) -> None:
    for pool in args["gpu_pools"]:
        if not pool.is_gpu:
            raise ValueError(
                f"KueuePlatformArgs.gpu_pools: {pool.name!r} is not an NVIDIA GPU pool"
            )
        if pool.name == DEFAULT_FLAVOR:
            raise ValueError(
                f"KueuePlatformArgs.gpu_pools: {pool.name!r} clashes with the default flavor"
            )
        if len(pool.taints) > MAX_TOLERATIONS:
            raise ValueError(
                f"KueuePlatformArgs.gpu_pools: {pool.name!r} has more than "
                f"{MAX_TOLERATIONS} taints, more than a ResourceFlavor can tolerate"
            )
    if not args["priority_classes"]:
        raise ValueError("KueuePlatformArgs.priority_classes: empty; define at least one tier")
    for name in args["priority_classes"]:
        if validators.dns_label(name):
            raise ValueError(f"KueuePlatformArgs.priority_classes: {name!r} is not a DNS label")


class KueuePlatform(pulumi.ComponentResource):
    """ResourceFlavors (default + one per GPU pool) and WorkloadPriorityClasses."""

    flavors: list[str]
    priority_classes: dict[str, int]

    def __init__(
        self, name: str, args: KueuePlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__(*component_args("substrate:workloads:KueuePlatform", name, opts))
        _check(args)
        # Every CR waits for the release installing the CRDs through this component's
        # depends_on (children register after their parent, which waits for its dependencies).
        child = pulumi.ResourceOptions(parent=self)

        def flavor(obj: str, labels: dict[str, str], spec: dict[str, Any]) -> None:
            CustomResource(
                f"{name}-flavor-{obj}",
                api_version=API_VERSION,
                kind="ResourceFlavor",
                metadata=ObjectMetaArgs(name=obj, labels={**MANAGED_BY, **labels}),
                spec=spec,
                opts=child,
            )

        flavor(DEFAULT_FLAVOR, {}, {})
        self.flavors = [DEFAULT_FLAVOR]
        for pool in args["gpu_pools"]:
            flavor(pool.name, {POOL_LABEL: pool.name}, flavor_spec(pool))
            self.flavors.append(pool.name)
        self.priority_classes = dict(args["priority_classes"])
        for tier, value in sorted(self.priority_classes.items(), key=lambda kv: -kv[1]):
            WorkloadPriorityClass(
                f"{name}-priority-{tier}",
                name=tier,
                value=value,
                description=f"Substrate priority tier {tier!r}",
                labels=dict(MANAGED_BY),
                opts=child,
            )
        self.register_outputs({"flavors": self.flavors, "priorityClasses": self.priority_classes})
