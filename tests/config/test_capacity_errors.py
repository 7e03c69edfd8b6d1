"""Karpenter and node-pool stack errors: one exact line naming key, value and what is allowed."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import config_error, stack_yaml, typed_config

P = "substrate:nodePools"
K = "substrate:karpenter"
Mutation = Callable[[dict[str, Any]], object]

CASES: list[tuple[str, str, Mutation, str]] = [
    (
        "pool without limits",
        "prod",
        lambda c: c[P]["general"].pop("limits"),
        "substrate:nodePools.general.limits = <missing>: is required (allowed: a mapping "
        "with keys cpu, memory, gpu, neuron)",
    ),
    (
        "unknown instance family",
        "prod",
        lambda c: c[P]["general"]["instanceFamilies"].__setitem__(1, "m9z"),
        'substrate:nodePools.general.instanceFamilies = ["m7i", "m9z", "c7i", "r7i"]: names '
        "'m9z', which is not an instance family Substrate knows (allowed: families listed "
        "in substrate/components/capacity/instance_families.py, e.g. m7i, g6e, p5, i4i)",
    ),
    (
        "GPU pool without the GPU taint",
        "prod",
        lambda c: c[P]["inference"].__setitem__("taints", []),
        "substrate:nodePools.inference.taints = []: lacks the "
        "nvidia.com/gpu=true:NoSchedule taint on a pool of NVIDIA GPU families (g6e, g6) "
        '(allowed: taints including {key: nvidia.com/gpu, value: "true", effect: '
        "NoSchedule})",
    ),
    (
        "GPU pool without a GPU limit",
        "prod",
        lambda c: c[P]["inference"]["limits"].pop("gpu"),
        "substrate:nodePools.inference.limits.gpu = null: is unset for a pool of NVIDIA GPU "
        "families (g6e, g6) (allowed: the most nvidia.com/gpu the pool may launch, e.g. 16)",
    ),
    (
        "GPU limit on a CPU pool",
        "dev",
        lambda c: c[P]["general"]["limits"].__setitem__("gpu", 4),
        "substrate:nodePools.general.limits.gpu = 4: is set on a pool of CPU families (m7i, "
        "m6i, c7i) (allowed: no nvidia.com/gpu limit on a pool whose families have none)",
    ),
    (
        "two GPU pools sharing a family",
        "dev",
        lambda c: c[P]["training"].__setitem__("instanceFamilies", ["g6e"]),
        'substrate:nodePools.training.instanceFamilies = ["g6e"]: overlaps pool '
        "'inference' (same weight 0, same taints, shared families g6e, shared capacity "
        "types on-demand, spot): a pod could land on either (allowed: disjoint "
        "instanceFamilies or capacityTypes, different taints, or different weights)",
    ),
    (
        "copy of a CPU pool",
        "dev",
        lambda c: c[P].__setitem__("batch", copy.deepcopy(c[P]["general"])),
        'substrate:nodePools.batch.instanceFamilies = ["m7i", "m6i", "c7i"]: overlaps pool '
        "'general' (same weight 0, same taints, shared families c7i, m6i, m7i, shared "
        "capacity types on-demand, spot): a pod could land on either (allowed: disjoint "
        "instanceFamilies or capacityTypes, different taints, or different weights)",
    ),
    (
        "CPU family in a GPU pool",
        "dev",
        lambda c: c[P]["inference"]["instanceFamilies"].append("m7i"),
        'substrate:nodePools.inference.instanceFamilies = ["g6", "g6e", "m7i"]: mixes '
        "accelerator kinds (g6: nvidia, g6e: nvidia, m7i: none) (allowed: families of one "
        "kind per pool (CPU, NVIDIA GPU or Neuron))",
    ),
    (
        "Graviton family in an x86 pool",
        "dev",
        lambda c: c[P]["general"]["instanceFamilies"].append("m7g"),
        'substrate:nodePools.general.instanceFamilies = ["m7i", "m6i", "c7i", "m7g"]: mixes '
        "amd64 and arm64 families (allowed: families of one architecture per pool)",
    ),
    (
        "GPU pool consolidating underutilized nodes",
        "dev",
        lambda c: c[P]["inference"]["disruption"].__setitem__(
            "consolidationPolicy", "WhenEmptyOrUnderutilized"
        ),
        "substrate:nodePools.inference.disruption.consolidationPolicy = "
        '"WhenEmptyOrUnderutilized": would evict running work from NVIDIA GPU nodes to save '
        'cost (allowed: "WhenEmpty" for GPU and Neuron pools)',
    ),
    (
        "MIG on GPUs without MIG",
        "dev",
        lambda c: c[P]["inference"].__setitem__("gpuSharing", {"mode": "mig"}),
        'substrate:nodePools.inference.gpuSharing.mode = "mig": is set for families whose '
        "GPUs do not support MIG (g6, g6e) (allowed: mig only with "
        "A100/H100/H200/B200-class families (p4d, p4de, p5, p5e, ...))",
    ),
    (
        "time-slicing without replicas",
        "dev",
        lambda c: c[P]["inference"].__setitem__("gpuSharing", {"mode": "time-slicing"}),
        "substrate:nodePools.inference.gpuSharing.replicas = 1: does not share the GPU "
        "(allowed: 2 or more)",
    ),
    (
        "unknown node class",
        "dev",
        lambda c: c[P]["general"].__setitem__("nodeClass", "dflt"),
        'substrate:nodePools.general.nodeClass = "dflt": is not a node class in '
        "substrate:karpenter.nodeClasses (allowed: default, gpu, gpu-bottlerocket, nvme)",
    ),
    (
        "floating AMI in production",
        "prod",
        lambda c: c[K]["nodeClasses"]["gpu"].__setitem__("amiAlias", "al2023@latest"),
        'substrate:karpenter.nodeClasses.gpu.amiAlias = "al2023@latest": floats to every '
        "new AMI release in a production environment (allowed: a pinned version such as "
        '"al2023@v20261112" when environment.tier is production)',
    ),
    (
        "AMI alias of an unsupported family",
        "dev",
        lambda c: c[K]["nodeClasses"]["gpu"].__setitem__("amiAlias", "al2@v20240101"),
        'substrate:karpenter.nodeClasses.gpu.amiAlias = "al2@v20240101": is not an AMI '
        "alias of al2023 or bottlerocket (allowed: al2023@v20261112, bottlerocket@v1.53.0 "
        "or <family>@latest)",
    ),
    (
        "AL2023 alias with a Bottlerocket version",
        "dev",
        lambda c: c[K]["nodeClasses"]["gpu"].__setitem__("amiAlias", "al2023@v1.53.0"),
        'substrate:karpenter.nodeClasses.gpu.amiAlias = "al2023@v1.53.0": has a version '
        "al2023 AMIs are not released as (allowed: al2023@v20261112, bottlerocket@v1.53.0 "
        "or <family>@latest)",
    ),
    (
        "spot in production",
        "prod",
        lambda c: c[P]["general"].__setitem__("capacityTypes", ["spot", "on-demand"]),
        'substrate:nodePools.general.capacityTypes = ["spot", "on-demand"]: runs production '
        "nodes on interruptible spot capacity (allowed: on-demand and/or reserved when "
        "environment.tier is production)",
    ),
    (
        "production GPU budget above one node",
        "prod",
        lambda c: c[P]["training"]["disruption"].__setitem__("budgetNodes", "10%"),
        'substrate:nodePools.training.disruption.budgetNodes = "10%": may disrupt more than '
        'one accelerator node at a time in production (allowed: "1" or "0" when '
        "environment.tier is production)",
    ),
    (
        "production GPU pool without a maintenance window",
        "prod",
        lambda c: c[P]["inference"]["disruption"].pop("maintenanceWindow"),
        "substrate:nodePools.inference.disruption.maintenanceWindow = null: lets drift "
        "replace accelerator nodes at any time in production (allowed: a window from "
        "substrate:karpenter.maintenanceWindows when environment.tier is production)",
    ),
    (
        "a window nobody declared",
        "staging",
        lambda c: c[P]["training"]["disruption"].__setitem__("maintenanceWindow", "weekly"),
        'substrate:nodePools.training.disruption.maintenanceWindow = "weekly": is not a '
        "window in substrate:karpenter.maintenanceWindows (allowed: nightly)",
    ),
    (
        "a window on weekdays",
        "prod",
        lambda c: c[K]["maintenanceWindows"]["weekend"].__setitem__("schedule", "0 4 * * 1-5"),
        'substrate:karpenter.maintenanceWindows.weekend.schedule = "0 4 * * 1-5": is not a '
        'daily or weekly start time (allowed: "M H * * *" (daily) or "M H * * D" (weekly, '
        'D = 0-6 or sun-sat), e.g. "0 2 * * sat")',
    ),
    (
        "a daily window longer than a day",
        "prod",
        lambda c: c[K]["maintenanceWindows"]["nightly"].__setitem__("duration", "25h"),
        'substrate:karpenter.maintenanceWindows.nightly.duration = "25h": does not fit in the '
        "day the schedule repeats over (allowed: more than 0 and less than 24h)",
    ),
    (
        "a training pool with a termination grace period",
        "prod",
        lambda c: c[P]["training"].__setitem__("terminationGracePeriod", "24h"),
        'substrate:nodePools.training.terminationGracePeriod = "24h": lets Karpenter drain a '
        "drifted training node and delete its do-not-disrupt pods when the grace period "
        "ends, killing the running job (allowed: unset for kind training (running jobs then "
        "block drift))",
    ),
    (
        "a training pool that expires",
        "staging",
        lambda c: c[P]["training"].__setitem__("expireAfter", "720h"),
        'substrate:nodePools.training.expireAfter = "720h": expires training nodes '
        "forcefully (budgets and do-not-disrupt do not stop expiry), under running jobs "
        '(allowed: "Never" for kind training (new AMIs arrive through drift))',
    ),
    (
        "an inference pool without a termination grace period",
        "prod",
        lambda c: c[P]["inference"].pop("terminationGracePeriod"),
        "substrate:nodePools.inference.terminationGracePeriod = null: is unset for kind "
        "inference, so one do-not-disrupt pod blocks drift forever and an expired node never "
        'finishes draining (allowed: a bound such as "4h" for kinds inference and agents)',
    ),
    (
        "a zone outside the network",
        "prod",
        lambda c: c[P]["training"].__setitem__("zones", ["us-east-1d"]),
        'substrate:nodePools.training.zones[0] = "us-east-1d": is not an Availability Zone of '
        "substrate:network (allowed: us-east-1a, us-east-1b, us-east-1c)",
    ),
    (
        "a cluster placement group across zones",
        "staging",
        lambda c: c[P]["training"].pop("zones"),
        "substrate:nodePools.training.zones = []: spans every zone(s) but node class "
        "'training' launches into a cluster placement group, which lives in one Availability "
        "Zone (allowed: exactly one zone, e.g. [us-west-2a])",
    ),
    (
        "untargeted GPU pods would land on the training pool",
        "prod",
        lambda c: c[P]["inference"].pop("weight"),
        "substrate:nodePools.training.weight = null: makes Karpenter launch a GPU pod that "
        "names no pool on training pool 'training' (p5, p4d) (weights training: 0, "
        "inference: 0; equal weights go in descending name order) (allowed: a higher weight "
        "on 'inference' than on 'training')",
    ),
    (
        "a node tag the stack does not set",
        "prod",
        lambda c: c[K].__setitem__("nodeTags", ["cost-center", "team"]),
        'substrate:karpenter.nodeTags[1] = "team": is not a key of substrate:tags (allowed: '
        "cost-center, data-classification, owner)",
    ),
    (
        "reserved capacity without reservations",
        "staging",
        lambda c: c[P]["training"].__setitem__("capacityTypes", ["reserved"]),
        'substrate:nodePools.training.capacityTypes = ["reserved"]: includes reserved but '
        "node class 'training' selects no capacityReservations (allowed: capacityReservations "
        "on substrate:karpenter.nodeClasses.training, or no reserved type)",
    ),
    (
        "node pools without Karpenter",
        "dev",
        lambda c: c.pop(K),
        'substrate:nodePools = ["general", "inference", "nvme", "training"]: declares node '
        "pools but substrate:karpenter is not set (allowed: a substrate:karpenter section "
        "with nodeClasses, or no node pools)",
    ),
    (
        "two sharing modes on one Bottlerocket class",
        "dev",
        lambda c: c[P].__setitem__(
            "shared",
            {
                **copy.deepcopy(c[P]["training"]),
                "instanceFamilies": ["g4dn"],
                "gpuSharing": {"mode": "time-slicing", "replicas": 2},
            },
        ),
        'substrate:nodePools.shared.gpuSharing = "time-slicing": differs from pool '
        "'training' on the same node class 'gpu-bottlerocket' (allowed: one gpuSharing per "
        "node class (sharing is configured per EC2NodeClass on Bottlerocket); use a node "
        "class per sharing mode)",
    ),
    (
        "MIG on AL2023",
        "prod",
        lambda c: c[P]["training"].__setitem__(
            "gpuSharing", {"mode": "mig", "migProfiles": {"h100.80gb": "1g.10gb"}}
        ),
        'substrate:nodePools.training.gpuSharing.mode = "mig": would leave the GPUs '
        "unpartitioned: AL2023 nodes boot with MIG disabled and Substrate installs no MIG "
        'manager (allowed: "none" or "time-slicing")',
    ),
    (
        "MIG on Bottlerocket",
        "dev",
        lambda c: c[P]["training"].update(
            instanceFamilies=["p4d"],
            gpuSharing={"mode": "mig", "migProfiles": {"a100.40gb": "1g.5gb"}},
        ),
        'substrate:nodePools.training.gpuSharing.mode = "mig": would make Karpenter plan and '
        "limit the pool in physical GPUs while its nodes advertise MIG instances: Substrate "
        'renders no NodeOverlay for MIG capacity (allowed: "none" or "time-slicing")',
    ),
    (
        "expiry in days",
        "prod",
        lambda c: c[P]["training"].__setitem__("expireAfter", "30d"),
        'substrate:nodePools.training.expireAfter = "30d": is not a duration (allowed: '
        '"30s", "10m", "720h" or "Never")',
    ),
    (
        "pool name that is not a DNS label",
        "dev",
        lambda c: c[P].__setitem__("GPU", c[P].pop("inference")),
        'substrate:nodePools.GPU = "GPU": is not a valid name (it becomes a Kubernetes '
        "object name) (allowed: lowercase letters, digits and '-', at most 63 characters)",
    ),
    (
        "reservation id combined with tags",
        "prod",
        lambda c: c[K]["nodeClasses"]["gpu"].__setitem__(
            "capacityReservations", [{"id": "cr-0123456789abcdef0", "tags": {"a": "b"}}]
        ),
        "substrate:karpenter.nodeClasses.gpu.capacityReservations[0].id = "
        '"cr-0123456789abcdef0": is combined with other selector keys (allowed: either id '
        "alone, or tags/ownerId/instanceMatchCriteria)",
    ),
    (
        "label Karpenter owns",
        "dev",
        lambda c: c[P]["general"].__setitem__("labels", {"karpenter.sh/capacity-type": "x"}),
        'substrate:nodePools.general.labels = {"karpenter.sh/capacity-type": "x"}: sets '
        "'karpenter.sh/capacity-type', which Substrate or Karpenter owns (allowed: your own "
        "label keys (substrate.io/pool is set to the pool name))",
    ),
    (
        "Karpenter without node classes",
        "dev",
        lambda c: c[K].__setitem__("nodeClasses", {}),
        "substrate:karpenter.nodeClasses = {}: is empty (allowed: at least one node class)",
    ),
]


@pytest.mark.parametrize(
    ("stack", "mutate", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_invalid_capacity_config_gives_exact_one_line_error(
    stack: str, mutate: Mutation, message: str
) -> None:
    assert config_error(stack, mutate) == message


def test_weights_separate_pools_that_share_families() -> None:
    raw = stack_yaml("dev")
    raw[P]["batch"] = {**copy.deepcopy(raw[P]["general"]), "weight": 10}
    pools = typed_config(raw).node_pools
    assert sorted(pools) == ["batch", "general", "inference", "nvme", "training"]


def test_stacks_without_karpenter_have_no_pools() -> None:
    raw = stack_yaml("dev")
    raw.pop(K)
    raw.pop(P)
    raw.pop("substrate:tenants")  # GPU quota names pools, which need Karpenter
    raw.pop("substrate:agents")  # agents belong to tenants
    raw.pop("substrate:workloads")  # Spark runs for a tenant on a pool
    cfg = typed_config(raw)
    assert (cfg.karpenter, cfg.node_pools) == (None, {})
