"""NVIDIA device plugin: only where needed, tolerating the GPU taint, config the plugin reads."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from substrate.components.capacity.nvidia_device_plugin import config_map, plugin_config
from substrate.components.capacity.pools import GpuSharing, MigStrategy, SharingMode
from substrate.plan.command import PlanResult
from tests.helpers import Resources, run_program


def _plugin(plan: PlanResult) -> dict:
    found = [r for r in plan.releases if r["chart"] == "nvidia-device-plugin"]
    assert len(found) == 1
    return found[0]


def test_plugin_runs_only_on_al2023_gpu_pools_and_tolerates_the_gpu_taint(
    dev_plan: PlanResult, prod_plan: PlanResult
) -> None:
    for plan, pools in ((dev_plan, ["inference"]), (prod_plan, ["inference", "training"])):
        values = _plugin(plan)["values"]
        terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert terms["nodeSelectorTerms"] == [
            {"matchExpressions": [{"key": "substrate.io/pool", "operator": "In", "values": pools}]}
        ]
        assert values["tolerations"] == [
            {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
        ]
    # dev's training pool runs Bottlerocket, whose NVIDIA AMI brings its own plugin.
    assert "training" not in str(_plugin(dev_plan)["values"]["affinity"])


def test_plugin_chart_is_pinned_and_its_namespace_is_privileged(dev_plan: PlanResult) -> None:
    release = _plugin(dev_plan)
    assert (release["version"], release["repository"]) == (
        "0.20.0",
        "https://nvidia.github.io/k8s-device-plugin",
    )
    ns = Resources(dev_plan.records).named("nvidia-device-plugin-namespace").inputs
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


def test_dev_time_slicing_config_is_what_the_plugin_reads(dev_plan: PlanResult, crds: Path) -> None:
    config = _plugin(dev_plan)["values"]["config"]
    assert config["default"] == "whole-gpu"
    entries = {name: yaml.safe_load(text) for name, text in config["map"].items()}
    assert entries["whole-gpu"] == {"version": "v1", "flags": {"migStrategy": "none"}}
    sliced = entries["time-sliced-4"]
    example = yaml.safe_load(
        (crds / "nvidia" / "device-plugin-time-slicing-config.example.yaml").read_text()
    )
    assert set(sliced) == set(example) == {"version", "flags", "sharing"}
    assert sliced["version"] == example["version"] == "v1"
    assert sliced["sharing"]["timeSlicing"]["resources"] == [
        {"name": "nvidia.com/gpu", "replicas": 4}
    ]
    assert sliced["sharing"]["timeSlicing"]["failRequestsGreaterThanOne"] is True


def test_mig_strategies_map_to_plugin_flags() -> None:
    assert plugin_config(GpuSharing(SharingMode.MIG, mig_strategy=MigStrategy.MIXED)) == {
        "version": "v1",
        "flags": {"migStrategy": "mixed"},
    }
    assert sorted(
        config_map([GpuSharing(SharingMode.MIG), GpuSharing(SharingMode.TIME_SLICING, 2)])
    ) == [
        "mig-single",
        "time-sliced-2",
        "whole-gpu",
    ]


def test_prod_gets_whole_gpus_only(prod_plan: PlanResult) -> None:
    assert sorted(_plugin(prod_plan)["values"]["config"]["map"]) == ["whole-gpu"]


def test_empty_pool_list_is_refused() -> None:
    from substrate.components.capacity.nvidia_device_plugin import NvidiaDevicePlugin

    with pytest.raises(ValueError, match=r"^NvidiaDevicePluginArgs.pools: empty"):
        run_program(lambda: NvidiaDevicePlugin("p", {"cluster_name": "c", "pools": []}))
