"""AWS EFA Kubernetes device plugin (Helm, github.com/aws/eks-charts), on the training pools
whose nodes have EFA (substrate.components.capacity.pools.PoolSpec.offers_efa).

Karpenter attaches EFA network interfaces to a node when a pod requests
`vpc.amazonaws.com/efa`, but only this plugin makes the kubelet advertise the resource; without
it such a node never fits the pod. Chart keys (aws-efa-k8s-device-plugin v0.5.31 values.yaml):
`supportedInstanceLabels.keys/values` become the DaemonSet's required node affinity (one
`In` term per key, next to `eks.amazonaws.com/compute-type NotIn [auto]`), so the plugin is
placed by the pools' `substrate.io/pool` label instead of the chart's instance-type list;
`tolerations` are added to the chart's own `CriticalAddonsOnly`; `resources`; `image`.

The plugin runs privileged with host networking and the kubelet's device-plugin directory, so
its namespace is PSA `privileged` (R27 exempts it, like the NVIDIA device plugin). Its image is
published in the EKS add-on registry (account 602401143452, the chart's default) only: no AWS
access of its own (no service account token, no IAM).
"""

from collections.abc import Mapping, Sequence
from typing import Any, Required

import pulumi

from substrate.components.core._args import check_args
from substrate.components.core.addon import Addon, AddonArgs, AddonSpec
from substrate.components.core.labels import POOL_LABEL
from substrate.components.core.tokens import component_args

NAME = "aws-efa-k8s-device-plugin"
NAMESPACE = NAME
EKS_REGISTRY_ACCOUNT = "602401143452"
"""The EKS add-on image registry's account in the commercial Regions the stacks use
(us-east-1, us-west-2: Amazon EKS User Guide, "View Amazon container image registries")."""
RESOURCES = {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"memory": "64Mi"}}


class EfaDevicePluginArgs(AddonArgs, total=False):
    """Arguments of :class:`EfaDevicePlugin`."""

    pools: Required[Sequence[str]]
    """Pools (`substrate.io/pool` values) whose nodes run the plugin."""
    tolerations: Required[Sequence[Mapping[str, str]]]
    """Tolerations of those pools' taints."""
    region: Required[str]
    """Region of the cluster: the plugin's image comes from the EKS registry there."""


def image_repository(region: str) -> str:
    """The plugin's one image repository, in the EKS add-on registry of `region`. It is allowed
    in the plugin's namespace only (a platform namespace: R28 holds chart images to the stack's
    registries plus this exception, tests/helm/test_rendered_images.py). No pull-through cache
    can front it: an ECR-to-ECR cache rule across accounts needs the upstream registry's owner
    to grant the cache account in its registry policy (Amazon ECR User Guide, "Setting up
    permissions for cross-account ECR to ECR PTC"), which the EKS registry does not offer."""
    return f"{EKS_REGISTRY_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/eks/{NAME}"


def chart_values(args: EfaDevicePluginArgs) -> dict[str, Any]:
    return {
        "image": {"repository": image_repository(args["region"])},
        "supportedInstanceLabels": {"keys": [POOL_LABEL], "values": sorted(args["pools"])},
        "tolerations": [dict(t) for t in args["tolerations"]],
        "resources": RESOURCES,
    }


class EfaDevicePlugin(Addon):
    """The EFA device plugin DaemonSet on the pools that offer EFA."""

    def __init__(
        self, name: str, args: EfaDevicePluginArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        if not args["pools"]:
            raise ValueError("EfaDevicePluginArgs.pools: is empty (at least one pool)")
        super().__init__(*component_args("substrate:capacity:EfaDevicePlugin", name, opts))
        self._install(
            name,
            args,
            AddonSpec(
                chart=NAME,
                namespace=NAMESPACE,
                values=chart_values(args),
                pod_security="privileged",
            ),
        )
        self._finish({"pools": sorted(args["pools"])})
