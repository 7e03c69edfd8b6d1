"""What a tenant admin may do in the cluster, decided by kube-apiserver's own RBAC authorizer
(the apiserver engine's `authorize` mode, substrate.engines.rbac) over every RBAC object the
cluster holds for a stack's plan (its manifests and every Helm release as rendered: the
`substrate check` context) plus the bootstrap policy. One engine run per stack answers every
question below.

The expectations are the docs' contract (docs/workloads.md, Tenants: "Admins." and the
RoleBinding/ClusterRole rows), applied to what the plan declares: the admin groups of its EKS
access entries, the tenants' namespaces and ClusterQueues, and the integrations in Kueue's
Configuration as its chart renders it. They never read the rendered roles."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import pytest

from substrate.components.workloads.kueue_integrations import KINDS, effective
from substrate.engines import rbac
from substrate.engines.rbac import AccessRequest
from tests.helpers import STACKS, require_engine
from tests.journeys.cluster import Stack, stack
from tests.journeys.journey import journey

TENANTS_DOC = "docs/workloads.md#tenants"
SUBMITTING_DOC = "docs/workloads.md#submitting-a-training-job"
ADMIN_GROUP = re.compile(r"^substrate:tenant:(?P<tenant>[^:]+):admins$")
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
TENANT_LABEL = "substrate.io/tenant"
NAMESPACE = "kubernetes:core/v1:Namespace"
TENANT_COMPONENT = "substrate:index:Tenant"
READ = ("get", "list", "watch")
WRITE = ("create", "update", "patch", "delete", "deletecollection")
# What the docs say tenant admins create (core, policy, autoscaling).
OPERATED = (
    ("", "services"),
    ("", "configmaps"),
    ("", "secrets"),
    ("", "persistentvolumeclaims"),
    ("policy", "poddisruptionbudgets"),
    ("autoscaling", "horizontalpodautoscalers"),
)
# What the docs say tenant admins only read.
GUARDRAILS = (
    ("", "resourcequotas"),
    ("", "limitranges"),
    ("networking.k8s.io", "networkpolicies"),
    ("kueue.x-k8s.io", "localqueues"),
    ("kueue.x-k8s.io", "workloads"),
    ("keda.sh", "scaledobjects"),
    ("keda.sh", "scaledjobs"),
    ("keda.sh", "triggerauthentications"),
)
RBAC_GROUP = "rbac.authorization.k8s.io"


@dataclass(frozen=True)
class Admin:
    """A tenant admin as its EKS access entry maps it."""

    principal: str
    group: str
    tenant: str

    def ask(
        self, verb: str, group: str, resource: str, namespace: str = "", name: str = ""
    ) -> AccessRequest:
        resource, _, sub = resource.partition("/")
        return AccessRequest(
            user=self.principal,
            groups=(self.group, "system:authenticated"),
            verb=verb,
            api_group=group,
            resource=resource,
            subresource=sub,
            namespace=namespace,
            name=name,
        )


@dataclass(frozen=True)
class Tenancy:
    """What the plan declares about tenants, and every RBAC answer for its admins."""

    admins: tuple[Admin, ...]
    namespaces: dict[str, tuple[str, ...]]
    """tenant -> the namespaces its Tenant component creates (labelled with its name)."""
    cluster_queue: dict[str, str]
    """tenant -> the ClusterQueue its `default` LocalQueue points at."""
    queued: frozenset[str]
    """Kueue integrations the stack runs (Configuration frameworks and those they imply)."""
    answers: dict[AccessRequest, rbac.AccessDecision]

    def others(self, tenant: str) -> list[str]:
        return [ns for t, names in self.namespaces.items() if t != tenant for ns in names]


def _admins(s: Stack) -> tuple[Admin, ...]:
    out = []
    for r in s.plan.records:
        if r.type == ACCESS_ENTRY:
            for group in r.inputs.get("kubernetesGroups") or ():
                if m := ADMIN_GROUP.match(group):
                    out.append(Admin(r.inputs["principalArn"], group, m["tenant"]))
    return tuple(out)


def _questions(t: Tenancy, admin: Admin) -> Iterator[AccessRequest]:
    """Every question the journeys ask for ``admin``, in its own and other tenants' namespaces."""
    for ns in (*t.namespaces[admin.tenant], *t.others(admin.tenant)):
        for _, (group, resources) in KINDS.items():
            for resource in resources:
                for verb in (*READ, *WRITE):
                    yield admin.ask(verb, group, resource, ns)
        for group, resource in (*OPERATED, *GUARDRAILS):
            for verb in (*READ, *WRITE):
                yield admin.ask(verb, group, resource, ns)
        yield admin.ask("delete", "networking.k8s.io", "networkpolicies", ns, "default-deny")
        for resource in ("roles", "rolebindings"):
            yield admin.ask("create", RBAC_GROUP, resource, ns)
        yield admin.ask("update", RBAC_GROUP, "rolebindings", ns, "tenant-admins")
        yield admin.ask("escalate", RBAC_GROUP, "roles", ns)
        yield admin.ask("bind", RBAC_GROUP, "clusterroles", ns, "substrate:tenant-admin")
    yield from _cluster_questions(t, admin)


