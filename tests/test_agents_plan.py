"""What the stacks' plans declare for agents (session plans, never re-planned): the StatefulSet
shape, its Service, PDB and ordering, KEDA and SPIFFE objects valid against their CRDs. What
each agent's Bedrock role lets it call is judged by the IAM evaluator in
tests/journeys/test_bedrock_access.py; the agents' alerts are unit-tested by promtool in
tests/rules/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from substrate.components.workloads.tenancy import memory_bytes
from substrate.config.agent_checks import AGENT_ROLE
from substrate.plan.command import PlanResult
from tests.conftest import planned
from tests.crds import validation_errors
from tests.helpers import Resources, policy_json, stack_yaml, typed_config

STS = "kubernetes:apps/v1:StatefulSet"


def _objects(plan: PlanResult, kind: str, namespace: str | None = None) -> dict[str, Any]:
    return {
        m["metadata"]["name"]: m
        for m in plan.manifests.values()
        if m["kind"] == kind and (namespace is None or m["metadata"].get("namespace") == namespace)
    }


def _pod(sts: dict[str, Any]) -> dict[str, Any]:
    return sts["spec"]["template"]["spec"]


def test_prod_agents_are_statefulsets_on_nvme_fast_with_retained_memory(
    prod_plan: PlanResult,
) -> None:
    cfg = typed_config(stack_yaml("prod"))
    sets = _objects(prod_plan, "StatefulSet", "agents")
    services = {n: a for n, a in cfg.agents.items() if a.mode == "service"}
    assert set(sets) == set(services) == {"support", "research"}
    for name, agent in services.items():
        spec = sets[name]["spec"]
        (claim,) = spec["volumeClaimTemplates"]
        assert claim["metadata"]["name"] == "memory"
        assert claim["spec"]["storageClassName"] == "nvme-fast"
        assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
        assert claim["spec"]["resources"]["requests"]["storage"] == agent.memory_volume.size
        assert spec["persistentVolumeClaimRetentionPolicy"] == {
            "whenDeleted": "Retain",
            "whenScaled": "Retain",
        }
        # KEDA owns the count of scaled agents: the StatefulSet leaves replicas unset.
        assert "replicas" not in spec
        (container,) = _pod(sets[name])["containers"]
        mounts = {v["name"]: v["mountPath"] for v in container["volumeMounts"]}
        assert mounts["memory"] == agent.memory_volume.mount_path
        assert container["resources"] == {
            "requests": {"cpu": agent.cpu, "memory": agent.memory},
            "limits": {"memory": agent.memory},
        }
    assert sets["research"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 1800
    # The StorageClass behind the claims keeps volumes whose claims are deleted by hand.
    assert _objects(prod_plan, "StorageClass")["nvme-fast"]["reclaimPolicy"] == "Retain"


def test_dev_agents_delete_their_memory_and_run_a_fixed_replica(dev_plan: PlanResult) -> None:
    sets = _objects(dev_plan, "StatefulSet", "agents")
    assert sets["support"]["spec"]["replicas"] == 1
    for sts in sets.values():
        assert sts["spec"]["persistentVolumeClaimRetentionPolicy"] == {
            "whenDeleted": "Delete",
            "whenScaled": "Delete",
        }


def test_pods_are_restricted_probed_spread_and_protected(prod_plan: PlanResult) -> None:
    cfg = typed_config(stack_yaml("prod"))
    for name, sts in _objects(prod_plan, "StatefulSet", "agents").items():
        template = sts["spec"]["template"]
        labels, pod = template["metadata"]["labels"], template["spec"]
        assert labels["substrate.io/workload-class"] == "agent"
        assert labels["substrate.io/tenant"] == "agents"
        assert sts["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert template["metadata"]["annotations"]["karpenter.sh/do-not-disrupt"] == "true"
        assert pod["serviceAccountName"] == name
        assert pod["automountServiceAccountToken"] is False
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsUser"] > 0
        (spread,) = pod["topologySpreadConstraints"]
        assert spread["topologyKey"] == "topology.kubernetes.io/zone"
        assert spread["maxSkew"] == 1 and spread["whenUnsatisfiable"] == "DoNotSchedule"
        assert spread["labelSelector"]["matchLabels"] == sts["spec"]["selector"]["matchLabels"]
        (container,) = pod["containers"]
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        }
        probes = cfg.agents[name].probes
        assert container["livenessProbe"]["httpGet"] == {
            "path": probes.liveness.path,
            "port": "http",
        }
        assert container["readinessProbe"]["httpGet"]["path"] == probes.readiness.path
        assert container["startupProbe"]["failureThreshold"] == probes.startup.failure_threshold
        # Writable paths are volumes; the SPIFFE socket comes read-only from the CSI driver.
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["spiffe-workload-api"]["csi"] == {
            "driver": "csi.spiffe.io",
            "readOnly": True,
        }
        assert set(volumes) == {"tmp", "spiffe-workload-api"}  # + the claim template's volume
        env = {e["name"]: e["value"] for e in container["env"]}
        assert env["SPIFFE_ENDPOINT_SOCKET"] == "unix:///spiffe-workload-api/spire-agent.sock"
        assert env["SUBSTRATE_BEDROCK_GUARDRAIL"] == "pr0dguard01x:3"


def test_headless_service_pdb_and_service_account_per_agent(prod_plan: PlanResult) -> None:
    services = _objects(prod_plan, "Service", "agents")
    pdbs = _objects(prod_plan, "PodDisruptionBudget", "agents")
    accounts = _objects(prod_plan, "ServiceAccount", "agents")
    for name, sts in _objects(prod_plan, "StatefulSet", "agents").items():
        service = services[sts["spec"]["serviceName"]]
        assert service["spec"]["clusterIP"] == "None"
        assert service["spec"]["selector"] == sts["spec"]["selector"]["matchLabels"]
        assert pdbs[name]["spec"] == {
            "maxUnavailable": 1,
            "selector": {"matchLabels": sts["spec"]["selector"]["matchLabels"]},
        }
        assert accounts[name]["automountServiceAccountToken"] is False


def test_pdb_exists_before_the_statefulset_and_agents_wait_for_what_they_use(
    prod: Resources,
) -> None:
    sts = prod.one(STS, "agent-support-statefulset")
    assert prod.waits_for(sts, prod.named("agent-support-pdb").urn)
    for dependency in (
        "tenant-agents-agents-namespace",
        "storage-nvme-fast",
        "workload-identity-agent-agents-support",  # its ClusterSPIFFEID
        "admission-policies-statefulset-pdb",  # Kyverno judges it from the first pod on
        "prometheus-crds-release",  # its PrometheusRule
        "keda-release",  # it scales
    ):
        assert prod.waits_for(sts, prod.named(dependency).urn), dependency


@pytest.mark.crds
def test_scaled_objects_and_agent_identities_match_their_crds(
    any_plan: PlanResult, crds: Path
) -> None:
    cfg = typed_config(stack_yaml(any_plan.stack))
    scaled = {n: a for n, a in cfg.agents.items() if a.scaling is not None and a.mode == "service"}
    objects = _objects(any_plan, "ScaledObject", "agents")
    assert set(objects) == set(scaled)
    for name, manifest in objects.items():
        assert validation_errors(crds, manifest) == [], name
        spec, scaling = manifest["spec"], scaled[name].scaling
        assert scaling is not None
        assert spec["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "name": name,
        }
        assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (
            scaling.min_replicas,
            scaling.max_replicas,
        )
        assert ("idleReplicaCount" in spec) is scaling.scale_to_zero
    ids = {n: m for n, m in _objects(any_plan, "ClusterSPIFFEID").items() if n.startswith("agent-")}
    assert set(ids) == {f"agent-{a.tenant}-{n}" for n, a in cfg.agents.items()}
    sets = _objects(any_plan, "StatefulSet", "agents")
    for name, agent in cfg.agents.items():
        manifest = ids[f"agent-{agent.tenant}-{name}"]
        assert validation_errors(crds, manifest) == [], name
        # The ID is pinned to the pods' labels and service account (a task agent's Job pods
        # carry the same labels).
        selector = manifest["spec"]["podSelector"]["matchLabels"]
        if agent.mode == "task":
            template = _objects(any_plan, "ScaledJob", "agents")[name]["spec"]["jobTargetRef"]
            labels = template["template"]["metadata"]["labels"]
            assert selector.items() <= labels.items(), name
        else:
            assert selector == sets[name]["spec"]["selector"]["matchLabels"]
        assert manifest["spec"]["workloadSelectorTemplates"] == [f"k8s:sa:{name}"]


def test_keda_reads_exactly_the_research_queue_in_prod(prod: Resources) -> None:
    doc = policy_json(prod.named("keda-pod-identity-policy"))
    (stmt,) = doc["Statement"]
    assert stmt["Action"] == ["sqs:GetQueueAttributes"]
    assert stmt["Resource"] == [
        "arn:aws:sqs:us-east-1:210987654321:research-tasks",
        "arn:aws:sqs:us-east-1:210987654321:summarizer-tasks",
    ]


def test_scaled_agents_lose_one_replica_per_grace_period_after_a_stable_window(
    prod_plan: PlanResult,
) -> None:
    """The drain contract as KEDA hands it to the HPA: scale-down waits out a window of lower
    demand (600 s, or the period when longer) and removes one replica per
    terminationGraceSeconds (support 300 s, research 1800 s), and support's pods call /drain
    before SIGTERM. What the HPA does with it: tests/journeys/test_agent_scaling.py."""
    scaled = _objects(prod_plan, "ScaledObject", "agents")
    for name, window, period in (("support", 600, 300), ("research", 1800, 1800)):
        advanced = scaled[name]["spec"]["advanced"]["horizontalPodAutoscalerConfig"]
        assert advanced["behavior"]["scaleDown"] == {
            "stabilizationWindowSeconds": window,
            "policies": [{"type": "Pods", "value": 1, "periodSeconds": period}],
        }
    sets = _objects(prod_plan, "StatefulSet", "agents")
    (support,) = _pod(sets["support"])["containers"]
    assert support["lifecycle"] == {"preStop": {"httpGet": {"path": "/drain", "port": "http"}}}
    (research,) = _pod(sets["research"])["containers"]
    assert "lifecycle" not in research


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_the_agents_namespace_quota_fits_exactly_their_claims(stack: str) -> None:
    """Each StorageClass the agents claim holds, in their namespace, their claims of that class at
    their most replicas, no more; a class no agent claims is not held."""
    cfg = typed_config(stack_yaml(stack))
    (quota,) = (_objects(planned(stack), "ResourceQuota", "agents")["agent-memory"]["spec"],)
    sets = _objects(planned(stack), "StatefulSet", "agents")
    jobs = _objects(planned(stack), "ScaledJob", "agents")

    def claimed(name: str) -> str:
        """The class of an agent's memory claims: its claim template, or a task agent's
        ephemeral volume (each Job's pod claims one, up to maxReplicas at once)."""
        if name in jobs:
            pod = jobs[name]["spec"]["jobTargetRef"]["template"]["spec"]
            (memory,) = [v for v in pod["volumes"] if "ephemeral" in v]
            return memory["ephemeral"]["volumeClaimTemplate"]["spec"]["storageClassName"]
        return sets[name]["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"]

    expected: dict[str, str] = {}
    for cls in ("agent-gp3", "nvme-fast"):
        mine = [a for n, a in cfg.agents.items() if claimed(n) == cls]
        if mine:
            total = sum(memory_bytes(a.memory_volume.size) * a.max_replicas for a in mine)
            prefix = f"{cls}.storageclass.storage.k8s.io"
            expected[f"{prefix}/requests.storage"] = str(total)
            expected[f"{prefix}/persistentvolumeclaims"] = str(sum(a.max_replicas for a in mine))
    hard = {k: v for k, v in quota["hard"].items() if "storageclass" in k}
    assert {
        k: str(memory_bytes(v)) if k.endswith("requests.storage") else v for k, v in hard.items()
    } == expected


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_the_config_check_names_the_role_the_plan_declares(stack: str) -> None:
    """The role-name length check measures the name the agent's role really gets."""
    cfg = typed_config(stack_yaml(stack))
    roles = {r.name for r in planned(stack).records if r.type == "aws:iam/role:Role"}
    for name, agent in cfg.agents.items():
        assert (AGENT_ROLE.format(agent=name) in roles) is bool(agent.models), name
