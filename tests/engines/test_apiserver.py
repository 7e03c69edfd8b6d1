"""The apiserver engine shows objects as Kubernetes admits them: behaviour the Kubernetes and
Kueue documentation states, checked on what the engine produced for the documented examples
(tests/engines/apiserver_examples.py) on the prod stack's cluster. One engine run for the module.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from substrate.components.core.versions import SUPPORTED_KUBERNETES_VERSIONS
from substrate.engines import EngineFailedError
from substrate.engines.apiserver import (
    Admission,
    ApiServerRun,
    ClusterState,
    admit,
    namespace,
    stack_state,
)
from substrate.plan.command import PlanResult
from tests.engines import apiserver_examples as ex
from tests.helpers import require_engine


@pytest.fixture(scope="module")
def run(prod_plan: PlanResult, charts: Path) -> ApiServerRun:
    require_engine("apiserver")
    require_engine("helm")
    state = stack_state(prod_plan, charts=charts)
    state = dataclasses.replace(
        state,
        namespaces=state.namespaces + tuple(ex.NAMESPACES),
        cluster=state.cluster + tuple(ex.CLUSTER),
    )
    return admit(state, ex.OBJECTS, now=ex.NOW)


def result(run: ApiServerRun, namespace: str, kind: str, name: str) -> Admission:
    """The top-level result for the input object namespace/kind/name."""
    for obj, res in zip(ex.OBJECTS, run.results, strict=True):
        md = obj["metadata"]
        if (md.get("namespace"), obj["kind"], md["name"]) == (namespace, kind, name):
            return res
    raise KeyError(f"{kind} {namespace}/{name} is not an input object")


def container(a: Admission, index: int = 0) -> dict[str, Any]:
    assert a.admitted is not None, a.errors
    return a.admitted["spec"]["containers"][index]


def labels(a: Admission) -> dict[str, str]:
    assert a.admitted is not None, a.errors
    return a.admitted["metadata"].get("labels") or {}


def spec(a: Admission) -> dict[str, Any]:
    assert a.admitted is not None, a.errors
    return a.admitted["spec"]


def test_the_engine_runs_as_the_stack_cluster_version_with_kueues_webhooks(
    run: ApiServerRun,
) -> None:
    assert run.kubernetes_version == "1.35"
    assert "mutating kueue-mutating-webhook-configuration/mpod.kb.io" in run.webhooks
    assert "validating kueue-validating-webhook-configuration/vjob.kb.io" in run.webhooks
    plugins = run.admission_plugins
    assert plugins.index("LimitRanger") < plugins.index("MutatingAdmissionWebhook")


# kubernetes.io/docs/tasks/administer-cluster/manage-resources/memory-default-namespace/
@pytest.mark.parametrize(
    ("pod", "requests", "limits"),
    [
        # No request or limit: the LimitRange's defaultRequest and default.
        ("default-mem-demo", "256Mi", "512Mi"),
        # A limit but no request: the request matches the limit, not the default request.
        ("default-mem-demo-2", "1Gi", "1Gi"),
        # A request but no limit: the limit is the LimitRange default.
        ("default-mem-demo-3", "128Mi", "512Mi"),
    ],
)
def test_limit_range_defaults_fill_container_memory(
    run: ApiServerRun, pod: str, requests: str, limits: str
) -> None:
    resources = container(result(run, ex.MEM_NS, "Pod", pod))["resources"]
    assert resources["requests"]["memory"] == requests
    assert resources["limits"]["memory"] == limits


# kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/
# (#bound-service-account-token-volume) and .../configure-pod-container/configure-service-account/
def test_pod_without_service_account_runs_as_default_with_the_kube_api_access_volume(
    run: ApiServerRun,
) -> None:
    pod = result(run, ex.PLAIN_NS, "Pod", "nginx")
    assert pod.created, pod.errors
    assert spec(pod)["serviceAccountName"] == "default"
    (volume,) = [v for v in spec(pod)["volumes"] if v["name"].startswith("kube-api-access-")]
    sources = volume["projected"]["sources"]
    assert sources[0]["serviceAccountToken"] == {"expirationSeconds": 3607, "path": "token"}
    assert sources[1]["configMap"]["name"] == "kube-root-ca.crt"
    assert sources[2]["downwardAPI"]["items"][0]["fieldRef"]["fieldPath"] == "metadata.namespace"
    (mount,) = container(pod)["volumeMounts"]
    assert mount == {
        "name": volume["name"],
        "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
        "readOnly": True,
    }


def test_opting_out_of_automounting_leaves_the_pod_without_a_token(run: ApiServerRun) -> None:
    pod = result(run, ex.PLAIN_NS, "Pod", "no-token")
    assert pod.created, pod.errors
    assert "volumes" not in spec(pod)
    assert "volumeMounts" not in container(pod)


# kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/#taint-based-evictions
def test_pods_tolerate_not_ready_and_unreachable_nodes_for_five_minutes(run: ApiServerRun) -> None:
    tolerations = spec(result(run, ex.PLAIN_NS, "Pod", "nginx"))["tolerations"]
    assert {(t["key"], t["effect"], t["tolerationSeconds"]) for t in tolerations} == {
        ("node.kubernetes.io/not-ready", "NoExecute", 300),
        ("node.kubernetes.io/unreachable", "NoExecute", 300),
    }


# kubernetes.io/docs/concepts/scheduling-eviction/pod-priority-preemption/
def test_priority_class_name_resolves_to_its_value_and_unknown_classes_are_refused(
    run: ApiServerRun,
) -> None:
    assert spec(result(run, ex.PLAIN_NS, "Pod", "priority-nginx"))["priority"] == 1000000
    assert spec(result(run, ex.PLAIN_NS, "Pod", "nginx"))["priority"] == 0
    refused = result(run, ex.PLAIN_NS, "Pod", "unknown-priority")
    assert (refused.created, refused.refused_by) == (False, "Priority")
    assert "no PriorityClass with name no-such-class was found" in refused.errors[0]


# kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#namespacelifecycle
def test_privileged_containers_are_allowed_as_on_eks(run: ApiServerRun) -> None:
    """kube-apiserver --allow-privileged=true (EKS's own aws-node DaemonSet is privileged): a
    privileged pod in a namespace whose Pod Security level allows it is created."""
    pod = result(run, ex.PLAIN_NS, "Pod", "privileged")
    assert pod.created, pod.refused_by


def test_objects_in_a_missing_namespace_are_refused(run: ApiServerRun) -> None:
    lost = result(run, "no-such-namespace", "Pod", "lost")
    assert (lost.created, lost.admitted) == (False, None)
    assert 'namespaces "no-such-namespace" not found' in lost.errors[0]


# kubernetes.io/docs/concepts/workloads/controllers/job/ (#specifying-your-own-pod-selector,
# #job-labels, #job-tracking-with-finalizers)
def test_job_gets_a_generated_selector_and_its_pods_the_job_labels_and_finalizer(
    run: ApiServerRun,
) -> None:
    job = result(run, ex.PLAIN_NS, "Job", "pi")
    uid = job.admitted["metadata"]["uid"] if job.admitted else None
    assert spec(job)["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    template_labels = spec(job)["template"]["metadata"]["labels"]
    assert template_labels["batch.kubernetes.io/job-name"] == "pi"
    pods = job.descendants("Pod")
    assert len(pods) == 2  # parallelism
    for pod in pods:
        assert pod.created, pod.errors
        assert pod.name.startswith("pi-")
        assert labels(pod)["batch.kubernetes.io/job-name"] == "pi"
        assert pod.admitted and pod.admitted["metadata"]["finalizers"] == [
            "batch.kubernetes.io/job-tracking"
        ]
        (owner,) = pod.admitted["metadata"]["ownerReferences"]
        assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
            "Job",
            "pi",
            uid,
            True,
        )
        assert pod.username == "system:serviceaccount:kube-system:job-controller"


# kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ and the well-known annotation
# batch.kubernetes.io/cronjob-scheduled-timestamp
# (kubernetes.io/docs/reference/labels-annotations-taints/)
def test_cronjob_yields_a_job_for_its_next_schedule_that_yields_a_pod(run: ApiServerRun) -> None:
    cronjob = result(run, ex.PLAIN_NS, "CronJob", "hello")
    (job,) = cronjob.children
    assert job.kind == "Job" and job.created, job.errors
    assert job.admitted and job.admitted["metadata"]["annotations"] == {
        "batch.kubernetes.io/cronjob-scheduled-timestamp": "2026-01-01T00:01:00Z"
    }
    (pod,) = job.children
    assert pod.kind == "Pod" and pod.created, pod.errors
    assert labels(pod)["batch.kubernetes.io/job-name"] == job.name
    assert spec(pod)["containers"][0]["command"] == ["/bin/sh", "-c", "date; echo Hello"]


# kubernetes.io/docs/concepts/workloads/controllers/deployment/ (#pod-template-hash-label)
def test_deployment_yields_a_hashed_replicaset_that_yields_its_replicas(run: ApiServerRun) -> None:
    deployment = result(run, ex.PLAIN_NS, "Deployment", "nginx-deployment")
    (replicaset,) = deployment.children
    pod_hash = labels(replicaset)["pod-template-hash"]
    assert replicaset.name == f"nginx-deployment-{pod_hash}"
    assert spec(replicaset)["selector"]["matchLabels"] == {
        "app": "nginx",
        "pod-template-hash": pod_hash,
    }
    pods = replicaset.children
    assert len(pods) == 3
    assert {p.name.rsplit("-", 1)[0] for p in pods} == {replicaset.name}
    assert all(labels(p) == {"app": "nginx", "pod-template-hash": pod_hash} for p in pods)


# kubernetes.io/docs/concepts/workloads/controllers/statefulset/ (#pod-identity, #stable-storage,
# #pod-name-label, #pod-index-label); kubernetes.io/docs/concepts/storage/dynamic-provisioning/
# (#defaulting-behavior); .../persistent-volumes/#storage-object-in-use-protection
def test_statefulset_yields_ordinal_pods_and_a_claim_per_pod_on_the_default_class(
    run: ApiServerRun, prod_plan: PlanResult
) -> None:
    web = result(run, ex.PLAIN_NS, "StatefulSet", "web")
    pods = web.descendants("Pod")
    assert [p.name for p in pods] == ["web-0", "web-1", "web-2"]
    for i, pod in enumerate(pods):
        assert labels(pod)["statefulset.kubernetes.io/pod-name"] == f"web-{i}"
        assert labels(pod)["apps.kubernetes.io/pod-index"] == str(i)
        assert spec(pod)["hostname"] == f"web-{i}"
    (default_class,) = [
        m["metadata"]["name"]
        for m in prod_plan.manifests.values()
        if m["kind"] == "StorageClass"
        and (m["metadata"].get("annotations") or {}).get(
            "storageclass.kubernetes.io/is-default-class"
        )
        == "true"
    ]
    claims = web.descendants("PersistentVolumeClaim")
    assert [c.name for c in claims] == ["www-web-0", "www-web-1", "www-web-2"]
    for claim in claims:
        assert spec(claim)["storageClassName"] == default_class
        assert claim.admitted and claim.admitted["metadata"]["finalizers"] == [
            "kubernetes.io/pvc-protection"
        ]


# kubernetes.io/docs/concepts/security/pod-security-admission/ and
# kubernetes.io/docs/tutorials/security/ns-level-pss/
def test_restricted_namespace_refuses_a_plain_pod_and_admits_a_hardened_one(
    run: ApiServerRun,
) -> None:
    plain = result(run, ex.PSA_NS, "Pod", "nginx-plain")
    assert plain.pod_security is not None
    enforce = plain.pod_security.enforce
    assert (enforce.level, enforce.allowed) == ("restricted", False)
    assert {f.reason for f in enforce.forbidden} == {
        "allowPrivilegeEscalation != false",
        "unrestricted capabilities",
        "runAsNonRoot != true",
        "seccompProfile",
    }
    assert (plain.created, plain.refused_by, plain.reaches_validating_webhooks) == (
        False,
        "PodSecurity",
        False,
    )
    assert 'violates PodSecurity "restricted:latest"' in plain.errors[0]
    hardened = result(run, ex.PSA_NS, "Pod", "nginx-restricted")
    assert hardened.created, hardened.errors
    assert hardened.pod_security and hardened.pod_security.enforce.allowed


def test_restricted_namespace_only_warns_about_a_workload_template(run: ApiServerRun) -> None:
    deployment = result(run, ex.PSA_NS, "Deployment", "nginx-plain")
    assert deployment.created, deployment.errors
    assert any('would violate PodSecurity "restricted:latest"' in w for w in deployment.warnings)
    # ... and the pods its ReplicaSet then creates are refused.
    pods = deployment.descendants("Pod")
    assert pods and not any(p.created for p in pods)


# kueue.sigs.k8s.io/docs/tasks/run/jobs/
def test_kueue_suspends_a_queued_job_and_its_pods_come_once_admitted(run: ApiServerRun) -> None:
    job = result(run, ex.KUEUE_NS, "Job", "sample-job")
    assert job.created, job.errors
    assert spec(job)["suspend"] is True
    pods = job.descendants("Pod")
    assert len(pods) == 3
    # Pods of a Job Kueue manages are not gated again: the Job is what Kueue admits.
    assert all("schedulingGates" not in spec(p) for p in pods)


# kueue.sigs.k8s.io/docs/tasks/run/plain_pods/
def test_kueue_gates_a_queued_pod_in_a_managed_namespace_only(run: ApiServerRun) -> None:
    pod = result(run, ex.KUEUE_NS, "Pod", "kueue-sleep")
    assert pod.created, pod.errors
    assert {"name": "kueue.x-k8s.io/admission"} in spec(pod)["schedulingGates"]
    assert labels(pod)["kueue.x-k8s.io/managed"] == "true"
    assert pod.admitted and "kueue.x-k8s.io/managed" in pod.admitted["metadata"]["finalizers"]
    # Outside managedJobsNamespaceSelector the chart's webhook does not even see it.
    unmanaged = result(run, ex.UNMANAGED_NS, "Pod", "kueue-sleep")
    assert unmanaged.created, unmanaged.errors
    assert "schedulingGates" not in spec(unmanaged)
    assert "kueue.x-k8s.io/managed" not in labels(unmanaged)


# kueue.sigs.k8s.io/docs/tasks/run/deployment/
def test_kueue_gates_the_pods_of_a_queued_deployment_with_its_queue(run: ApiServerRun) -> None:
    deployment = result(run, ex.KUEUE_NS, "Deployment", "nginx-queued")
    pods = deployment.descendants("Pod")
    assert len(pods) == 3
    for pod in pods:
        assert pod.created, pod.errors
        assert labels(pod)[ex.QUEUE_LABEL] == "user-queue"
        assert {"name": "kueue.x-k8s.io/admission"} in spec(pod)["schedulingGates"]


# kueue.sigs.k8s.io/docs/tasks/run/jobsets/; the JobSet API's `groupName` default; field pruning
# of custom resources (kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/
# custom-resource-definitions/#field-pruning)
def test_a_queued_jobset_is_pruned_defaulted_by_its_schema_and_suspended_by_kueue(
    run: ApiServerRun,
) -> None:
    jobset = result(run, ex.KUEUE_NS, "JobSet", "sleep-job")
    assert jobset.created, jobset.errors
    assert spec(jobset)["suspend"] is True
    (workers,) = spec(jobset)["replicatedJobs"]
    assert workers["groupName"] == "default"
    pod_spec = workers["template"]["spec"]["template"]["spec"]
    assert "sleepy" not in pod_spec["containers"][0]
    assert jobset.warnings == (
        'unknown field "spec.replicatedJobs[0].template.spec.template.spec.containers[0].sleepy"',
    )
    # JobSet's own webhooks and controller do not run in the engine, and it says so.
    assert jobset.children == ()
    assert any("JobSet's controller and webhooks cannot run" in n for n in jobset.notes)
    assert any("jobset-webhook-service" in n for n in run.notes)


@pytest.mark.parametrize("version", SUPPORTED_KUBERNETES_VERSIONS)
def test_every_supported_kubernetes_version_admits(version: str) -> None:
    require_engine("apiserver")
    state = ClusterState(kubernetes_version=version, namespaces=(namespace(ex.PLAIN_NS),))
    run = admit(state, [ex.PLAIN_PODS[0]])
    assert run.kubernetes_version == version
    (pod,) = run.results
    assert pod.created, pod.errors


def test_a_kubernetes_version_the_engine_cannot_emulate_is_an_error() -> None:
    require_engine("apiserver")
    with pytest.raises(EngineFailedError, match=re.escape("runs Kubernetes 1.36 as 1.33..1.36")):
        admit(ClusterState(kubernetes_version="1.32"), [])
