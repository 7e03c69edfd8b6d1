"""What the stacks' plans declare for tenants, Kueue and KEDA (session plans, never re-planned).

`substrate plan prod` shows per tenant a namespace with PSA labels, quota, default-deny policy,
LocalQueue and ClusterQueue; Kueue flavors match the GPU pools' labels and taints; every Kueue
custom resource is valid against the v0.19.2 CRDs; nominal GPU quota fits each pool.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from substrate.components.workloads.tenancy import quantity
from substrate.config.workload_checks import ADDON_NAMESPACES, platform_namespaces
from substrate.plan.command import PlanResult
from tests.crds import validation_errors
from tests.helpers import Resources, stack_yaml, typed_config

KUEUE_GROUP = "kueue.x-k8s.io/"


def _kind(plan: PlanResult, kind: str, group: str = "") -> list[dict[str, Any]]:
    return [
        m
        for m in plan.manifests.values()
        if m["kind"] == kind and m["apiVersion"].startswith(group)
    ]


def _in(plan: PlanResult, kind: str, namespace: str) -> list[dict[str, Any]]:
    return [m for m in _kind(plan, kind) if m["metadata"].get("namespace") == namespace]


def _release(plan: PlanResult, chart: str) -> dict[str, Any]:
    (release,) = [r for r in plan.releases if r["chart"].rsplit("/", 1)[-1] == chart]
    return release


@pytest.mark.crds
def test_every_kueue_custom_resource_matches_the_stored_crd_version(
    any_plan: PlanResult, crds: Path
) -> None:
    kueue = [m for m in any_plan.manifests.values() if m["apiVersion"].startswith(KUEUE_GROUP)]
    kinds = {m["kind"] for m in kueue}
    assert kinds == {"ResourceFlavor", "WorkloadPriorityClass", "ClusterQueue", "LocalQueue"}
    for manifest in kueue:
        assert manifest["apiVersion"] == "kueue.x-k8s.io/v1beta2"  # what v0.19.2 stores
        assert validation_errors(crds, manifest) == [], manifest["metadata"]["name"]


def test_prod_shows_every_tenant_with_its_namespaces_quota_policies_and_queues(
    prod_plan: PlanResult,
) -> None:
    cfg = typed_config(stack_yaml("prod"))
    queues = {m["metadata"]["name"]: m for m in _kind(prod_plan, "ClusterQueue")}
    # ... and the agent simulation namespace's own queue (docs/agents.md#agent-simulation)
    assert cfg.agent_simulation is not None
    assert queues.pop(cfg.agent_simulation.namespace)["spec"].get("cohortName") is None
    assert set(queues) == set(cfg.tenants) == {"inference", "ml-research", "data-eng", "agents"}
    namespaces = {m["metadata"]["name"]: m for m in _kind(prod_plan, "Namespace")}
    for name, tenant in cfg.tenants.items():
        for ns in tenant.namespaces:
            labels = namespaces[ns]["metadata"]["labels"]
            assert {
                labels[f"pod-security.kubernetes.io/{m}"] for m in ("enforce", "audit", "warn")
            } == {"restricted"}
            assert labels["substrate.io/tenant"] == name
            assert labels["substrate.io/gpu"] == ("true" if tenant.gpu else "false")
            quotas = {q["metadata"]["name"] for q in _in(prod_plan, "ResourceQuota", ns)}
            # agent-memory: the agents' storage quota (docs/agents.md#the-memory-bound)
            assert quotas - {"agent-memory"} == {"tenant-quota"}
            assert len(_in(prod_plan, "LimitRange", ns)) == 1
            policies = {p["metadata"]["name"] for p in _in(prod_plan, "NetworkPolicy", ns)}
            assert {"default-deny", "allow-dns"} <= policies
            locals_ = {q["metadata"]["name"]: q["spec"] for q in _in(prod_plan, "LocalQueue", ns)}
            assert locals_ == {name: {"clusterQueue": name}, "default": {"clusterQueue": name}}
        assert queues[name]["spec"]["cohortName"] == "substrate"


def test_flavors_match_the_gpu_pools_labels_and_taints(any_plan: PlanResult) -> None:
    pools = {
        p["metadata"]["name"]: p
        for p in _kind(any_plan, "NodePool")
        if any(
            t["key"] == "nvidia.com/gpu" for t in p["spec"]["template"]["spec"].get("taints", [])
        )
    }
    flavors = {f["metadata"]["name"]: f for f in _kind(any_plan, "ResourceFlavor")}
    assert set(flavors) == {"default", *pools}
    assert flavors["default"]["spec"] == {}
    for name, pool in pools.items():
        template = pool["spec"]["template"]
        spec = flavors[name]["spec"]
        assert spec["nodeLabels"] == template["metadata"]["labels"]
        tolerated = {(t["key"], t["value"], t["effect"]) for t in spec["tolerations"]}
        tainted = {(t["key"], t["value"], t["effect"]) for t in template["spec"]["taints"]}
        assert tolerated == tainted
        assert all(t["operator"] == "Equal" for t in spec["tolerations"])


def test_nominal_gpu_quota_fits_every_pool(any_plan: PlanResult) -> None:
    limits = {
        p["metadata"]["name"]: int(p["spec"]["limits"]["nvidia.com/gpu"])
        for p in _kind(any_plan, "NodePool")
        if "nvidia.com/gpu" in p["spec"]["limits"]
    }
    nominal: dict[str, float] = defaultdict(float)
    for queue in _kind(any_plan, "ClusterQueue"):
        for group in queue["spec"]["resourceGroups"]:
            for flavor in group["flavors"]:
                for res in flavor["resources"]:
                    if res["name"] == "nvidia.com/gpu":
                        nominal[flavor["name"]] += float(quantity(res["nominalQuota"]))
    assert nominal and set(nominal) <= set(limits)
    for flavor, total in nominal.items():
        assert total <= limits[flavor], flavor


def test_tenants_without_gpu_rights_get_no_gpus_anywhere(any_plan: PlanResult) -> None:
    for ns in _kind(any_plan, "Namespace"):
        labels = ns["metadata"].get("labels", {})
        if labels.get("substrate.io/gpu") != "false":
            continue
        quotas = _in(any_plan, "ResourceQuota", ns["metadata"]["name"])
        assert quotas, ns["metadata"]["name"]
        for quota in quotas:  # the tenant's quota, and the agents' storage quota where they run
            assert quota["spec"]["hard"]["requests.nvidia.com/gpu"] == "0"
        (queue,) = [
            q
            for q in _kind(any_plan, "ClusterQueue")
            if q["metadata"]["name"] == labels["substrate.io/tenant"]
        ]
        covered = {r for g in queue["spec"]["resourceGroups"] for r in g["coveredResources"]}
        assert covered == {"cpu", "memory"}


def test_fair_share_weights_and_tiers_come_from_the_stack(prod_plan: PlanResult) -> None:
    queues = {
        q["metadata"]["name"]: q
        for q in _kind(prod_plan, "ClusterQueue")
        if q["spec"].get("cohortName")  # the agent simulation queue shares with nobody
    }
    assert {n: q["spec"]["fairSharing"]["weight"] for n, q in queues.items()} == {
        "inference": "2",
        "ml-research": "2",
        "data-eng": "1",
        "agents": "1",
    }
    tiers = {p["metadata"]["name"]: p["value"] for p in _kind(prod_plan, "WorkloadPriorityClass")}
    assert tiers["inference-critical"] > tiers["training"] > tiers["batch"] > tiers["preemptible"]
    assert queues["inference"]["metadata"]["labels"]["substrate.io/priority-tier"] == (
        "inference-critical"
    )


def test_kueue_and_keda_run_where_observability_scrapes_them(any_plan: PlanResult) -> None:
    monitors = {
        m["metadata"]["name"]: m
        for m in any_plan.manifests.values()
        if m["kind"] in ("ServiceMonitor", "PodMonitor")
    }
    kueue, keda = _release(any_plan, "kueue"), _release(any_plan, "keda")
    assert monitors["kueue"]["spec"]["namespaceSelector"] == {"matchNames": [kueue["namespace"]]}
    assert (
        monitors["kueue"]["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"]
        == (kueue["name"])
    )
    assert monitors["keda-operator"]["spec"]["namespaceSelector"] == {
        "matchNames": [keda["namespace"]]
    }
    assert keda["values"]["prometheus"]["operator"]["enabled"] is True


def test_tenants_get_spiffe_registrations(any_plan: PlanResult) -> None:
    ids = {
        m["metadata"]["name"]: m["spec"]
        for m in _kind(any_plan, "ClusterSPIFFEID")
        if m["metadata"]["name"].startswith("tenant-")
    }
    namespaces = defaultdict(list)
    sim = typed_config(stack_yaml(any_plan.stack)).agent_simulation
    for ns in _kind(any_plan, "Namespace"):
        tenant = ns["metadata"].get("labels", {}).get("substrate.io/tenant")
        # The agent simulation namespace is labelled with its own name and gets no SVIDs.
        if tenant and (sim is None or tenant != sim.namespace):
            namespaces[f"tenant-{tenant}"].append(ns["metadata"]["name"])
    assert set(ids) == set(namespaces)
    for name, spec in ids.items():
        (expr,) = spec["namespaceSelector"]["matchExpressions"]
        assert expr["values"] == sorted(namespaces[name])


def test_platform_controllers_are_on_system_nodes_and_out_of_admission(
    any_plan: PlanResult,
) -> None:
    kyverno = _release(any_plan, "kyverno")["values"]["config"]["webhooks"]["namespaceSelector"]
    excluded = set(kyverno["matchExpressions"][0]["values"])
    tenant_ns = {
        n["metadata"]["name"]
        for n in _kind(any_plan, "Namespace")
        if "substrate.io/tenant" in n["metadata"].get("labels", {})
    }
    for chart in ("kueue", "keda", "jobset"):
        release = _release(any_plan, chart)
        assert release["namespace"] in excluded
    assert not tenant_ns & excluded
    assert (
        _release(any_plan, "kueue")["values"]["controllerManager"]["nodeSelector"][
            "substrate.io/pool"
        ]
        == "system"
    )


def test_reserved_namespace_list_covers_every_addon_namespace(any_plan: PlanResult) -> None:
    """The config check that keeps tenants out of platform namespaces knows them all."""
    cfg = typed_config(stack_yaml(any_plan.stack))
    reserved = set(platform_namespaces(cfg))
    created = {
        n["metadata"]["name"]
        for n in _kind(any_plan, "Namespace")
        if "substrate.io/tenant" not in n["metadata"].get("labels", {})
    }
    assert created <= reserved
    assert set(ADDON_NAMESPACES) <= reserved


def test_tenant_admins_reach_only_their_namespaces(prod_plan: PlanResult) -> None:
    entries = [r for r in prod_plan.records if r.type == "aws:eks/accessEntry:AccessEntry"]
    tenant_entries = [e for e in entries if e.inputs.get("kubernetesGroups")]
    assert len(tenant_entries) == 4
    principals = [e.inputs["principalArn"] for e in entries]
    assert len(principals) == len(set(principals))  # one access entry per principal
    for entry in tenant_entries:
        (group,) = entry.inputs["kubernetesGroups"]
        assert group.startswith("substrate:tenant:") and group.endswith(":admins")
    bindings = _kind(prod_plan, "RoleBinding")
    assert {b["metadata"]["namespace"] for b in bindings} == {
        "inference",
        "ml-research",
        "ml-research-eval",
        "data-eng",
        "agents",
        "agent-sim",  # the agents tenant's admins run simulations there (Role agent-simulation)
    }
    # Cluster-wide, a tenant's admins only read its own queue objects
    # (tests/components/test_tenant_queue_reader.py).
    for binding in _kind(prod_plan, "ClusterRoleBinding"):
        tenant = binding["metadata"]["name"].removeprefix("substrate:tenant-queues:")
        assert binding["roleRef"]["name"] == f"substrate:tenant-queues:{tenant}"
        assert [s["name"] for s in binding["subjects"]] == [f"substrate:tenant:{tenant}:admins"]


def test_kueue_objects_wait_for_the_release_that_installs_their_crds(prod_plan: PlanResult) -> None:
    """Every Kueue CR is created after the release installing its CRD; Kueue after the
    operators whose CRDs its integrations watch; ClusterQueues after the flavors they name."""
    resources = Resources(prod_plan.records)
    by_name = {r.name: r for r in prod_plan.records}
    kueue = by_name["kueue-release"].urn
    crs = [r for r in prod_plan.records if r.type.startswith("kubernetes:kueue.x-k8s.io/v1beta2:")]
    assert len(crs) > 10
    for record in crs:
        assert resources.waits_for(record, kueue), record.name
    for chart in ("jobset", "lws", "kuberay-operator"):
        assert resources.waits_for(by_name["kueue-release"], by_name[f"{chart}-release"].urn)
    for flavor in (r for r in crs if r.type.endswith(":ResourceFlavor")):
        assert resources.waits_for(by_name["tenant-ml-research-cluster-queue"], flavor.urn)
