"""A tenant's objects: restricted namespaces, backstop quota, container defaults, default-deny
plus DNS, admin bindings reached through access entries, its queues."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
import yaml

from substrate.components.workloads.kueue_integrations import KINDS, effective
from substrate.components.workloads.tenancy import GpuShare, NetworkSpec, Share, TenantSpec
from substrate.components.workloads.tenant import Tenant, TenantArgs
from substrate.components.workloads.tenant_access import TenantAccess
from substrate.components.workloads.tenant_manifests import tenant_admin_rules
from substrate.engines.netpol import Connectivity, Ports, analyze, eks_objects, workload
from substrate.plan.command import PlanResult
from tests.helpers import Resources, run_program

GI = 2**30
RESEARCH = TenantSpec(
    name="ml-research",
    namespaces=("ml-research", "ml-research-eval"),
    admins=("arn:aws:iam::210987654321:role/ml-research-admin",),
    gpu=True,
    tier="training",
    fair_share_weight="2",
    cpu=Share(64),
    memory=Share(256 * GI),
    gpus=(GpuShare("training", Share(16)),),
    network=NetworkSpec(pod_identity_agent=True, https_cidrs=("10.60.0.0/16",)),
)
DATA = TenantSpec(name="data-eng", namespaces=("data-eng",), cpu=Share(8), memory=Share(GI))
HARD = {
    "requests.cpu": "64",
    "requests.memory": "256Gi",
    "limits.memory": "256Gi",
    "requests.nvidia.com/gpu": "16",
}
NO_GPU = {**HARD, "requests.nvidia.com/gpu": "0"}
QUEUED = ["batch/job", "jobset.x-k8s.io/jobset", "pod"]


def _run(tenant: TenantSpec, hard: dict[str, str] | None = None) -> Resources:
    args: TenantArgs = {
        "tenant": tenant,
        "quota_hard": hard or (HARD if tenant.gpu else NO_GPU),
        "gpu_pools": ["training", "inference"],
    }
    return Resources(run_program(lambda: Tenant(f"tenant-{tenant.name}", args)))


def _in(resources: Resources, typ: str, namespace: str) -> list[dict[str, Any]]:
    return [
        r.inputs
        for r in resources.of_type(typ)
        if r.inputs["metadata"].get("namespace") == namespace
    ]


def test_every_namespace_is_restricted_and_labelled_for_admission() -> None:
    resources = _run(RESEARCH)
    namespaces = {
        r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"]
        for r in resources.of_type("kubernetes:core/v1:Namespace")
    }
    assert sorted(namespaces) == ["ml-research", "ml-research-eval"]
    for labels in namespaces.values():
        for mode in ("enforce", "audit", "warn"):
            assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
        assert labels["substrate.io/tenant"] == "ml-research"
        assert labels["substrate.io/gpu"] == "true"  # the gpu-placement policy reads it
        assert labels["substrate.io/priority-tier"] == "training"
    data = _run(DATA).one("kubernetes:core/v1:Namespace").inputs["metadata"]["labels"]
    assert data["substrate.io/gpu"] == "false"


def test_quota_and_container_defaults_in_every_namespace() -> None:
    resources = _run(RESEARCH)
    for ns in RESEARCH.namespaces:
        (quota,) = _in(resources, "kubernetes:core/v1:ResourceQuota", ns)
        assert quota["spec"]["hard"] == HARD
        (limits,) = _in(resources, "kubernetes:core/v1:LimitRange", ns)
        assert limits["spec"]["limits"] == [
            {
                "type": "Container",
                "defaultRequest": {"cpu": "250m", "memory": "512Mi"},
                "default": {"memory": "512Mi"},
            }
        ]


def _reach(*tenants: TenantSpec) -> Connectivity:
    """The NetworkPolicy analyzer's verdict over the tenants' own objects, CoreDNS and one pod
    (HTTP on 8080) in each of their namespaces."""
    objects = [r.inputs for t in tenants for r in _run(t).records]
    pods = [
        workload("Deployment", ns, "pod", {"app": "pod"}, [{"containerPort": 8080}])
        for t in tenants
        for ns in t.namespaces
    ]
    return analyze([*objects, *eks_objects(), *pods])


NOTHING = Ports(False, ())
DNS = Ports(False, (("TCP", 53, 53), ("UDP", 53, 53)))


def test_default_deny_dns_and_declared_allowances() -> None:
    reach = _reach(RESEARCH, DATA)
    research, evals, data = "ml-research/pod", "ml-research-eval/pod", "data-eng/pod"
    coredns, agent = "kube-system/coredns", "169.254.170.23"
    # Declared: DNS, the tenant's own namespaces, the Pod Identity agent, HTTPS to its CIDR.
    assert reach.reachable_from(research) == {
        coredns: DNS,
        evals: Ports(True, ()),
        f"{agent}-{agent}": Ports(False, (("TCP", 80, 80),)),
        "10.60.0.0-10.60.255.255": Ports(False, (("TCP", 443, 443),)),
    }
    assert reach.reaching(research) == {evals: Ports(True, ())}
    # Nothing declared: DNS only, and nobody reaches its pods but themselves.
    assert reach.reachable_from(data) == {coredns: DNS}
    assert reach.reaching(data) == {}
    assert reach.ports(research, data) == reach.ports(data, research) == NOTHING


def test_within_tenant_traffic_can_be_turned_off() -> None:
    closed = replace(RESEARCH, network=NetworkSpec(within_tenant=False))
    reach = _reach(closed)
    assert reach.ports("ml-research/pod", "ml-research-eval/pod") == NOTHING
    assert reach.reachable_from("ml-research/pod") == {"kube-system/coredns": DNS}
    assert reach.reaching("ml-research/pod") == {}


def test_admins_are_bound_to_the_tenant_admin_role_in_each_namespace() -> None:
    bindings = _run(RESEARCH).of_type("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
    assert sorted(b.inputs["metadata"]["namespace"] for b in bindings) == sorted(
        RESEARCH.namespaces
    )
    for binding in bindings:
        assert binding.inputs["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "substrate:tenant-admin",
        }
        assert binding.inputs["subjects"] == [
            {
                "kind": "Group",
                "name": "substrate:tenant:ml-research:admins",
                "apiGroup": "rbac.authorization.k8s.io",
            }
        ]
    assert _run(DATA).of_type("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding") == []


def test_queues_local_in_each_namespace_cluster_wide_per_tenant() -> None:
    resources = _run(RESEARCH)
    queue = resources.one("kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue").inputs
    assert queue["metadata"]["name"] == "ml-research"
    assert queue["spec"]["fairSharing"] == {"weight": "2"}
    locals_ = resources.of_type("kubernetes:kueue.x-k8s.io/v1beta2:LocalQueue")
    assert {
        (
            q.inputs["metadata"]["namespace"],
            q.inputs["metadata"]["name"],
            q.inputs["spec"]["clusterQueue"],
        )
        for q in locals_
    } == {
        ("ml-research", "ml-research", "ml-research"),
        ("ml-research", "default", "ml-research"),
        ("ml-research-eval", "ml-research", "ml-research"),
        ("ml-research-eval", "default", "ml-research"),
    }
    named_default = replace(DATA, name="default", namespaces=("batch",))
    only = _run(named_default, NO_GPU).of_type("kubernetes:kueue.x-k8s.io/v1beta2:LocalQueue")
    assert [q.inputs["metadata"]["name"] for q in only] == ["default"]


@pytest.mark.parametrize(
    ("tenant", "hard", "message"),
    [
        (
            TenantSpec(
                name="data-eng", namespaces=("data-eng",), gpus=(GpuShare("training", Share(1)),)
            ),
            NO_GPU,
            "TenantArgs.tenant.gpus: tenant 'data-eng' has GPU quota but no GPU rights",
        ),
        (DATA, HARD, "TenantArgs.quota_hard: tenant 'data-eng' has no GPU rights"),
        (
            TenantSpec(name="x", namespaces=("x",), gpu=True, gpus=(GpuShare("h100", Share(1)),)),
            HARD,
            "TenantArgs.tenant.gpus: pools ['h100'] have no ResourceFlavor",
        ),
        (TenantSpec(name="x", namespaces=()), NO_GPU, "TenantArgs.tenant.namespaces"),
        (TenantSpec(name="X", namespaces=("x",)), NO_GPU, "TenantArgs.tenant.name: 'X'"),
    ],
)
def test_invalid_tenants_are_refused(
    tenant: TenantSpec, hard: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        _run(tenant, hard)


def test_access_entries_map_admins_to_tenant_groups_never_masters() -> None:
    admins = {
        "arn:aws:iam::210987654321:role/ml-research-admin": ["substrate:tenant:ml-research:admins"],
        "arn:aws:iam::210987654321:role/platform-oncall": [
            "substrate:tenant:inference:admins",
            "substrate:tenant:agents:admins",
        ],
    }
    resources = Resources(
        run_program(
            lambda: TenantAccess(
                "tenant-access", {"cluster_name": "c", "admins": admins, "integrations": QUEUED}
            )
        )
    )
    entries = {
        e.inputs["principalArn"]: e.inputs
        for e in resources.of_type("aws:eks/accessEntry:AccessEntry")
    }
    assert set(entries) == set(admins)  # one entry per principal
    oncall = entries["arn:aws:iam::210987654321:role/platform-oncall"]
    assert oncall["kubernetesGroups"] == [
        "substrate:tenant:agents:admins",
        "substrate:tenant:inference:admins",
    ]
    assert oncall["type"] == "STANDARD"
    assert resources.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation") == []
    role = resources.one("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole").inputs
    assert role["metadata"]["name"] == "substrate:tenant-admin"
    with pytest.raises(ValueError, match="uses a reserved prefix"):
        run_program(
            lambda: TenantAccess(
                "a",
                {
                    "cluster_name": "c",
                    "admins": {next(iter(admins)): ["system:masters"]},
                    "integrations": QUEUED,
                },
            )
        )


def _writable(integrations: list[str]) -> set[tuple[str, str]]:
    return {
        (group, resource)
        for rule in tenant_admin_rules(integrations)
        if "delete" in rule["verbs"] or "create" in rule["verbs"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }


def test_tenant_admins_cannot_weaken_isolation() -> None:
    """Admins operate workloads but only read quota, limits, network policies, queues and KEDA
    objects, and get no RBAC rights (they cannot grant themselves more)."""
    writes = _writable(QUEUED)
    assert ("batch", "jobs") in writes and ("jobset.x-k8s.io", "jobsets") in writes
    for guarded in (
        ("networking.k8s.io", "networkpolicies"),
        ("", "resourcequotas"),
        ("", "limitranges"),
        ("kueue.x-k8s.io", "localqueues"),
        ("kueue.x-k8s.io", "clusterqueues"),
        ("keda.sh", "triggerauthentications"),
        ("rbac.authorization.k8s.io", "rolebindings"),
        ("", "namespaces"),
    ):
        assert guarded not in writes, guarded
    assert not any(
        "*" in rule["verbs"] or "*" in rule["resources"] for rule in tenant_admin_rules(QUEUED)
    )


def test_tenants_create_only_the_workload_kinds_kueue_queues() -> None:
    """A workload kind whose Kueue integration is off would run unqueued: tenants only read it.
    Integrations that imply the pod integration (deployment) make bare pods creatable."""
    only_jobs = _writable(["batch/job"])
    assert {("batch", "jobs"), ("batch", "cronjobs")} <= only_jobs
    for unqueued in (
        ("", "pods"),
        ("apps", "deployments"),
        ("apps", "deployments/scale"),
        ("apps", "statefulsets"),
        ("apps", "statefulsets/scale"),
        ("jobset.x-k8s.io", "jobsets"),
        ("leaderworkerset.x-k8s.io", "leaderworkersets"),
        ("ray.io", "rayjobs"),
        ("ray.io", "rayclusters"),
        ("ray.io", "rayservices"),
    ):
        assert unqueued not in only_jobs, unqueued
    with_deployments = _writable(["batch/job", "deployment", "ray.io/rayjob"])
    assert {("apps", "deployments"), ("", "pods"), ("ray.io", "rayjobs")} <= with_deployments
    assert ("apps", "statefulsets") not in with_deployments
    assert ("ray.io", "rayclusters") not in with_deployments


def test_the_tenant_admin_role_follows_the_stack_integrations(any_plan: PlanResult) -> None:
    """The rendered ClusterRole: every workload kind a tenant may create is queued by an
    integration the stack's Kueue Configuration enables (statefulsets are not, in any stack)."""
    (role,) = [
        m
        for m in any_plan.manifests.values()
        if m["kind"] == "ClusterRole" and m["metadata"]["name"] == "substrate:tenant-admin"
    ]
    (release,) = [r for r in any_plan.releases if r["name"] == "kueue"]
    config = yaml.safe_load(release["values"]["managerConfig"]["controllerManagerConfigYaml"])
    queued = effective(tuple(config["integrations"]["frameworks"]))
    creatable = {
        (group, resource)
        for rule in role["rules"]
        if "create" in rule["verbs"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    for integration, (group, resources) in KINDS.items():
        for resource in resources:
            assert ((group, resource) in creatable) == (integration in queued), resource
    assert ("apps", "statefulsets") not in creatable
