"""Scheduled snapshots of an agent's memory: the CronJob's own script, run by `sh` against a stub
`kubectl` that records every request, takes one snapshot per claim and keeps the newest `keep`;
the Role prod's plan renders allows exactly the requests the script made (RBAC as rendered: no
engine here evaluates RBAC)."""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from substrate.components.agents.agent_snapshots import SNAPSHOT_OF
from tests.conftest import planned

AGENT = "support"
CLAIMS = ("memory-support-0", "memory-support-1")
EXISTING = 10
"""Snapshots each claim already has (oldest first)."""

STUB = """#!/bin/sh
# kubectl as the script sees it: records the request, answers from the fixture.
echo "$*" >> "$LOG"
case "$1 $2" in
  "get persistentvolumeclaims")
    for c in $CLAIMS; do echo "persistentvolumeclaim/$c"; done ;;
  "get volumesnapshots")
    claim=${4#*=}
    i=0
    while [ $i -lt $EXISTING ]; do
      echo "volumesnapshot.snapshot.storage.k8s.io/$claim-2026110$i"; i=$((i + 1))
    done ;;
  "create -f")
    cat >> "$CREATED"; echo "---" >> "$CREATED" ;;
esac
"""


def _cron_job() -> dict[str, Any]:
    (found,) = [
        m
        for m in planned("prod").manifests.values()
        if m["kind"] == "CronJob" and m["metadata"]["name"] == f"{AGENT}-snapshots"
    ]
    return found


def _rendered(kind: str) -> dict[str, Any]:
    (found,) = [
        m
        for m in planned("prod").manifests.values()
        if m["kind"] == kind and m["metadata"]["name"] == f"{AGENT}-snapshots"
    ]
    return found


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The rendered container's command and environment, run once."""
    if shutil.which("sh") is None or shutil.which("awk") is None:
        pytest.fail("sh and awk are needed to run the snapshot script", False)
    tmp = tmp_path_factory.mktemp("snapshots")
    stub = tmp / "bin" / "kubectl"
    stub.parent.mkdir()
    stub.write_text(STUB)
    stub.chmod(0o755)
    (container,) = _cron_job()["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    log, created = tmp / "log", tmp / "created"
    env.update(
        PATH=f"{stub.parent}:{os.environ['PATH']}",
        LOG=str(log),
        CREATED=str(created),
        CLAIMS=" ".join(CLAIMS),
        EXISTING=str(EXISTING),
        HOME=str(tmp),
    )
    done = subprocess.run(
        container["command"], check=False, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return {
        "env": env,
        "calls": log.read_text().splitlines(),
        "created": [d for d in yaml.safe_load_all(created.read_text()) if d],
    }


def test_each_claim_gets_a_snapshot_on_the_scheduled_class(ran: dict[str, Any]) -> None:
    env = ran["env"]
    assert env["SNAPSHOT_CLASS"] == "ebs-scheduled-snapshots"
    assert [s["spec"] for s in ran["created"]] == [
        {
            "volumeSnapshotClassName": "ebs-scheduled-snapshots",
            "source": {"persistentVolumeClaimName": c},
        }
        for c in CLAIMS
    ]
    for snapshot, claim in zip(ran["created"], CLAIMS, strict=True):
        assert snapshot["metadata"]["labels"][SNAPSHOT_OF] == claim
    # The selector is the claim template's labels: only the agent's own claims.
    (template,) = _rendered_statefulset()["spec"]["volumeClaimTemplates"]
    labels = dict(kv.split("=", 1) for kv in env["CLAIM_SELECTOR"].split(","))
    assert labels == template["metadata"]["labels"]


def _rendered_statefulset() -> dict[str, Any]:
    (found,) = [
        m
        for m in planned("prod").manifests.values()
        if m["kind"] == "StatefulSet" and m["metadata"]["name"] == AGENT
    ]
    return found


def test_the_oldest_snapshots_beyond_keep_are_deleted(ran: dict[str, Any]) -> None:
    keep = int(ran["env"]["KEEP"])
    assert keep == 8  # prod's support agent
    deleted = [c.split(" ", 1)[1] for c in ran["calls"] if c.startswith("delete ")]
    assert deleted == [
        f"volumesnapshot.snapshot.storage.k8s.io/{claim}-2026110{i}"
        for claim in CLAIMS
        for i in range(EXISTING - keep)
    ]


RESOURCES = {
    "persistentvolumeclaims": "",
    "volumesnapshots": "snapshot.storage.k8s.io",
    "volumesnapshot.snapshot.storage.k8s.io": "snapshot.storage.k8s.io",
}


def _request(call: str) -> tuple[str, str, str]:
    """(verb, API group, resource) kubectl sends for one recorded command."""
    words = call.split()
    if words[0] == "get":  # with a label selector: a list
        return "list", RESOURCES[words[1]], words[1]
    if words[0] == "create":  # the manifest on stdin: a VolumeSnapshot
        return "create", "snapshot.storage.k8s.io", "volumesnapshots"
    if words[0] == "delete":
        kind = words[1].split("/", 1)[0]
        return "delete", RESOURCES[kind], "volumesnapshots"
    raise AssertionError(f"unexpected kubectl call: {call}")


def test_the_role_allows_exactly_what_the_script_does(ran: dict[str, Any]) -> None:
    made = {_request(c) for c in ran["calls"]}
    granted = {
        (verb, group, resource)
        for rule in _rendered("Role")["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    assert made == granted
    binding = _rendered("RoleBinding")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": f"{AGENT}-snapshots", "namespace": "agents"}
    ]
    pod = _cron_job()["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == f"{AGENT}-snapshots"


def _snapshot_classes() -> dict[str, dict[str, Any]]:
    return {
        r.inputs["metadata"]["name"]: r.inputs
        for r in planned("prod").records
        if r.type == "kubernetes:snapshot.storage.k8s.io/v1:VolumeSnapshotClass"
    }


def test_pruned_scheduled_snapshots_do_not_stay_in_ebs(ran: dict[str, Any]) -> None:
    """The script deletes the VolumeSnapshots beyond `keep`; the snapshot controller deletes the
    EBS snapshot behind a deleted VolumeSnapshot only when its content's deletionPolicy is Delete
    (taken from the class; Retain keeps it, billed, with no object left to find it by). Prod's
    volumes are Retain, so the scheduled snapshots need a class of their own."""
    classes = _snapshot_classes()
    deleted = [c for c in ran["calls"] if c.startswith("delete volumesnapshot")]
    assert deleted, "the script pruned nothing: the fixture has more than keep snapshots"
    used = {snap["spec"]["volumeSnapshotClassName"] for snap in ran["created"]}
    assert used and all(classes[c]["deletionPolicy"] == "Delete" for c in used), {
        c: classes[c]["deletionPolicy"] for c in used
    }


def test_manual_snapshots_keep_the_volumes_retain_policy_in_prod() -> None:
    """A snapshot taken by hand on the default class (before a risky change, for a restore)
    outlives its VolumeSnapshot object as prod's volumes outlive their claims."""
    default = [
        c
        for c in _snapshot_classes().values()
        if c["metadata"]
        .get("annotations", {})
        .get("snapshot.storage.kubernetes.io/is-default-class")
        == "true"
    ]
    assert [c["metadata"]["name"] for c in default] == ["ebs-snapshots"]
    assert default[0]["deletionPolicy"] == "Retain"
