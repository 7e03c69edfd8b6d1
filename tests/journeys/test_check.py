"""`substrate check` journeys: a tenant runs the command on the docs' own YAML and on realistic
manifests, and gets the verdicts the engines give. The command runs in-process on the session's
plan (its context is what `substrate check` would cache), so each journey is the CLI's parsing,
the engine chain, the verdicts and the exit status."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from substrate.check import context
from substrate.project import Project
from tests.helpers import ROOT, require_engine, run_cli
from tests.journeys.cluster import docs_yaml, rehome, stack
from tests.journeys.journey import journey

EXAMPLES = ROOT / "examples" / "tenant-manifests"
DOC = "docs/check.md"


@pytest.fixture(autouse=True)
def session_plans(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`substrate check` reads the session's plans instead of planning (and caching) again."""
    for engine in ("apiserver", "kueue", "kyverno-server"):
        require_engine(engine)

    def load(_project: Project, name: str, *, use_cache: bool = True) -> context.Context:
        return stack(name).context

    monkeypatch.setattr(context, "load", load)
    yield


def check(
    tmp_path: Path, name: str, docs: Sequence[dict[str, Any]] = (), *files: Path
) -> tuple[int, dict[str, Any]]:
    """`substrate check NAME FILES --format json`: exit status and report."""
    paths = list(files)
    if docs:
        path = tmp_path / "manifests.yaml"
        path.write_text(yaml.safe_dump_all(docs))
        paths.append(path)
    done = run_cli("check", name, *map(str, paths), "--format", "json")
    assert done.returncode in {0, 1}, done.stderr
    return done.returncode, json.loads(done.stdout)


