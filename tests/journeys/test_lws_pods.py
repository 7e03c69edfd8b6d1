"""A GPU LeaderWorkerSet, down to the pods LWS and the StatefulSet controller create.

The API server (apiserver engine) creates the tenant's LeaderWorkerSet (Kueue's webhook labels
and annotates its pod templates) and Kyverno judges it. LWS's own code (workload-pods engine)
builds what its controller makes of the stored object: the leader StatefulSet, its pods as the
StatefulSet controller creates them through LWS's pod webhook, each group's worker StatefulSet
and its pods. The API server creates the StatefulSets as LWS's service account and the pods as
the StatefulSet controller (Pod Security, the tenant's ResourceQuota, Kueue's pod webhook gates
them); Kueue admits each group's Workload and ungates the pods with the flavor's node labels and
tolerations; Kyverno judges every object as its creator, and Kueue's ungating update.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from substrate.check.chain import requester, submittable
from substrate.components.workloads.kueue_integrations import LWS
from substrate.components.workloads.tenancy import format_bytes, quantity
from substrate.engines import apiserver, kueue
from substrate.engines.workload_pods import derive, operator_account
from tests.helpers import ROOT, stack_yaml, typed_config
from tests.journeys.cluster import (
    Object,
    Stack,
    denied,
    docs_yaml,
    judged_by,
    stack,
    tenant_engineer,
)
from tests.journeys.journey import journey
from tests.journeys.test_operator_pods import (
    DOC,
    GPU,
    TENANT,
    create_owned,
    operator,
    queues,
    stacks_with,
    training_template,
)

INTEGRATION = "leaderworkerset.x-k8s.io/leaderworkerset"
SET_NAME = "leaderworkerset.sigs.k8s.io/name"
NAME, SIZE = "serve", 2
REVISION = "controller-revision-hash"
PREBUILT = "kueue.x-k8s.io/prebuilt-workload-name"
GATE = "kueue.x-k8s.io/admission"
SECTION = "JobSets, RayJobs and LeaderWorkerSets, down to their pods"
PDB_POLICY = "substrate-statefulset-pdb"


def group_pod(s: Stack) -> Object:
    """The documented training pod as a long-running group member: restartPolicy Always (what
    a StatefulSet requires) and the tenant's queue-sized pod shared by the group's pods."""
    template = training_template(s)
    template["spec"]["restartPolicy"] = "Always"
    resources = template["spec"]["containers"][0]["resources"]
    for key, value in resources["requests"].items():
        share = int(quantity(value) / SIZE)
        resources["requests"][key] = format_bytes(share) if key == "memory" else str(share)
    resources["limits"] = {k: resources["requests"][k] for k in resources["limits"]}
    assert Decimal(resources["requests"][GPU]) >= 1
    return template


def gpu_lws(s: Stack) -> Object:
    return {
        "apiVersion": "leaderworkerset.x-k8s.io/v1",
        "kind": "LeaderWorkerSet",
        "metadata": {
            "name": NAME,
            "namespace": TENANT,
            "labels": {"kueue.x-k8s.io/queue-name": TENANT},
        },
        "spec": {
            "replicas": 1,
            # What LWS's defaulting webhook sets, which the apiserver engine does not run.
            "rolloutStrategy": {
                "type": "RollingUpdate",
                "rollingUpdateConfiguration": {"maxUnavailable": 1, "maxSurge": 0},
            },
            "leaderWorkerTemplate": {"size": SIZE, "workerTemplate": group_pod(s)},
        },
    }


def group_pdb() -> Object:
    """The PodDisruptionBudget the docs have tenants create before a LeaderWorkerSet (what
    substrate-statefulset-pdb asks of LWS's StatefulSets)."""
    (pdb,) = docs_yaml("workloads.md", SECTION)
    assert pdb["kind"] == "PodDisruptionBudget" and pdb["metadata"]["name"] == NAME
    return pdb


def platform_pdbs(s: Stack) -> list[Object]:
    """The PodDisruptionBudgets the stack itself creates (none in the tenant's namespace): what
    `resource.List` finds in the cluster before the tenant creates one."""
    pdbs = s.objects("PodDisruptionBudget")
    assert pdbs and all(p["metadata"]["namespace"] != TENANT for p in pdbs)
    return pdbs


def enforcing(names: list[str]) -> list[str]:
    """The stacks among ``names`` whose stack file sets admission to Enforce (each journey then
    checks that the planned policy denies)."""
    return [n for n in names if typed_config(stack_yaml(n)).admission.mode == "Enforce"]


def enforced(s: Stack) -> bool:
    """Whether the planned substrate-statefulset-pdb refuses (Deny) rather than reports."""
    (policy,) = [p for p in s.context.policies if p["metadata"]["name"] == PDB_POLICY]
    return "Deny" in policy["spec"]["validationActions"]


def docs_block(language: str) -> str:
    """The one ``language`` code block of the docs section."""
    text = (ROOT / "docs" / "workloads.md").read_text()
    section = text.split(f"## {SECTION}\n", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)
    return block


def names(objects: list[Any]) -> list[str]:
    return [o["metadata"]["name"] for o in objects]


def assert_stateful_sets(
    s: Stack, run: apiserver.ApiServerRun, lws_sa: dict[str, Any], pdb: Object
) -> None:
    """LWS's StatefulSets are created as its service account; Kyverno admits them once the
    tenant's PodDisruptionBudget selects their pods, and refuses them without it."""
    sets = []
    for made in run.results:
        assert made.created and made.admitted is not None, made.errors
        assert made.username == lws_sa["username"]
        sets.append(made.admitted)
    with_pdb = s.admit(sets, lws_sa, cluster=[*platform_pdbs(s), pdb])
    without = s.admit(sets, lws_sa, cluster=platform_pdbs(s))
    for made in run.results:
        assert denied(with_pdb, made.name) == {}, made.name
        assert set(denied(without, made.name)) == {PDB_POLICY}, made.name


def assert_pods_created(s: Stack, run: apiserver.ApiServerRun, creator: dict[str, Any]) -> None:
    """Each pod passes Pod Security and the tenant's quota, waits behind Kueue's gate with
    LWS's group labels, and Kyverno admits it as the StatefulSet controller created it."""
    verdicts = s.admit([pod.admitted or {} for pod in run.results], creator)
    for pod in run.results:
        assert pod.created and pod.admitted is not None, (pod.refused_by, pod.errors)
        assert pod.pod_security is not None and pod.pod_security.enforce.allowed
        assert GATE in [g["name"] for g in pod.admitted["spec"].get("schedulingGates", [])]
        labels = pod.admitted["metadata"]["labels"]
        assert labels["leaderworkerset.sigs.k8s.io/group-index"] == "0"
        env = {e["name"] for c in pod.admitted["spec"]["containers"] for e in c.get("env", [])}
        assert {"LWS_LEADER_ADDRESS", "LWS_GROUP_SIZE", "LWS_WORKER_INDEX"} <= env
        assert denied(verdicts, pod.name) == {}, pod.name
        assert "substrate-gpu-placement" in judged_by(verdicts, pod.name)


def assert_ungated_on_flavor(
    s: Stack, placed: kueue.StepResult, pods: list[str], creator: dict[str, Any]
) -> None:
    """Kueue admits the group's Workload on one of the tenant's GPU flavors and ungates every
    pod with that flavor's node labels and tolerations; Kyverno admits Kueue's update, and the
    pods as placed pass gpu-placement."""
    kueue_sa = operator_account(s.context.network, "kueue-system")
    ungated = [dict(placed.object("Pod", n)) for n in pods]
    (group,) = {p["metadata"]["annotations"][PREBUILT] for p in ungated}
    (workload,) = [w for w in placed.workloads if w.name == group]
    assert workload.admitted, workload.pending_message
    (flavor_name,) = {ps[GPU] for ps in workload.flavors().values() if GPU in ps}
    assert flavor_name in s.config.tenants[TENANT].gpus
    flavor = s.one("ResourceFlavor", flavor_name)["spec"]
    for pod in ungated:
        spec = pod["spec"]
        assert not spec.get("schedulingGates"), pod["metadata"]["name"]
        assert flavor.get("nodeLabels", {}).items() <= spec.get("nodeSelector", {}).items()
        assert all(t in spec.get("tolerations", []) for t in flavor.get("tolerations", []))
    update = s.admit(ungated, kueue_sa, operation="UPDATE")
    # gpu-placement judges pods at CREATE only: the pods as Kueue placed them pass it.
    as_placed = s.admit(ungated, creator)
    for name in pods:
        assert denied(update, name) == {} and denied(as_placed, name) == {}, name
        assert "substrate-gpu-placement" in judged_by(as_placed, name)


@journey(
    user="ML engineer of tenant ml-research",
    stack="every stack with the leaderworkerset.x-k8s.io/leaderworkerset integration",
    steps=[
        "create a PodDisruptionBudget selecting the LeaderWorkerSet's pods (maxUnavailable 1)",
        "submit a LeaderWorkerSet of one group of two GPU pods, each the documented training pod "
        "(queue label, no toleration) sharing the tenant's queue-sized pod",
        "LWS's controller creates the leader StatefulSet; the StatefulSet controller creates the "
        "leader pod through LWS's pod webhook; LWS creates the group's worker StatefulSet and "
        "the StatefulSet controller its worker pod (LWS's and Kubernetes' own code)",
        "Kueue admits the group's Workload and ungates its pods",
    ],
    outcome="Kyverno admits the LeaderWorkerSet (substrate-statefulset-pdb finds its "
    "PodDisruptionBudget), both StatefulSets (created as LWS's service "
    "account from its chart; without the PodDisruptionBudget substrate-statefulset-pdb refuses "
    "them) and both pods (created as the StatefulSet controller, gated, "
    "passing Pod Security and the tenant's quota); Kueue admits the group on one of the "
    "tenant's GPU flavors and ungates both pods with that pool's node labels and GPU "
    "toleration, and Kyverno admits that update",
    docs=[DOC],
)
@pytest.mark.parametrize("name", stacks_with(INTEGRATION))
def test_a_gpu_leaderworkerset_runs_down_to_its_pods(name: str) -> None:
    s = stack(name)
    queues(s, INTEGRATION)
    engineer, lws_sa = tenant_engineer(TENANT), operator(s, LWS)
    pdb, created = s.create([group_pdb(), gpu_lws(s)], engineer).results
    assert pdb.created and pdb.admitted is not None, pdb.errors
    assert created.created and created.admitted is not None, created.errors
    stored = dict(created.admitted)
    verdicts = s.admit([pdb.admitted, stored], engineer, cluster=[*platform_pdbs(s), pdb.admitted])
    assert denied(verdicts, NAME) == {} and PDB_POLICY in judged_by(verdicts, NAME)

    (derived,) = derive([stored])
    sets, pods = derived.of_kind("StatefulSet"), derived.of_kind("Pod")
    assert names(sets) == [NAME, f"{NAME}-0"] and names(pods) == [f"{NAME}-0", f"{NAME}-0-1"]
    made = create_owned(s, sets, lws_sa, stored, *pods)
    assert_stateful_sets(s, made, lws_sa, dict(pdb.admitted))
    # The apiserver engine's StatefulSet controller makes the same pods of the stored sets.
    by_controller = [p for r in made.results for p in r.descendants("Pod")]
    assert {p.name: (p.admitted or {})["metadata"]["labels"][REVISION] for p in by_controller} == {
        p["metadata"]["name"]: p["metadata"]["labels"][REVISION] for p in pods
    }
    creator = requester(by_controller[0])
    run = create_owned(s, pods, creator, stored, *sets)
    assert_pods_created(s, run, creator)

    _, placed = s.queue(
        [
            kueue.Step("submit the LeaderWorkerSet", submit=[submittable(stored)]),
            kueue.Step(
                "LWS and the StatefulSet controller create its StatefulSets and pods",
                submit=[*(submittable(p.admitted or {}) for p in run.results), *sets],
            ),
        ]
    )
    assert_ungated_on_flavor(s, placed, names(pods), creator)


@journey(
    user="ML engineer of tenant ml-research",
    stack="every stack with the leaderworkerset.x-k8s.io/leaderworkerset integration whose "
    "admission mode is Enforce",
    steps=[
        "submit the LeaderWorkerSet of one group of two GPU pods without creating its "
        "PodDisruptionBudget first",
        "submit it again with a PodDisruptionBudget that selects only the leader pods",
    ],
    outcome="substrate-statefulset-pdb fails the LeaderWorkerSet itself, as stored, with a "
    "message naming the PodDisruptionBudget to create (selecting leaderworkerset.sigs.k8s.io/"
    "name: serve, maxUnavailable: 1); the planned policy denies, so the tenant's CREATE is "
    "refused, instead of an accepted LeaderWorkerSet whose StatefulSets "
    "Kyverno refuses to LWS's controller; the StatefulSets LWS builds of it are refused too. "
    "With the leader-only PodDisruptionBudget it is refused for the group's worker StatefulSet",
    docs=[DOC],
)
@pytest.mark.parametrize("name", enforcing(stacks_with(INTEGRATION)))
def test_a_leaderworkerset_without_a_pdb_is_refused_at_submission(name: str) -> None:
    s = stack(name)
    queues(s, INTEGRATION)
    (created,) = s.create([gpu_lws(s)], tenant_engineer(TENANT)).results
    assert created.created and created.admitted is not None, created.errors
    stored = dict(created.admitted)
    (derived,) = derive([stored])
    sets = derived.of_kind("StatefulSet")
    leader_only = {
        **group_pdb(),
        "spec": {
            "maxUnavailable": 1,
            "selector": {
                "matchLabels": {SET_NAME: NAME, "leaderworkerset.sigs.k8s.io/worker-index": "0"}
            },
        },
    }
    without = s.admit([stored], tenant_engineer(TENANT), cluster=platform_pdbs(s))
    leaders = s.admit([stored], tenant_engineer(TENANT), cluster=[*platform_pdbs(s), leader_only])
    refused = denied(without, NAME)
    assert set(refused) == {PDB_POLICY}, refused
    assert refused[PDB_POLICY] == " ".join(docs_block("text").split())
    assert denied(leaders, NAME) == {
        PDB_POLICY: f"no PodDisruptionBudget in namespace {TENANT} selects the pods of the worker "
        f"StatefulSet of group 0 of LeaderWorkerSet {NAME}; create first a PodDisruptionBudget "
        f"selecting {SET_NAME}: {NAME} (a label LWS puts on every pod of it) with maxUnavailable: 1"
    }
    # The PodDisruptionBudget the docs show is the one the message names.
    pdb = group_pdb()
    assert pdb["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": {SET_NAME: NAME}}}
    # Never stricter than the StatefulSet rule: LWS's own StatefulSets are refused as well
    # (the worker StatefulSet only, under the leader-only PodDisruptionBudget).
    lws_sa = operator(s, LWS)
    made = s.admit(sets, lws_sa, cluster=platform_pdbs(s))
    assert all(set(denied(made, n)) == {PDB_POLICY} for n in names(sets)), made
    made = s.admit(sets, lws_sa, cluster=[*platform_pdbs(s), leader_only])
    assert [set(denied(made, n)) for n in names(sets)] == [set(), {PDB_POLICY}], made
    assert enforced(s), f"{name}: the planned substrate-statefulset-pdb only audits"
