"""Karpenter: controller IAM vs the upstream reference, node role, queue and rules, Helm values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from substrate.components.capacity.interruption_queue import EVENTS
from substrate.components.capacity.karpenter_iam import UPSTREAM_NODE_ROLE_POLICIES
from substrate.components.cluster.node_role import NODE_ROLE_POLICIES
from substrate.engines.iam import Kind, Policies, Policy, Principal, Request, evaluate
from substrate.plan.command import PlanResult
from tests.helpers import Resources, policy_json
from tests.upstream import as_list, load_template, managed_policy_statements, substitute

CLUSTER = "substrate-prod"
REGION = "us-east-1"
ACCOUNT = "123456789012"


def _controller_policy(prod: Resources) -> dict[str, Any]:
    return policy_json(prod.named("karpenter-pod-identity-policy"))


def _node_role(prod: Resources) -> str:
    """The node role's physical name (pulumi-aws auto-names it)."""
    return str(prod.named("karpenter-node-role").inputs["name"])


def _scope(prod: Resources) -> dict[str, str]:
    queue_name = f"{CLUSTER}-karpenter"
    return {
        "AWS::Partition": "aws",
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::URLSuffix": "amazonaws.com",
        "ClusterName": CLUSTER,
        "KarpenterNodeRole.Arn": f"arn:aws:iam::{ACCOUNT}:role/{_node_role(prod)}",
        "KarpenterInterruptionQueue.Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue_name}",
    }


def _upstream(crds: Path, prod: Resources) -> dict[str, dict[str, Any]]:
    policies = managed_policy_statements(load_template(crds), _scope(prod))
    return {s["Sid"]: s for statements in policies.values() for s in statements}


def test_controller_is_granted_every_upstream_statement_as_scoped_upstream(
    crds: Path, prod: Resources
) -> None:
    ours = {s["Sid"]: s for s in _controller_policy(prod)["Statement"]}
    upstream = _upstream(crds, prod)
    assert len(upstream) == 18  # six managed policies
    for sid, theirs in upstream.items():
        mine = ours[sid]
        assert set(as_list(mine["Action"])) == set(as_list(theirs["Action"])), sid
        assert as_list(mine["Resource"]) == as_list(theirs["Resource"]), sid
        assert mine.get("Condition") == theirs.get("Condition"), sid
        assert mine["Effect"] == theirs["Effect"] == "Allow"


def test_controller_actions_are_upstreams_plus_only_the_volume_key(
    crds: Path, prod: Resources
) -> None:
    ours = {a for s in _controller_policy(prod)["Statement"] for a in as_list(s["Action"])}
    theirs = {a for s in _upstream(crds, prod).values() for a in as_list(s["Action"])}
    assert ours - theirs == {
        "kms:CreateGrant",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
    }
    assert theirs <= ours