def verdict(report: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    (found,) = [w for w in report["workloads"] if (w["kind"], w["name"]) == (kind, name)]
    return found


def finding(workload: dict[str, Any], check_: str) -> dict[str, Any]:
    (found,) = [f for f in workload["findings"] if f["check"] == check_]
    return found


@journey(
    user="ML engineer of tenant ml-research",
    stack="prod",
    steps=["run `substrate check prod` on the evaluation Job of docs/check.md"],
    outcome="exit 0: Kyverno admits the Job and its pod (created from the Job as Kueue resumed "
    "it); Kueue admits it with its GPU on the training flavor and CPU/memory on default; "
    "Karpenter launches one p5.4xlarge (one H100) of the training pool for the pod",
    docs=[f"{DOC}#admitted-on-a-pool"],
)
def test_a_job_is_admitted_on_the_training_pool(tmp_path: Path) -> None:
    code, report = check(tmp_path, "prod", docs_yaml("check.md", "Admitted on a pool"))
    job = verdict(report, "Job", "eval-checkpoint")
    assert code == 0 and job["status"] == "ok", job
    assert "and 1 of its pods" in finding(job, "admission")["summary"]
    queue = finding(job, "queue")
    assert queue["status"] == "ok"
    assert "ClusterQueue ml-research, flavor default, training" in queue["summary"]
    assert "nvidia.com/gpu: training" in queue["details"]
    capacity = finding(job, "capacity")
    assert capacity["status"] == "ok"
    assert capacity["summary"] == (
        "1 pod (8 cpu, 64Gi memory, 1 nvidia.com/gpu each): 1 x p5.4xlarge in pool training"
    )


@journey(
    user="ML engineer of tenant ml-research",
    stack="prod",
    steps=["run `substrate check prod` on a Job with a Docker Hub image and no TTL"],
    outcome="exit 1: denied by substrate-job-ttl and substrate-restrict-images with their messages",
    docs=[f"{DOC}#denied-by-a-rule"],
)
def test_a_job_is_denied_by_the_stacks_rules(tmp_path: Path) -> None:
    code, report = check(tmp_path, "prod", docs_yaml("check.md", "Denied by a rule"))
    job = verdict(report, "Job", "quick-test")
    admission = finding(job, "admission")
    assert code == 1 and admission["status"] == "fail"
    assert admission["summary"] == "denied by substrate-job-ttl, substrate-restrict-images"
    details = "\n".join(admission["details"])
    assert "Job quick-test sets no spec.ttlSecondsAfterFinished" in details
    assert "images outside the allowed registries" in details


@journey(
    user="data engineer of tenant data-eng (no GPU quota); ML engineer of ml-research on staging",
    stack="prod, staging",
    steps=[
        "run `substrate check prod` on the GPU Job of docs/check.md in data-eng",
        "run `substrate check staging` on the 16-GPU training Job of docs/workloads.md",
    ],
    outcome="exit 1 both times: Kyverno admits them, Kueue never does, even on an idle cluster "
    "(GPU unavailable in data-eng's ClusterQueue; above ml-research's maximum capacity of 12)",
    docs=[f"{DOC}#waits-forever"],
)
def test_a_job_without_quota_waits_forever(tmp_path: Path) -> None:
    code, report = check(tmp_path, "prod", docs_yaml("check.md", "Waits forever"))
    job = verdict(report, "Job", "embed-corpus")
    queue = finding(job, "queue")
    assert code == 1 and finding(job, "admission")["status"] == "ok"
    assert queue["status"] == "fail"
    assert queue["details"] == [
        "LocalQueue default -> ClusterQueue data-eng: couldn't assign flavors to pod set main: "
        "resource nvidia.com/gpu unavailable in ClusterQueue"
    ]
    s = stack("staging")

    (training,) = docs_yaml("workloads.md", "Submitting a training job")
    code, report = check(tmp_path, "staging", [rehome(training, s.registry)])
    queue = finding(verdict(report, "Job", "finetune-llama"), "queue")
    assert code == 1 and queue["status"] == "fail"
    assert "in flavor training" in queue["details"][0]
    assert "> maximum capacity (12)" in queue["details"][0]


@journey(
    user="agent developer of tenant agents",
    stack="prod",
    steps=[
        "annotate a Job running as the support agent's service account with the models it "
        "needs (claude-sonnet, nova-pro)",
        "run `substrate check prod` on it",
    ],
    outcome="exit 1: admitted and queued, but the IAM evaluator denies InvokeModel on nova-pro "
    "to the support agent's role (no identity-based policy allows it)",
    docs=[f"{DOC}#accessdenied-on-a-model"],
)
def test_a_model_the_role_was_not_granted_is_access_denied(tmp_path: Path) -> None:
    code, report = check(tmp_path, "prod", docs_yaml("check.md", "AccessDenied on a model"))
    job = verdict(report, "Job", "summarize-tickets")
    identity = finding(job, "identity")
    assert code == 1 and finding(job, "queue")["status"] == "ok"
    assert identity["status"] == "fail"
    assert identity["summary"] == (
        "AccessDenied on nova-pro for role agent-support-bedrock-identity-role "
        "(service account support); SPIFFE ID spiffe://prod.substrate.internal/ns/agents/sa/"
        "support (ClusterSPIFFEID tenant-agents)"
    )
    assert (
        "nova-pro: AccessDenied because no identity-based policy allows the "
        "bedrock:InvokeModel action" in identity["details"]
    )
    assert not any(d.startswith("claude-sonnet") for d in identity["details"])


@journey(
    user="platform users of every tenant",
    stack="prod",
    steps=["run `substrate check prod examples/tenant-manifests/*.yaml`"],
    outcome="exit 1: the GPU job without quota waits forever; the CronJob, the agent "
    "StatefulSet (with its ServiceAccount and PDB), the Deployment without requests (the "
    "LimitRange fills them) and the SparkApplication (with its pods) run; JobSet and RayJob are "
    "queued with their pods unjudged (warn) and Karpenter launches nodes for their templates "
    "(the JobSet's two 8-GPU pods on two p4d.24xlarge); the LeaderWorkerSet's PodDisruptionBudget "
    "is admitted and the LeaderWorkerSet is undecided (warn)",
    docs=[f"{DOC}#realistic-tenant-manifests"],
)
def test_realistic_tenant_manifests(tmp_path: Path) -> None:
    code, report = check(tmp_path, "prod", (), *sorted(EXAMPLES.glob("*.yaml")))
    status = {(w["kind"], w["name"]): w["status"] for w in report["workloads"]}
    assert code == 1 and report["runs"] is False
    assert status == {
        ("ServiceAccount", "triage"): "ok",
        ("PodDisruptionBudget", "triage"): "ok",
        ("StatefulSet", "triage"): "ok",
        ("Deployment", "metrics-dashboard"): "ok",
        ("CronJob", "nightly-compaction"): "ok",
        ("Job", "embed-corpus"): "fail",
        ("JobSet", "pretrain-moe"): "warn",
        ("RayJob", "feature-etl"): "warn",
        ("SparkApplication", "features"): "ok",
        ("PodDisruptionBudget", "llama-serve"): "ok",
        ("LeaderWorkerSet", "llama-serve"): "warn",
    }
    jobset = verdict(report, "JobSet", "pretrain-moe")
    assert "flavor default, training" in finding(jobset, "queue")["summary"]
    assert "its pods were not judged" in finding(jobset, "admission")["summary"]
    agent = verdict(report, "StatefulSet", "triage")
    assert "and 2 of its pods" in finding(agent, "admission")["summary"]
    assert "2 Workloads (one per pod)" in finding(agent, "queue")["details"]
    dashboard = verdict(report, "Deployment", "metrics-dashboard")
    assert "and 2 of its pods" in finding(dashboard, "admission")["summary"]
    lws = verdict(report, "LeaderWorkerSet", "llama-serve")
    assert finding(lws, "queue")["summary"].startswith("not decided")
    assert finding(jobset, "capacity")["summary"] == (
        "2 pods (32 cpu, 256Gi memory, 8 nvidia.com/gpu each): 2 x p4d.24xlarge in pool training"
    )
    assert finding(verdict(report, "RayJob", "feature-etl"), "capacity")["summary"] == (
        "head: 1 pod (4 cpu, 16Gi memory each): 1 x m6i.2xlarge in pool general; "
        "cpu: 4 pods (8 cpu, 32Gi memory each): 1 x m6i.12xlarge in pool general"
    )
    assert finding(dashboard, "capacity")["summary"] == (
        "2 pods (0.25 cpu, 0.5Gi memory each): 1 x c7i.large in pool general"
    )


def test_the_cached_context_is_the_planned_one() -> None:
    """What `substrate check` reads from out/.check/ is what it built from the plan."""
    built = stack("dev").context
    again = context.Context.from_json(json.loads(json.dumps(built.to_json())))
    assert again == built
