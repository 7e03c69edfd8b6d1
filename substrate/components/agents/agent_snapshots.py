"""Scheduled snapshots of one agent's memory volumes.

A CronJob `<agent>-snapshots` in the agent's namespace, running as its own service account
`<agent>-snapshots`, takes a `VolumeSnapshot` of every claim of the agent's claim template
(`memory-<agent>-<n>`, found by the template's labels) on the given VolumeSnapshotClass, and
deletes that claim's oldest snapshots beyond `keep`. Its Role allows exactly what the script
runs (SNAPSHOT_COMMANDS): list claims; create, list and delete VolumeSnapshots; nothing else (no
pods, secrets, claims changes or other namespaces). One run at a time (`Forbid`), bounded by
`activeDeadlineSeconds`; the CronJob keeps one finished Job of each outcome.
"""

from typing import Any, NotRequired, Required, TypedDict, cast

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from substrate.components.agents import agent_manifests as m
from substrate.components.core._args import check_args

SNAPSHOT_OF = "substrate.io/snapshot-of"
"""Label of each snapshot: the claim it was taken of (what retention counts by)."""
RUN_SECONDS = 900
"""activeDeadlineSeconds of one run."""
SNAPSHOT_COMMANDS = (
    ("list", "", "persistentvolumeclaims"),
    ("create", "snapshot.storage.k8s.io", "volumesnapshots"),
    ("list", "snapshot.storage.k8s.io", "volumesnapshots"),
    ("delete", "snapshot.storage.k8s.io", "volumesnapshots"),
)
"""(verb, API group, resource) of every API request the script makes (`kubectl get pvc`,
`kubectl create -f -`, `kubectl get volumesnapshot`, `kubectl delete`)."""

SCRIPT = """set -eu
stamp=$(date -u +%Y%m%d%H%M%S)
for ref in $(kubectl get persistentvolumeclaims -l "$CLAIM_SELECTOR" -o name); do
  claim=${ref#*/}
  kubectl create -f - <<EOF
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata:
  name: $claim-$stamp
  labels: {@LABEL@: $claim, app.kubernetes.io/name: $AGENT}
spec:
  volumeSnapshotClassName: $SNAPSHOT_CLASS
  source: {persistentVolumeClaimName: $claim}
EOF
  kubectl get volumesnapshots -l "@LABEL@=$claim" \\
    --sort-by=.metadata.creationTimestamp -o name \\
    | awk -v keep="$KEEP" '{n[NR]=$0} END {for (i = 1; i <= NR - keep; i++) print n[i]}' \\
    | while read -r old; do kubectl delete "$old"; done
done
""".replace("@LABEL@", SNAPSHOT_OF)


class AgentSnapshotsArgs(TypedDict, total=False):
    agent: Required[str]
    """The agent (its claims are `memory-<agent>-<n>`)."""
    tenant: Required[str]
    """Owning tenant (labels)."""
    namespace: Required[str]
    """The agent's namespace."""
    schedule: Required[str]
    """Five-field cron schedule, UTC."""
    image: Required[str]
    """An image with /bin/sh, awk and kubectl."""
    keep: Required[int]
    """Snapshots kept per claim."""
    snapshot_class: Required[str]
    """VolumeSnapshotClass of the snapshots."""
    run_as_user: NotRequired[int]
    """Non-root UID (default 65532)."""


def name(agent: str) -> str:
    """The CronJob, its ServiceAccount, Role and RoleBinding."""
    return f"{agent}-snapshots"


def role_rules() -> list[dict[str, Any]]:
    """Exactly the requests of SNAPSHOT_COMMANDS, grouped by resource."""
    rules: dict[tuple[str, str], list[str]] = {}
    for verb, group, resource in SNAPSHOT_COMMANDS:
        rules.setdefault((group, resource), []).append(verb)
    return [
        {"apiGroups": [group], "resources": [resource], "verbs": verbs}
        for (group, resource), verbs in rules.items()
    ]


def claim_selector(agent: str, tenant: str) -> str:
    """The labels of the agent's claims (its claim template's)."""
    labels = m.object_labels(agent, tenant)
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def cron_job_spec(args: AgentSnapshotsArgs) -> dict[str, Any]:
    agent, uid = args["agent"], args.get("run_as_user", m.DEFAULT_UID)
    env = {
        "AGENT": agent,
        "CLAIM_SELECTOR": claim_selector(agent, args["tenant"]),
        "SNAPSHOT_CLASS": args["snapshot_class"],
        "KEEP": str(args["keep"]),
        "HOME": "/tmp",  # kubectl's cache; the root file system is read-only
    }
    container = {
        "name": "snapshots",
        "image": args["image"],
        "command": ["/bin/sh", "-c", SCRIPT],
        "env": [{"name": k, "value": v} for k, v in env.items()],
        "resources": {
            "requests": {"cpu": "50m", "memory": "64Mi"},
            "limits": {"memory": "64Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": m.TMP_VOLUME, "mountPath": "/tmp"}],
    }
    pod = {
        "serviceAccountName": name(agent),
        "restartPolicy": "Never",
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": uid,
            "runAsGroup": uid,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": [{"name": m.TMP_VOLUME, "emptyDir": {"sizeLimit": "64Mi"}}],
    }
    labels = {**m.object_labels(agent, args["tenant"]), m.COMPONENT_LABEL: "agent-snapshots"}
    return {
        "schedule": args["schedule"],
        "timeZone": "Etc/UTC",
        "concurrencyPolicy": "Forbid",
        "startingDeadlineSeconds": 600,
        "successfulJobsHistoryLimit": 1,
        "failedJobsHistoryLimit": 1,
        "jobTemplate": {
            "spec": {
                "backoffLimit": 1,
                "activeDeadlineSeconds": RUN_SECONDS,
                "template": {"metadata": {"labels": labels}, "spec": pod},
            }
        },
    }


class AgentSnapshots(pulumi.ComponentResource):
    """ServiceAccount, Role, RoleBinding and CronJob taking scheduled snapshots of an agent's
    memory claims."""

    def __init__(
        self, name_: str, args: AgentSnapshotsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__("substrate:agents:AgentSnapshots", name_, None, opts)
        agent, ns = args["agent"], args["namespace"]
        labels = {**m.object_labels(agent, args["tenant"]), m.COMPONENT_LABEL: "agent-snapshots"}
        meta = ObjectMetaArgs(name=name(agent), namespace=ns, labels=labels)
        child = pulumi.ResourceOptions(parent=self)
        account = k8s.core.v1.ServiceAccount(f"{name_}-service-account", metadata=meta, opts=child)
        role = k8s.rbac.v1.Role(
            f"{name_}-role", metadata=meta, rules=cast(Any, role_rules()), opts=child
        )
        binding = k8s.rbac.v1.RoleBinding(
            f"{name_}-role-binding",
            metadata=meta,
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="Role", name=name(agent)
            ),
            subjects=[
                k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=name(agent), namespace=ns)
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role, account]),
        )
        k8s.batch.v1.CronJob(
            f"{name_}-cron-job",
            metadata=meta,
            spec=cast(Any, cron_job_spec(args)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[binding]),
        )
        self.register_outputs({"cronJob": f"{ns}/{name(agent)}"})