def _cluster_questions(t: Tenancy, admin: Admin) -> Iterator[AccessRequest]:
    kueue = "kueue.x-k8s.io"
    for queue in t.cluster_queue.values():
        for verb in ("get", "watch", "update", "delete"):
            yield admin.ask(verb, kueue, "clusterqueues", name=queue)
    yield admin.ask("list", kueue, "clusterqueues")
    for resource in ("resourceflavors", "cohorts"):
        for verb in READ:
            yield admin.ask(verb, kueue, resource)
    yield admin.ask("create", "", "namespaces")
    for ns in t.namespaces[admin.tenant]:
        yield admin.ask("delete", "", "namespaces", name=ns)
    for verb in ("create", "escalate", "bind"):
        yield admin.ask(verb, RBAC_GROUP, "clusterroles", name="substrate:tenant-admin")
    yield admin.ask("create", RBAC_GROUP, "clusterrolebindings")


@cache
def tenancy(name: str) -> Tenancy:
    require_engine("apiserver")
    s = stack(name)
    namespaces: dict[str, list[str]] = {}
    for r in s.plan.records:
        if r.type == NAMESPACE and (r.parent or "").split("::")[-2:-1] == [TENANT_COMPONENT]:
            meta = r.inputs["metadata"]
            namespaces.setdefault(meta["labels"][TENANT_LABEL], []).append(meta["name"])
    cluster_queue = {
        t: lq["spec"]["clusterQueue"]
        for t, names in namespaces.items()
        for lq in s.objects("LocalQueue")
        if lq["metadata"]["namespace"] in names and lq["metadata"]["name"] == "default"
    }
    assert s.state.kueue is not None, "the stack installs Kueue"
    frameworks = s.state.kueue["integrations"]["frameworks"]
    partial = Tenancy(
        admins=_admins(s),
        namespaces={t: tuple(sorted(ns)) for t, ns in namespaces.items()},
        cluster_queue=cluster_queue,
        queued=effective(tuple(frameworks)),
        answers={},
    )
    assert partial.admins, f"{name}: no tenant admin access entries"
    questions = list(dict.fromkeys(q for a in partial.admins for q in _questions(partial, a)))
    run = rbac.authorize(s.context.rbac, questions)
    partial.answers.update({d.request: d for d in run.decisions})
    return partial


def _wrong(t: Tenancy, expected: dict[AccessRequest, bool]) -> list[str]:
    """The questions the authorizer answers other than ``expected``, readably."""
    out = []
    for q, want in expected.items():
        got = t.answers[q]
        if got.allowed != want:
            what = f"{q.verb} {q.resource}{'/' + q.subresource if q.subresource else ''}"
            where = f"{q.api_group or 'core'} in {q.namespace or 'cluster'} {q.name}".rstrip()
            out.append(
                f"{q.groups[0]}: {what} ({where}): want {'allowed' if want else 'denied'}, "
                f"authorizer: {got.reason or 'no rule allows it'}"
            )
    return out


def _check(t: Tenancy, expected: dict[AccessRequest, bool]) -> None:
    assert expected, "no questions"
    if wrong := _wrong(t, expected):
        pytest.fail("\n".join(wrong), pytrace=False)


def _kind_expectations(t: Tenancy, admin: Admin) -> Iterator[tuple[AccessRequest, bool]]:
    for integration, (group, resources) in KINDS.items():
        on = integration in t.queued
        for resource in resources:
            verbs = ("get", "update") if "/" in resource else (*READ, *WRITE)
            for ns in t.namespaces[admin.tenant]:
                for verb in verbs:
                    yield admin.ask(verb, group, resource, ns), on or verb in READ


@journey(
    user="tenant admin (EKS access entry group substrate:tenant:<name>:admins)",
    stack="dev, staging, prod",
    steps=[
        "creates, updates and deletes each workload kind in the tenant's namespaces",
        "tries the same with kinds whose Kueue integration the stack does not enable",
    ],
    outcome="kube-apiserver's RBAC authorizer allows every write to the kinds of the enabled "
    "integrations (KINDS, with the integrations they imply) and refuses every write to the "
    "others, which stay readable",
    docs=[TENANTS_DOC],
)
@pytest.mark.parametrize("stack_name", STACKS)
def test_tenant_admins_write_only_kinds_kueue_queues(stack_name: str) -> None:
    t = tenancy(stack_name)
    expected = dict(e for a in t.admins for e in _kind_expectations(t, a))
    _check(t, expected)


