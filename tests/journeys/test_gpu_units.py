"""One GPU unit on dev's time-sliced inference pool (4 slices per GPU): the device plugin's
renamed resource `nvidia.com/gpu.shared` is what Karpenter plans and limits with (NodeOverlay,
Helm-rendered controller), what Kueue admits against (its own code) and what Kyverno guards."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from substrate.engines.kueue import Step, StepResult, run
from tests.helm.rendered import rendered
from tests.journeys import queue_objects as q
from tests.journeys.cluster import denied, stack, tenant_engineer
from tests.journeys.journey import journey

DOC = "docs/capacity.md#gpu-sharing"
SHARED, WHOLE = "nvidia.com/gpu.shared", "nvidia.com/gpu"
TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


def _slice(n: int = 1) -> dict[str, str]:
    return {"cpu": "2", "memory": "8Gi", SHARED: str(n)}


SCENARIOS = {
    "slices": [
        Step(
            "serve on 7 slices (nominal 6)",
            submit=[q.deployment("chat", "inference", 7, _slice(), queue="inference")],
        ),
        Step(
            "ask for a whole GPU on the same tenant",
            submit=[
                q.job(
                    "whole",
                    "inference",
                    {"cpu": "2", "memory": "8Gi", WHOLE: "1"},
                    queue="inference",
                )
            ],
        ),
    ],
}


@pytest.fixture(scope="module")
def dev_queues() -> dict[str, list[StepResult]]:
    plan = stack("dev").plan
    return run(plan.manifests, plan.releases, SCENARIOS)


def _pod(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"chat-{namespace}", "namespace": namespace},
        "spec": {
            "tolerations": [TOLERATION],
            "automountServiceAccountToken": False,
            "containers": [
                {
                    "name": "server",
                    "image": f"{stack('dev').registry}/serving/chat:1.0.0",
                    "resources": {"requests": _slice(), "limits": _slice()},
                }
            ],
        },
    }


@journey(
    user="inference team (tenant inference, 6 slices of quota) on dev",
    stack="dev",
    steps=[
        "deploy a Deployment of 7 replicas requesting nvidia.com/gpu.shared: 1 each, queue "
        "label inference",
        "submit a Job requesting one whole nvidia.com/gpu",
        "the same slice-requesting pod in data-eng (no GPU rights) and in inference",
    ],
    outcome="Kueue admits 6 replicas on flavor inference against 6 nvidia.com/gpu.shared and "
    "keeps the 7th pending for lack of that quota; the whole-GPU Job is never admitted (the "
    "tenant's queue has no nvidia.com/gpu on the sliced pool); Kyverno denies the slice in "
    "data-eng and admits it in inference",
    docs=[DOC],
)
def test_a_slice_is_admitted_against_sliced_quota(
    dev_queues: dict[str, list[StepResult]],
) -> None:
    step = dev_queues["slices"][0]
    pods = step.workloads_of("Deployment", "chat")
    admitted = [w for w in pods if w.admitted]
    assert len(admitted) == 6 and {w.flavors()["main"][SHARED] for w in admitted} == {"inference"}
    (waiting,) = [w for w in pods if not w.admitted]
    assert f"insufficient unused quota for {SHARED} in flavor inference" in waiting.pending_message
    assert step.cluster_queues["inference"].total("inference", SHARED) == "6"
    whole = dev_queues["slices"][1].workload_of("Job", "whole")
    assert not whole.admitted
    assert f"resource {WHOLE} unavailable in ClusterQueue" in whole.pending_message
    verdicts = stack("dev").admit(
        [_pod("data-eng"), _pod("inference")], tenant_engineer("inference")
    )
    assert "substrate-gpu-placement" in denied(verdicts, "chat-data-eng")
    assert "substrate-gpu-placement" not in denied(verdicts, "chat-inference")


def _objects(kind: str) -> dict[str, dict[str, Any]]:
    plan = stack("dev").plan
    return {m["metadata"]["name"]: m for m in plan.manifests.values() if m["kind"] == kind}


@journey(
    user="platform engineer",
    stack="dev",
    steps=["dev's inference pool (g6, g6e) shares GPUs by time-slicing, 4 slices each", "plan"],
    outcome="for every GPU count of g6/g6e (1, 4, 8) Karpenter's NodeOverlay gives the pool's "
    "instance types exactly the nvidia.com/gpu.shared the Helm-rendered device plugin config "
    "advertises (renamed, 4 replicas: 4, 16, 32) and no nvidia.com/gpu; the rendered "
    "controller runs with NodeOverlay=true; the NodePool limit is 32 nvidia.com/gpu.shared (8 "
    "GPUs)",
    docs=[DOC],
)
def test_karpenter_plans_the_sliced_pool_in_slices() -> None:
    render = rendered("dev")
    (plugin,) = render.of_chart("nvidia-device-plugin")
    (configs,) = [o for o in plugin.objects if o["kind"] == "ConfigMap"]
    config = yaml.safe_load(configs["data"]["time-sliced-4"])["sharing"]["timeSlicing"]
    assert config["renameByDefault"] is True  # README: advertised as <resource>.shared
    (resource,) = config["resources"]
    per_gpu = resource["replicas"]
    overlays = _objects("NodeOverlay")
    for name, overlay in overlays.items():
        count = int(overlay["spec"]["requirements"][1]["values"][0])
        assert overlay["spec"]["requirements"][0]["values"] == ["inference"], name
        assert overlay["spec"]["capacity"] == {SHARED: str(count * per_gpu), WHOLE: "0"}
    assert sorted(overlays) == ["inference-1-gpu", "inference-4-gpu", "inference-8-gpu"]
    (karpenter,) = render.of_chart("karpenter")
    (deployment,) = [o for o in karpenter.objects if o["kind"] == "Deployment"]
    env = {
        e["name"]: e.get("value")
        for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert "NodeOverlay=true" in env["FEATURE_GATES"].split(",")
    assert _objects("NodePool")["inference"]["spec"]["limits"][SHARED] == "32"
