"""SPIRE that survives a zone, judged by Helm (the spire release as it installs), the plan's AWS
resources and the IAM evaluator (what the server's Pod Identity session may do)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from substrate.components.identity.spire_crds import SPIRE_SERVER_NAMESPACE
from substrate.components.identity.spire_database import MASTER_USER, PORT
from substrate.engines.iam import Principal
from tests.conftest import planned
from tests.helm.rendered import rendered
from tests.helpers import STACKS, stack_yaml
from tests.journeys.journey import journey
from tests.journeys.spire_access import DATABASE_RESOURCE, access

HA_STACKS = [
    s
    for s in STACKS
    if stack_yaml(s)["substrate:identity"].get("server", {}).get("replicas", 1) > 1
]
SIMPLE_STACKS = [s for s in STACKS if s not in HA_STACKS]
HA_DOC = "docs/identity.md#a-server-in-every-zone"
KUBELET_DOC = "docs/identity.md#how-an-agent-gets-an-svid"
ZONE = "topology.kubernetes.io/zone"


def _spire(stack: str) -> list[dict[str, Any]]:
    render = rendered(stack)
    (release,) = render.of_chart("spire")
    return render.installed(release)


def _one(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def _conf(objects: list[dict[str, Any]], name: str, key: str) -> dict[str, Any]:
    return json.loads(_one(objects, "ConfigMap", name)["data"][key])


def _record(stack: str, typ: str, name: str) -> dict[str, Any]:
    (found,) = [r for r in planned(stack).records if r.type == typ and r.name == name]
    return found.inputs


@journey(
    user="platform engineer",
    stack="staging, prod",
    steps=[
        "deploys the stack",
        "loses one Availability Zone (its SPIRE server replica and its RDS instance's zone)",
    ],
    outcome="SPIRE runs as many server replicas as substrate:identity.server.replicas (at least "
    "2) that must sit in different zones and are disrupted one at a time, each with its own "
    "key-identifier file; all share one Multi-AZ RDS PostgreSQL datastore (aws_postgres, IAM "
    "authentication as user spire, TLS) in the private subnets, encrypted with its own KMS key, "
    "reachable only from the cluster security group on 5432; signing keys live in KMS",
    docs=[HA_DOC],
)
@pytest.mark.parametrize("stack", HA_STACKS)
def test_spire_survives_a_zone(stack: str) -> None:
    server = access(stack).cfg.identity.server
    objects = _spire(stack)
    sts = _one(objects, "StatefulSet", "spire-server")
    pods = sts["spec"]["template"]["metadata"]["labels"]
    assert sts["spec"]["replicas"] == server.replicas >= 2
    (spread,) = sts["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert (spread["topologyKey"], spread["whenUnsatisfiable"], spread["maxSkew"]) == (
        ZONE,
        "DoNotSchedule",
        1,
    )
    assert spread["labelSelector"]["matchLabels"].items() <= pods.items()
    assert [t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]] == ["spire-data"]
    (pdb,) = [
        m
        for m in planned(stack).manifests.values()
        if m["kind"] == "PodDisruptionBudget"
        and m["metadata"]["namespace"] == SPIRE_SERVER_NAMESPACE
    ]
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pods.items()

    plugins = _conf(objects, "spire-server", "server.conf")["plugins"]
    (store,) = plugins["DataStore"]
    sql = store["sql"]["plugin_data"]
    assert sql["database_type"] == [{"aws_postgres": {"region": access(stack).plan.region}}]
    conn = dict(p.split("=", 1) for p in sql["connection_string"].split())
    assert conn["user"] == "spire" and conn["dbname"] == "spire" and conn["sslmode"] == "require"
    assert conn["port"] == str(PORT) and conn["host"].endswith(".rds.amazonaws.com")
    assert "password" not in conn
    (keys,) = plugins["KeyManager"]
    assert keys["aws_kms"]["plugin_data"]["key_identifier_file"].startswith("/run/spire/data/")

    db = _record(stack, "aws:rds/instance:Instance", DATABASE_RESOURCE)
    assert db["engine"] == "postgres" and db["multiAz"] is True
    assert db["iamDatabaseAuthenticationEnabled"] is True and db["publiclyAccessible"] is False
    assert db["storageEncrypted"] is True and db["manageMasterUserPassword"] is True
    assert db["kmsKeyId"] == db["masterUserSecretKmsKeyId"]
    assert db["kmsKeyId"].startswith(access(stack).arn("kms", "key/"))
    private = {
        r.name: r
        for r in planned(stack).records
        if r.type == "aws:ec2/subnet:Subnet" and "private" in r.name
    }
    subnets = _record(stack, "aws:rds/subnetGroup:SubnetGroup", "spire-database-subnets")
    assert len(subnets["subnetIds"]) == len(private) >= 2
    group = _record(stack, "aws:ec2/securityGroup:SecurityGroup", "spire-database-sg")
    (rule,) = group["ingress"]
    assert (rule["protocol"], rule["fromPort"], rule["toPort"]) == ("tcp", PORT, PORT)
    assert len(rule["securityGroups"]) == 1 and "cidrBlocks" not in rule
    assert not group.get("egress")


@journey(
    user="platform engineer of a development stack",
    stack="dev",
    steps=["deploys the stack without substrate:identity.server"],
    outcome="one SPIRE server on sqlite with disk keys, and no database or AWS role for it",
    docs=[HA_DOC],
)
@pytest.mark.parametrize("stack", SIMPLE_STACKS)
def test_a_development_stack_keeps_one_server_on_sqlite(stack: str) -> None:
    objects = _spire(stack)
    assert _one(objects, "StatefulSet", "spire-server")["spec"]["replicas"] == 1
    plugins = _conf(objects, "spire-server", "server.conf")["plugins"]
    assert plugins["DataStore"][0]["sql"]["plugin_data"]["database_type"] == "sqlite3"
    assert list(plugins["KeyManager"][0]) == ["disk"]
    types = {r.type for r in planned(stack).records}
    assert "aws:rds/instance:Instance" not in types
    with pytest.raises(LookupError):
        access(stack).plan.association(SPIRE_SERVER_NAMESPACE, "spire-server")


@journey(
    user="SPIRE server (its Pod Identity session)",
    stack="staging, prod",
    steps=[
        "creates a signing key with the key policy from its values and reads its public key "
        "(the key has no alias yet)",
        "aliases it under its trust domain, signs with it, rotates: points the alias at a new "
        "key and schedules the deletion of the old one (which has no alias any more)",
        "describes the account's keys and lists aliases to find stale ones",
        "connects to its database as user spire",
    ],
    outcome="every one of those calls is allowed, CreateKey's lockout safety check included "
    "(the key policy lets the server update it later)",
    docs=[HA_DOC],
)
@pytest.mark.parametrize("stack", HA_STACKS)
def test_the_spire_server_can_use_its_keys_and_its_database_user(stack: str) -> None:
    a = access(stack)
    old = a.key("1234abcd-12ab-34cd-56ef-1234567890ab")
    new = a.key("0987dcba-09fe-87dc-65ba-ab0987654321")
    other = a.key("aaaabbbb-1111-2222-3333-444455556666")
    alias = a.arn("kms", a.spire_alias("x509-CA-A"))
    calls = [
        ("kms:CreateKey", "*", {"kms:KeyUsage": "SIGN_VERIFY", "kms:KeySpec": "ECC_NIST_P256"}),
        ("kms:PutKeyPolicy", new, {}),
        ("kms:GetPublicKey", new, {}),
        ("kms:CreateAlias", alias, {}),
        ("kms:CreateAlias", new, {}),
        ("kms:Sign", new, {}),
        ("kms:UpdateAlias", alias, {}),
        ("kms:UpdateAlias", old, {}),
        ("kms:UpdateAlias", new, {}),
        ("kms:ScheduleKeyDeletion", old, {}),
        ("kms:DeleteAlias", alias, {}),
        ("kms:DeleteAlias", old, {}),
        ("kms:ListKeys", "*", {}),
        ("kms:ListAliases", "*", {}),
        ("rds-db:connect", a.connect(), {}),
    ]
    for action, resource, context in calls:
        decision = a.decide(action, resource, context)
        assert decision.allowed, (action, resource, decision.reason)
    described = a.decide("kms:DescribeKey", other, spire_key=False)
    assert described.allowed, described.reason


@journey(
    user="SPIRE server (its Pod Identity session, compromised)",
    stack="staging, prod",
    steps=[
        "signs with, reads, aliases, deletes or re-policies a key of the account it did not create",
        "creates an encryption key, decrypts with its own key, aliases outside its prefix",
        "connects as the master user or to another database, reads the master user secret",
    ],
    outcome="every one of those calls is denied; no other role of the plan may use SPIRE's "
    "keys, connect as the spire user or read the master secret",
    docs=[HA_DOC],
)
@pytest.mark.parametrize("stack", HA_STACKS)
def test_the_spire_server_can_do_nothing_else(stack: str) -> None:
    a = access(stack)
    own = a.key("1234abcd-12ab-34cd-56ef-1234567890ab")
    other = a.key("aaaabbbb-1111-2222-3333-444455556666")
    on_other = [
        "kms:Sign",
        "kms:GetPublicKey",
        "kms:CreateAlias",
        "kms:UpdateAlias",
        "kms:ScheduleKeyDeletion",
        "kms:PutKeyPolicy",
        "kms:Decrypt",
    ]
    for action in on_other:
        decision = a.decide(action, other, {"kms:KeyUsage": "SIGN_VERIFY"}, spire_key=False)
        assert not decision.allowed, (action, decision.statements)
    calls = [
        (
            "kms:CreateKey",
            "*",
            {"kms:KeyUsage": "ENCRYPT_DECRYPT", "kms:KeySpec": "SYMMETRIC_DEFAULT"},
        ),
        ("kms:Decrypt", own, {}),
        ("kms:CreateGrant", own, {}),
        ("kms:CreateAlias", a.arn("kms", "alias/payments"), {}),
        ("kms:CreateAlias", a.arn("kms", a.spire_alias("x509-CA-A", "other.internal")), {}),
        ("rds-db:connect", a.connect(MASTER_USER), {}),
        ("rds-db:connect", a.connect(resource="another-database"), {}),
        ("secretsmanager:GetSecretValue", a.master_secret, {}),
    ]
    for action, resource, context in calls:
        decision = a.decide(action, resource, context)
        assert not decision.allowed, (action, resource, decision.statements)
    server_role = a.server.role_arn
    checked = 0
    for role in a.plan.roles.values():
        if role.arn == server_role or role.managed:
            continue  # AWS managed policies are not in the plan (none of them is RDS or this)
        session = Principal.role_session(role.arn, "journey", role_tags=role.tags)
        identity = a.plan.identity_policies(role)
        for action, resource in (
            ("kms:Sign", own),
            ("kms:ScheduleKeyDeletion", own),
            ("rds-db:connect", a.connect()),
            ("secretsmanager:GetSecretValue", a.master_secret),
        ):
            assert not a.decide(action, resource, principal=session, identity=identity), role.name
        checked += 1
    assert checked >= 5, "the plan's other roles were evaluated"


@journey(
    user="workload in any tenant asking the SPIRE agent for an SVID",
    stack="dev, staging, prod",
    steps=["the agent's k8s workload attestor asks the node's kubelet which pod is calling"],
    outcome="the agent verifies the kubelet: it connects by the node's name and checks the "
    "kubelet's serving certificate against the cluster CA (skip_kubelet_verification false); "
    "the agent is not on the host network",
    docs=[KUBELET_DOC],
)
@pytest.mark.parametrize("stack", STACKS)
def test_the_agent_verifies_the_kubelet(stack: str) -> None:
    objects = _spire(stack)
    (attestor,) = _conf(objects, "spire-agent", "agent.conf")["plugins"]["WorkloadAttestor"]
    k8s = attestor["k8s"]["plugin_data"]
    assert k8s["skip_kubelet_verification"] is False
    assert k8s["kubelet_ca_path"] == "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
    assert k8s["node_name_env"] == "KUBELET_ADDR"
    agent = _one(objects, "DaemonSet", "spire-agent")["spec"]["template"]["spec"]
    assert not agent.get("hostNetwork"), "the agent reaches the kubelet by node name"
    env = {e["name"]: e for c in agent["containers"] for e in c.get("env", [])}
    assert env["KUBELET_ADDR"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
