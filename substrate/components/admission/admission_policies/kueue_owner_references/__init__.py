"""R28: a pod a tenant creates does not name a workload Kueue governs as its controller.

Kueue v0.19.2's pod webhook leaves a pod alone (no queue label, no scheduling gate, no Workload)
when the chain of its controller owner references (`controller: true`; other owners are not
followed) reaches a job Kueue manages that carries a queue name: such a pod is taken for a
child Kueue already accounts through its owner (`jobframework.FindAncestorJobManagedByKueue`).
The chain is followed only through the kinds Kueue knows as owners (`isKnownOwner`): the kind of
every integration Kueue is built with, and apps/v1 ReplicaSet (the step from a Deployment's
pods to the Deployment). The owner must exist with the written UID, which a tenant can read off
its own queued Job, so an owner reference a tenant writes into a bare pod would run that pod
unqueued: only the namespace's ResourceQuota would bound it.

Who created the pod decides, as in gpu-queue-label: pods created by kube-controller-manager and
by the platform's operators (their namespaces' service accounts) are judged no further. A pod a
tenant creates, directly or through its own service accounts, is refused when its controller
is one of those kinds, with one exception: a pod controlled by a Pod and created by a service
account of the pod's own namespace (a Spark driver creating its executors). Pods with other
controllers (or none) are queued by Kueue as any pod is. Pods only, at CREATE (an owner
reference added later does not stop Kueue's accounting of a pod it already gated). No
background scans: a scan has no requester.
"""

from __future__ import annotations

from typing import Any

from substrate.components.admission.admission_policies._base import (
    PolicySettings,
    cel,
    requested_by_controllers,
    validating_policy,
    validation,
    variable,
)

NAME = "kueue-owner-references"
RULE = "R28"

KUEUE_OWNER_KINDS: tuple[tuple[str, str], ...] = (
    ("", "Pod"),
    ("apps", "Deployment"),
    ("apps", "ReplicaSet"),
    ("apps", "StatefulSet"),
    ("batch", "Job"),
    ("jobset.x-k8s.io", "JobSet"),
    ("kubeflow.org", "JAXJob"),
    ("kubeflow.org", "MPIJob"),
    ("kubeflow.org", "PaddleJob"),
    ("kubeflow.org", "PyTorchJob"),
    ("kubeflow.org", "TFJob"),
    ("kubeflow.org", "XGBoostJob"),
    ("leaderworkerset.x-k8s.io", "LeaderWorkerSet"),
    ("ray.io", "RayCluster"),
    ("ray.io", "RayJob"),
    ("ray.io", "RayService"),
    ("sparkoperator.k8s.io", "SparkApplication"),
    ("trainer.kubeflow.org", "TrainJob"),
    ("workload.codeflare.dev", "AppWrapper"),
)
"""(API group, kind) of every owner Kueue v0.19.2's pod webhook follows: the kind of each
integration it registers (`pkg/controller/jobs/*`, enabled or not: the walk goes through any of
them) and apps ReplicaSet. Matched on group and kind, any version, so an API version Kueue
would not follow is refused too rather than guessed."""


def _is(owner: str, group: str, kind: str) -> str:
    """CEL: owner reference ``owner`` is a ``kind`` of API group ``group`` ("" is core)."""
    if not group:
        return f"({owner}.kind == {cel(kind)} && {owner}.apiVersion == 'v1')"
    version = f"{owner}.apiVersion.startsWith({cel(group + '/')})"
    return f"({owner}.kind == {cel(kind)} && {version})"


def followed_by_kueue(owner: str) -> str:
    """CEL: owner reference ``owner`` is of a kind Kueue's pod webhook follows."""
    return " || ".join(_is(owner, g, k) for g, k in KUEUE_OWNER_KINDS)


OWN_SERVICE_ACCOUNT = (
    "request.userInfo.username.startsWith("
    "'system:serviceaccount:' + object.metadata.namespace + ':')"
)
"""CEL: the requester is a service account of the pod's own namespace."""


def build(settings: PolicySettings) -> dict[str, Any]:
    policy = validating_policy(
        NAME,
        settings,
        rule=RULE,
        title="Tenants' pods do not name a Kueue workload as their controller",
        subject="Pod",
        description="A pod a tenant creates whose controller owner reference is of a kind "
        "Kueue's pod webhook follows (a Job, JobSet, LeaderWorkerSet, RayJob, RayCluster, "
        "SparkApplication, Deployment, ReplicaSet, StatefulSet, ...) would be taken for a child "
        "of a queued workload and run unqueued; only controllers and the platform's operators "
        "create such pods (a Spark driver's service account its executors, controlled by the "
        "driver pod).",
        match_conditions=[
            {
                "name": "submitted-by-tenants",
                "expression": f"!({requested_by_controllers(settings)})",
            }
        ],
        variables=[
            variable(
                "followed",
                "object.metadata.?ownerReferences.orValue([]).filter(o, "
                f"o.?controller.orValue(false) && ({followed_by_kueue('o')}))",
            ),
        ],
        validations=[
            validation(
                "variables.followed.all(o, o.kind == 'Pod' && o.apiVersion == 'v1' && "
                f"{OWN_SERVICE_ACCOUNT})",
                "Pods tenants create must not name a workload Kueue queues as their controller.",
                "'Pod ' + object.metadata.?name.orValue('') + ' names ' + "
                "variables.followed.map(o, o.kind + ' ' + o.name).join(', ') + "
                "' as its controller: Kueue would take it for a child of that workload and "
                "never queue it; only controllers create such pods'",
            ),
        ],
        autogen=False,
    )
    policy["spec"]["evaluation"] = {"background": {"enabled": False}}
    return policy
