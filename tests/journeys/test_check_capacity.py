"""`substrate check` capacity journeys: a tenant learns which nodes Karpenter launches for a
workload, or why it launches none, before deploying it. The docs' own YAML (docs/check.md,
"Capacity: which nodes Karpenter launches") through the CLI, on prod's plan."""

from __future__ import annotations

import copy
from pathlib import Path

from tests.journeys.cluster import docs_yaml
from tests.journeys.journey import journey
from tests.journeys.test_check import check, finding, session_plans, verdict

__all__ = ["session_plans"]
DOC = "docs/check.md"
SECTION = "Capacity: which nodes Karpenter launches"


@journey(
    user="ML engineer of tenant ml-research",
    stack="prod",
    steps=["run `substrate check prod` on a Job of 4 pods of 8 GPUs each on the training pool"],
    outcome="exit 0: Kueue admits it on the training flavor; Karpenter launches 4 p4d.24xlarge "
    "(the cheaper of the pool's 8-GPU types), one pod each",
    docs=[f"{DOC}#a-gang-on-the-training-pool"],
)
def test_a_gpu_gang_gets_nodes_of_the_training_pool(tmp_path: Path) -> None:
    code, report = check(tmp_path, "prod", docs_yaml("check.md", "A gang on the training pool"))
    job = verdict(report, "Job", "finetune-gang")
    assert code == 0 and finding(job, "queue")["status"] == "ok"
    capacity = finding(job, "capacity")
    assert capacity["status"] == "ok", capacity
    assert capacity["summary"] == (
        "4 pods (32 cpu, 256Gi memory, 8 nvidia.com/gpu each): 4 x p4d.24xlarge in pool training"
    )


@journey(
    user="ML engineer of tenant ml-research",
    stack="prod",
    steps=["run `substrate check prod` on the gang Job changed to one pod of 16 GPUs"],
    outcome="exit 1: Kueue admits it (within ml-research's GPU quota) but no instance type of "
    "the training pool has more than 8 GPUs",
    docs=[f"{DOC}#more-gpus-per-pod-than-any-node-has"],
)
def test_more_gpus_per_pod_than_any_instance_type_fails(tmp_path: Path) -> None:
    (gang,) = docs_yaml("check.md", "A gang on the training pool")
    big = copy.deepcopy(gang)
    big["metadata"]["name"] = "one-big-pod"
    big["spec"].update(parallelism=1, completions=1)
    container = big["spec"]["template"]["spec"]["containers"][0]
    for section in ("requests", "limits"):
        container["resources"][section]["nvidia.com/gpu"] = "16"
    code, report = check(tmp_path, "prod", [big])
    job = verdict(report, "Job", "one-big-pod")
    assert code == 1 and finding(job, "queue")["status"] == "ok"
    capacity = finding(job, "capacity")
    assert capacity["status"] == "fail"
    assert capacity["summary"].endswith("no NodePool can launch a node for it")
    assert (
        "pool training: asks 16 nvidia.com/gpu per pod; the most any instance type of the pool "
        "offers is 8 nvidia.com/gpu (p4d.24xlarge, p5.48xlarge)" in capacity["details"]
    )


@journey(
    user="ML engineer of tenant ml-research",
    stack="prod",
    steps=["run `substrate check prod` on 3 pods of 100 CPUs on the nvme pool (limits.cpu 256)"],
    outcome="exit 1: Kueue admits it; Karpenter launches 2 m6id.32xlarge and the third pod "
    "stays pending: a third 128-vCPU node would pass the pool's CPU limit",
    docs=[f"{DOC}#beyond-a-pools-limit"],
)
def test_a_pool_limit_leaves_pods_pending(tmp_path: Path) -> None:
    code, report = check(tmp_path, "prod", docs_yaml("check.md", "Beyond a pool's limit"))
    job = verdict(report, "Job", "shuffle-nvme")
    assert code == 1 and finding(job, "queue")["status"] == "ok"
    capacity = finding(job, "capacity")
    assert capacity["status"] == "fail"
    assert capacity["summary"] == (
        "3 pods (100 cpu, 200Gi memory each): 1 stay pending (a further node would take pool "
        "nvme past its cpu limit of 256); launched: 2 x m6id.32xlarge in pool nvme"
    )


@journey(
    user="engineer of tenant inference",
    stack="prod",
    steps=["run `substrate check prod` on a CPU Job that tolerates the GPU taint"],
    outcome="exit 0 with a warning: Karpenter launches a g6.xlarge from the weighted inference "
    "pool although an m6i.xlarge of the general pool would hold the pod for less",
    docs=[f"{DOC}#a-cheaper-pool-would-do"],
)
def test_a_cpu_job_on_a_gpu_pool_is_warned(tmp_path: Path) -> None:
    code, report = check(tmp_path, "prod", docs_yaml("check.md", "A cheaper pool would do"))
    job = verdict(report, "Job", "tokenize")
    capacity = finding(job, "capacity")
    assert code == 0 and job["status"] == "warn" and capacity["status"] == "warn"
    assert capacity["summary"] == "1 pod (2 cpu, 8Gi memory each): 1 x g6.xlarge in pool inference"
    assert capacity["details"][0] == (
        "cheaper: 1 x m6i.xlarge in pool general would also fit ($0.19/h against $0.80/h; "
        "pool inference is tried first by weight)"
    )