@journey(
    user="tenant admin",
    stack="dev, staging, prod",
    steps=[
        "creates Services, ConfigMaps, Secrets, PVCs, PDBs and HPAs",
        "tries to change or delete ResourceQuotas, LimitRanges, NetworkPolicies (default-deny), "
        "LocalQueues, Workloads and KEDA objects",
    ],
    outcome="the first are allowed; the second only readable: every write refused",
    docs=[TENANTS_DOC],
)
@pytest.mark.parametrize("stack_name", STACKS)
def test_tenant_admins_operate_services_and_only_read_guardrails(stack_name: str) -> None:
    t = tenancy(stack_name)
    expected: dict[AccessRequest, bool] = {}
    for a in t.admins:
        for ns in t.namespaces[a.tenant]:
            for group, resource in OPERATED:
                for verb in (*READ, *WRITE):
                    expected[a.ask(verb, group, resource, ns)] = True
            for group, resource in GUARDRAILS:
                for verb in (*READ, *WRITE):
                    expected[a.ask(verb, group, resource, ns)] = verb in READ
            netpol = a.ask("delete", "networking.k8s.io", "networkpolicies", ns, "default-deny")
            expected[netpol] = False
    _check(t, expected)


@journey(
    user="tenant admin",
    stack="dev, staging, prod",
    steps=[
        "creates a Role or RoleBinding, edits the tenant-admins RoleBinding",
        "escalates a Role, binds the substrate:tenant-admin ClusterRole, creates ClusterRoles "
        "or ClusterRoleBindings",
    ],
    outcome="every request refused: tenant admins get no RBAC rights",
    docs=[TENANTS_DOC],
)
@pytest.mark.parametrize("stack_name", STACKS)
def test_tenant_admins_get_no_rbac_rights(stack_name: str) -> None:
    t = tenancy(stack_name)
    expected = {
        q: False
        for q in t.answers
        if q.api_group == RBAC_GROUP and q.namespace in ("", *t.namespaces[_tenant_of(t, q)])
    }
    _check(t, expected)


def _tenant_of(t: Tenancy, q: AccessRequest) -> str:
    (tenant,) = {a.tenant for a in t.admins if a.group == q.groups[0]}
    return tenant


@journey(
    user="tenant admin",
    stack="dev, staging, prod",
    steps=["reads, creates, changes or deletes anything in another tenant's namespaces"],
    outcome="every request refused",
    docs=[TENANTS_DOC],
)
@pytest.mark.parametrize("stack_name", STACKS)
def test_tenant_admins_reach_nothing_in_other_tenants_namespaces(stack_name: str) -> None:
    t = tenancy(stack_name)
    expected = {
        q: False for q in t.answers if q.namespace and q.namespace in t.others(_tenant_of(t, q))
    }
    _check(t, expected)


@journey(
    user="tenant admin",
    stack="dev, staging, prod",
    steps=[
        "follows a submitted job: `kubectl -n <namespace> get workloads`, `kubectl get "
        "clusterqueue <tenant>` and watches it; reads ResourceFlavors and Cohorts",
        "gets another tenant's ClusterQueue, lists ClusterQueues, changes its own",
        "creates a namespace or deletes one of its own",
    ],
    outcome="its namespaces' Workloads are listable, its own ClusterQueue readable by name, "
    "ResourceFlavors and Cohorts readable; "
    "other tenants' ClusterQueues, listing them, changing any, and creating or deleting "
    "namespaces are refused",
    docs=[TENANTS_DOC, SUBMITTING_DOC],
)
@pytest.mark.parametrize("stack_name", STACKS)
def test_tenant_admins_read_their_cluster_queue_objects(stack_name: str) -> None:
    t = tenancy(stack_name)
    expected: dict[AccessRequest, bool] = {}
    for a in t.admins:
        for q in _cluster_questions(t, a):
            if q.resource == "clusterqueues":
                own = q.name == t.cluster_queue[a.tenant]
                expected[q] = own and q.verb in ("get", "watch")
            elif q.resource in ("resourceflavors", "cohorts"):
                expected[q] = True
            elif q.resource == "namespaces":
                expected[q] = False
        for ns in t.namespaces[a.tenant]:
            expected[a.ask("list", "kueue.x-k8s.io", "workloads", ns)] = True
    _check(t, expected)
