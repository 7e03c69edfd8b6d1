"""What the capacity layer hands to later layers (Kueue flavors): per-pool facts."""

from __future__ import annotations

import copy

from substrate.layers.capacity import node_class_specs, pool_spec
from substrate.plan.command import PlanResult
from substrate.plan.policy import effective_policies, evaluate
from substrate.policies import r16_interruption_queue, r17_gpu_pools
from tests.helpers import stack_yaml, typed_config


def _pools(stack: str):
    cfg = typed_config(stack_yaml(stack))
    assert cfg.karpenter is not None
    return {n: pool_spec(n, p, cfg.karpenter) for n, p in cfg.node_pools.items()}, cfg


def test_pool_facts_for_kueue_flavors() -> None:
    pools, _ = _pools("prod")
    training = pools["training"]
    assert training.node_labels == {"substrate.io/pool": "training"}
    assert [str(t) for t in training.taints] == ["nvidia.com/gpu=true:NoSchedule"]
    assert (training.is_gpu, training.is_neuron, training.has_nvme) == (True, False, True)
    assert training.gpu_limit == 64
    assert training.instance_families == ("p5", "p4d")
    assert training.gpu_names == ("a100", "h100")
    assert training.capacity_types == ("reserved", "on-demand")
    assert training.needs_device_plugin_daemonset
    general = pools["general"]
    assert (general.is_gpu, general.has_nvme, general.gpu_limit) == (False, False, None)
    assert pools["nvme"].has_nvme and not pools["nvme"].is_gpu


def test_bottlerocket_pools_do_not_get_the_plugin_daemonset_but_their_class_gets_sharing() -> None:
    pools, cfg = _pools("dev")
    assert cfg.karpenter is not None
    assert not pools["training"].needs_device_plugin_daemonset
    assert pools["inference"].needs_device_plugin_daemonset
    raw = stack_yaml("dev")
    raw["substrate:nodePools"]["training"]["gpuSharing"] = {"mode": "time-slicing", "replicas": 2}
    raw["substrate:nodePools"]["inference"]["weight"] = 50  # both pools now offer slices
    cfg = typed_config(raw)
    assert cfg.karpenter is not None
    specs = {
        s.name: s
        for s in node_class_specs(
            cfg.karpenter, tuple(pool_spec(n, p, cfg.karpenter) for n, p in cfg.node_pools.items())
        )
    }
    assert specs["gpu-bottlerocket"].gpu_sharing.config_name == "time-sliced-2"
    # AL2023 classes never carry sharing: the DaemonSet reads it from the node label.
    assert specs["gpu"].gpu_sharing.mode == "none"
    assert (specs["default"].raid0, specs["nvme"].raid0, specs["gpu"].raid0) == (False, True, True)


def _run(module, records):
    return evaluate(records, effective_policies([module.POLICY], {}))


def test_interruption_queue_policy_fires_on_the_real_plan_without_the_queue(
    dev_plan: PlanResult,
) -> None:
    assert _run(r16_interruption_queue, dev_plan.records) == []
    without_queue = [r for r in dev_plan.records if r.type != "aws:sqs/queue:Queue"]
    messages = [v.message for v in _run(r16_interruption_queue, without_queue)]
    assert messages == [
        "Karpenter's interruption queue 'substrate-dev-karpenter' is not an SQS queue of this stack"
    ]
    without_rule = [r for r in dev_plan.records if r.name != "karpenter-interruption-spot"]
    messages = [v.message for v in _run(r16_interruption_queue, without_rule)]
    assert messages == [
        "no EventBridge rule forwards 'EC2 Spot Instance Interruption Warning' (aws.ec2)"
    ]


def test_gpu_pool_policy_fires_on_the_real_plan_when_a_taint_goes_missing(
    prod_plan: PlanResult,
) -> None:
    records = [
        copy.deepcopy(r) if r.name == "node-pools-inference" else r for r in prod_plan.records
    ]
    pool = next(r for r in records if r.name == "node-pools-inference")
    del pool.raw_inputs["spec"]["template"]["spec"]["taints"]
    messages = [v.message for v in _run(r17_gpu_pools, records)]
    assert len(messages) == 1
    assert messages[0].startswith("NodePool 'inference' launches nvidia instances without")


def test_optional_neuron_pool_renders_with_its_taint_and_device_limit(crds) -> None:
    from substrate.components.capacity.node_pools import node_pool_spec
    from tests.crds import validation_errors

    raw = stack_yaml("dev")
    raw["substrate:nodePools"]["neuron"] = {
        "nodeClass": "default",
        "instanceFamilies": ["inf2", "trn1"],
        "taints": [{"key": "aws.amazon.com/neuron", "value": "true", "effect": "NoSchedule"}],
        "limits": {"cpu": 192, "memory": "768Gi", "neuron": 12},
        "disruption": {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "10m"},
    }
    cfg = typed_config(raw)
    assert cfg.karpenter is not None
    pool = pool_spec("neuron", cfg.node_pools["neuron"], cfg.karpenter)
    assert (pool.is_neuron, pool.is_gpu, pool.has_nvme) == (True, False, False)  # inf2: EBS only
    assert not pool.needs_device_plugin_daemonset
    spec = node_pool_spec(pool)
    assert spec["limits"] == {"cpu": "192", "memory": "768Gi", "aws.amazon.com/neuron": "12"}
    assert spec["template"]["spec"]["taints"] == [
        {"key": "aws.amazon.com/neuron", "value": "true", "effect": "NoSchedule"}
    ]
    manifest = {"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "neuron"}}
    assert validation_errors(crds, {**manifest, "spec": spec}) == []
