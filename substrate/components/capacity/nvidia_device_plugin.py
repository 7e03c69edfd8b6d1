"""The NVIDIA Kubernetes device plugin (Helm), on the NVIDIA nodes that need it.

EKS-optimised AL2023 NVIDIA AMIs ship the driver and container toolkit but not the device
plugin; Bottlerocket NVIDIA AMIs run their own (configured through the EC2NodeClass user data,
see substrate/components/capacity/node_classes.py). So the DaemonSet is pinned by node affinity to
the pools that
need it (`substrate.io/pool In [...]`) and tolerates the GPU taint.

GPU sharing uses the plugin's config file (version v1), one named entry per sharing mode in the
chart's `config.map`; time-sliced GPUs are renamed (`renameByDefault`) to
`nvidia.com/gpu.shared` so a slice is never counted as a GPU; `config.default` is whole GPUs
and a pool that shares carries the node label `nvidia.com/device-plugin.config: <entry>`, which
the plugin's config-manager sidecar reads. The plugin mounts host paths (the kubelet's
device-plugin socket directory), which only the PSA `privileged` level allows, so its namespace
is privileged (R27 exempts the NVIDIA device plugin).

Sizing: the chart's `resources` value sizes only the plugin container (and the MPS control
daemon); its config-manager init container and sidecar have no resources key in chart 0.20.0, so
a LimitRange in the namespace gives them defaults when the API server admits the pods.
"""

from collections.abc import Sequence
from typing import NotRequired, Required

import pulumi
import yaml

from substrate.components.capacity.pools import GpuSharing
from substrate.components.core._args import check_args
from substrate.components.core.addon import Addon, AddonArgs, AddonSpec
from substrate.components.core.labels import GPU_RESOURCE, GPU_TAINT, POOL_LABEL
from substrate.components.core.tokens import component_args

NAMESPACE = "nvidia-device-plugin"
RESOURCES = {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}
"""The chart's `resources`: the plugin container (and the MPS control daemon's)."""
CONFIG_MANAGER = {
    "defaultRequest": {"cpu": "10m", "memory": "32Mi"},
    "default": {"memory": "64Mi"},
}
"""LimitRange defaults for the containers chart 0.20.0 renders without a resources key (the
config-manager init container and sidecar, templates/daemonset-device-plugin.yml)."""
DEFAULT_CONFIG = GpuSharing().config_name


def plugin_config(sharing: GpuSharing) -> dict[str, object]:
    """One device-plugin config file (format v1, NVIDIA/k8s-device-plugin README)."""
    mig = sharing.mig_strategy if sharing.mode == "mig" else "none"
    config: dict[str, object] = {"version": "v1", "flags": {"migStrategy": mig}}
    if sharing.mode == "time-slicing":
        config["sharing"] = {
            "timeSlicing": {
                "renameByDefault": True,
                "failRequestsGreaterThanOne": True,
                "resources": [{"name": GPU_RESOURCE, "replicas": sharing.replicas}],
            }
        }
    return config


def config_map(sharings: Sequence[GpuSharing]) -> dict[str, str]:
    """`config.map` of the chart: entry name -> config file contents (YAML text)."""
    entries = {s.config_name: s for s in [GpuSharing(), *sharings]}
    return {
        name: yaml.safe_dump(plugin_config(entries[name]), sort_keys=True)
        for name in sorted(entries)
    }


class NvidiaDevicePluginArgs(AddonArgs, total=False):
    pools: Required[Sequence[str]]
    """Pools (`substrate.io/pool` values) whose nodes run the plugin DaemonSet."""
    sharings: NotRequired[Sequence[GpuSharing]]
    """Sharing modes those pools use; whole GPUs are always available as the default."""


def helm_values(args: NvidiaDevicePluginArgs) -> dict[str, object]:
    return {
        "config": {"map": config_map(list(args.get("sharings", []))), "default": DEFAULT_CONFIG},
        "tolerations": [
            {"key": GPU_TAINT["key"], "operator": "Exists", "effect": GPU_TAINT["effect"]}
        ],
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": POOL_LABEL,
                                    "operator": "In",
                                    "values": sorted(args["pools"]),
                                }
                            ]
                        }
                    ]
                }
            }
        },
        "priorityClassName": "system-node-critical",
        "resources": RESOURCES,
        "gfd": {"enabled": False},
    }


class NvidiaDevicePlugin(Addon):
    def __init__(
        self, name: str, args: NvidiaDevicePluginArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__(*component_args("substrate:capacity:NvidiaDevicePlugin", name, opts))
        if not args["pools"]:
            raise ValueError("NvidiaDevicePluginArgs.pools: empty; the DaemonSet would run nowhere")
        self._install(
            name,
            args,
            AddonSpec(
                chart="nvidia-device-plugin",
                namespace=NAMESPACE,
                values=helm_values(args),
                pod_security="privileged",
                container_defaults=CONFIG_MANAGER,
            ),
        )
        self._finish({"pools": sorted(args["pools"])})
