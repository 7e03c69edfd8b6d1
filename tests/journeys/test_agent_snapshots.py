"""Scheduled snapshots of agent memory as the cluster runs them: the platform creates the
CronJob, the cronjob controller its Job, Kueue admits the Job on the tenant's queue and the job
controller creates the pod (apiserver engine, Kueue engine), each judged by the stack's Kyverno
policies as its real requester."""

from __future__ import annotations

import pytest

from substrate.check.chain import submittable
from substrate.engines.kueue import Step
from tests.helpers import STACKS, stack_yaml
from tests.journeys.cluster import controller, denied, stack
from tests.journeys.journey import journey

DEPLOYER = {"username": "arn:aws:sts::123456789012:assumed-role/substrate-deploy/ci"}
SCHEDULING = [
    s
    for s in STACKS
    if any("snapshots" in a for a in stack_yaml(s).get("substrate:agents", {}).values())
]


@journey(
    user="platform engineer deploying the stack (the cronjob, Kueue and job controllers after)",
    stack="prod",
    steps=[
        "pulumi up creates the support agent's snapshot CronJob",
        "at its schedule the cronjob controller creates a Job; Kueue admits it on the agents "
        "tenant's queue and unsuspends it",
        "the job controller creates the pod, as the CronJob's own service account with an API "
        "token",
    ],
    outcome="Kyverno admits the CronJob, the Job and the pod; Kueue admits the Job on the "
    "agents ClusterQueue; the pod passes Pod Security",
    docs=["docs/agents.md#how-memory-survives-restarts-and-drains"],
)
@pytest.mark.parametrize("name", SCHEDULING)
def test_scheduled_snapshots_run_in_the_agents_namespace(name: str) -> None:
    s = stack(name)
    cron_jobs = [o for o in s.objects("CronJob") if o["metadata"]["name"].endswith("-snapshots")]
    assert cron_jobs
    for cron_job in cron_jobs:
        (made,) = s.create([cron_job], DEPLOYER).results
        assert made.created and made.admitted is not None, made.errors
        verdicts = s.admit([made.admitted], DEPLOYER)
        assert denied(verdicts, cron_job["metadata"]["name"]) == {}
        (job,) = made.descendants("Job")
        assert job.admitted is not None
        job_name = job.admitted["metadata"]["name"]
        assert denied(s.admit([job.admitted], controller("cronjob-controller")), job_name) == {}
        (queued,) = s.queue([Step("the scheduled Job", submit=[submittable(job.admitted)])])
        workload = queued.workload_of("Job", job_name)
        assert workload.admitted, workload.pending_message
        namespace = cron_job["metadata"]["namespace"]
        assert (
            workload.cluster_queue == s.objects("LocalQueue", namespace)[0]["spec"]["clusterQueue"]
        )
        resumed = dict(queued.object("Job", job_name))
        (again,) = s.create([resumed], controller("cronjob-controller")).results
        (pod,) = again.descendants("Pod")
        assert pod.admitted is not None and pod.pod_security is not None
        assert pod.pod_security.enforce.allowed
        spec = pod.admitted["spec"]
        assert spec["serviceAccountName"] == cron_job["metadata"]["name"]
        assert any("projected" in v for v in spec["volumes"]), "the pod gets an API token"
        requester = {"username": pod.username, "groups": list(pod.groups)}
        assert denied(s.admit([pod.admitted], requester), pod.name) == {}