def test_volume_key_use_is_limited_to_ec2_calls_in_this_account(prod: Resources) -> None:
    key_arn = prod.named("storage-gp3").inputs["parameters"]["kmsKeyId"]
    kms = [s for s in _controller_policy(prod)["Statement"] if s["Sid"].startswith("AllowEbs")]
    assert {s["Resource"] for s in kms} == {key_arn}
    via = {"kms:ViaService": f"ec2.{REGION}.amazonaws.com", "kms:CallerAccount": ACCOUNT}
    for statement in kms:
        assert statement["Condition"]["StringEquals"] == via
    grant = next(s for s in kms if s["Action"] == ["kms:CreateGrant"])
    assert grant["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}


def test_controller_role_trusts_only_the_karpenter_service_account(prod: Resources) -> None:
    trust = policy_json(prod.named("karpenter-pod-identity-role"), "assumeRolePolicy")
    conditions = trust["Statement"][0]["Condition"]["StringEquals"]
    assert conditions["aws:RequestTag/kubernetes-namespace"] == "karpenter"
    assert conditions["aws:RequestTag/kubernetes-service-account"] == "karpenter"
    association = prod.named("karpenter-pod-identity-association").inputs
    assert (association["namespace"], association["serviceAccount"]) == ("karpenter", "karpenter")


def test_node_role_is_worker_and_ecr_pull_only_with_an_ec2_linux_access_entry(
    crds: Path, prod: Resources
) -> None:
    attached = sorted(
        r.inputs["policyArn"].rsplit("/", 1)[1]
        for r in prod.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.name.startswith("karpenter-node-")
    )
    assert attached == sorted(NODE_ROLE_POLICIES)
    upstream = [
        p["Fn::Sub"].rsplit("/", 1)[1]
        for p in load_template(crds)["Resources"]["KarpenterNodeRole"]["Properties"][
            "ManagedPolicyArns"
        ]
    ]
    assert upstream == list(UPSTREAM_NODE_ROLE_POLICIES)
    # Left out on purpose (R21): the CNI policy (VPC CNI uses Pod Identity) and SSM.
    assert set(upstream) - set(attached) == {
        "AmazonEKS_CNI_Policy",
        "AmazonSSMManagedInstanceCore",
    }
    trust = policy_json(prod.named("karpenter-node-role"), "assumeRolePolicy")
    assert trust["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    entry = prod.named("karpenter-node-access").inputs
    assert entry["type"] == "EC2_LINUX"
    assert entry["principalArn"] == f"arn:aws:iam::{ACCOUNT}:role/{_node_role(prod)}"
    assert "kubernetesGroups" not in entry


def test_cluster_security_group_carries_the_discovery_tag(prod: Resources) -> None:
    tag = prod.named("karpenter-cluster-sg-discovery").inputs
    assert (tag["key"], tag["value"]) == ("karpenter.sh/discovery", CLUSTER)
    assert tag["resourceId"].startswith("sg-")


def test_interruption_queue_matches_the_reference(crds: Path, prod: Resources) -> None:
    upstream = load_template(crds)["Resources"]["KarpenterInterruptionQueue"]["Properties"]
    queue = prod.one("aws:sqs/queue:Queue").inputs
    assert queue["name"] == f"{CLUSTER}-karpenter"
    assert queue["messageRetentionSeconds"] == upstream["MessageRetentionPeriod"] == 300
    assert queue["sqsManagedSseEnabled"] is upstream["SqsManagedSseEnabled"] is True


def test_queue_policy_allows_only_our_rules_and_sqs_and_denies_plain_http(
    prod: Resources,
) -> None:
    """Judged by the IAM evaluator on the queue policy: EventBridge may send from our rules only,
    over TLS; any other rule, and any request over plain HTTP, is refused."""
    queue = Policy.parse(
        "queue", Kind.RESOURCE, policy_json(prod.one("aws:sqs/queuePolicy:QueuePolicy"))
    )
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{CLUSTER}-karpenter"
    events = Principal.service("events.amazonaws.com")

    def send(rule: str, tls: str = "true") -> str:
        context = {
            "aws:SourceArn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}",
            "aws:SecureTransport": tls,
        }
        request = Request(events, "sqs:SendMessage", queue_arn, context)
        return evaluate(request, Policies(resource=queue)).reason

    rules = sorted(r.inputs["name"] for r in prod.of_type("aws:cloudwatch/eventRule:EventRule"))
    assert len(rules) == 5
    for rule in rules:
        assert send(rule) == "allowed", rule
        assert send(rule, tls="false") == "with an explicit deny in a resource-based policy"
    assert send("someone-elses-rule") == (
        "because no resource-based policy allows the sqs:SendMessage action"
    )


def test_all_five_reference_rules_target_the_queue(crds: Path, prod: Resources) -> None:
    template = load_template(crds)["Resources"]
    upstream = sorted(
        json.dumps(r["Properties"]["EventPattern"], sort_keys=True)
        for r in template.values()
        if r["Type"] == "AWS::Events::Rule"
    )
    rules = prod.of_type("aws:cloudwatch/eventRule:EventRule")
    assert sorted(
        json.dumps(json.loads(r.inputs["eventPattern"]), sort_keys=True) for r in rules
    ) == (upstream)
    assert len(rules) == len(EVENTS) == 5
    targets = {
        t.inputs["rule"]: t.inputs for t in prod.of_type("aws:cloudwatch/eventTarget:EventTarget")
    }
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{CLUSTER}-karpenter"
    assert set(targets) == {r.inputs["name"] for r in rules}
    assert {t["arn"] for t in targets.values()} == {queue_arn}


def _release(plan: PlanResult, chart_suffix: str) -> dict[str, Any]:
    found = [r for r in plan.releases if str(r["chart"]).endswith(chart_suffix)]
    assert len(found) == 1
    return found[0]


def test_controller_runs_ha_on_system_nodes_with_queue_settings(prod_plan: PlanResult) -> None:
    release = _release(prod_plan, "/karpenter")
    assert release["chart"] == "oci://public.ecr.aws/karpenter/karpenter"
    assert release["version"] == "1.14.1"
    assert release["namespace"] == "karpenter"
    values = release["values"]
    assert values["replicas"] == 2
    assert values["tolerations"] == [{"key": "CriticalAddonsOnly", "operator": "Exists"}]
    assert values["nodeSelector"]["substrate.io/pool"] == "system"
    assert values["podDisruptionBudget"] == {"name": "karpenter", "maxUnavailable": 1}
    assert values["settings"] == {
        "clusterName": CLUSTER,
        "interruptionQueue": f"{CLUSTER}-karpenter",
        "enableZonalShift": False,
        "featureGates": {"nodeRepair": True},
    }
    resources = values["controller"]["resources"]
    assert resources["requests"] == resources["limits"] == {"cpu": "1", "memory": "1Gi"}


def test_controller_waits_for_queue_access_entry_and_discovery_tag(prod: Resources) -> None:
    release = prod.named("karpenter-release")
    for dependency in ("karpenter-node-access", "karpenter-cluster-sg-discovery"):
        assert prod.named(dependency).urn in release.dependencies
    # A component dependency expands to its children: the queue and its rules exist first.
    assert prod.one("aws:sqs/queue:Queue").urn in release.dependencies
    assert prod.one("aws:sqs/queuePolicy:QueuePolicy").urn in release.dependencies


@pytest.mark.parametrize("name", ["", "x" * 52, "bad name"])
def test_queue_name_is_checked_at_construction(name: str) -> None:
    from substrate.components.capacity.interruption_queue import InterruptionQueue
    from tests.helpers import run_program

    with pytest.raises(ValueError, match=r"^InterruptionQueueArgs.queue_name: "):
        run_program(lambda: InterruptionQueue("q", {"queue_name": name}))


def test_upstream_loader_rejects_unknown_placeholders() -> None:
    with pytest.raises(KeyError, match="Unknown"):
        substitute("${Unknown}", {})
