"""R8: no implicit admin for the cluster creator; access entries use EKS access policies.

pulumi-eks hard-codes `bootstrapClusterCreatorAdminPermissions: true` on its
`aws:eks/cluster:Cluster` child; Substrate's EksCluster flips it with a transform, and this
policy checks the child the engine sees. Under `substrate plan` the remote component has no
children, so there the transform itself is tested (tests/components/test_eks_cluster.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

from ._props import MISSING, UNKNOWN, by_type, items, plain, value
from ._types import ACCESS_ENTRY, ACCESS_POLICY_ASSOCIATION, EKS_CLUSTER, EKS_COMPONENT

SUPERUSER_GROUPS = {"system:masters"}


def _cluster(props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    bootstrap = value(props, "accessConfig", "bootstrapClusterCreatorAdminPermissions")
    if bootstrap is False or bootstrap is UNKNOWN:
        return []
    shown = "unset (EKS defaults to true)" if bootstrap is MISSING else repr(bootstrap)
    return [
        f"accessConfig.bootstrapClusterCreatorAdminPermissions is {shown}: the creating "
        "principal would hold invisible cluster-admin; grant admins via access entries"
    ]


def _groups_problem(groups: Any, where: str) -> list[str]:
    bad = sorted(SUPERUSER_GROUPS & {str(g) for g in items(groups)})
    return (
        [
            f"{where} maps to Kubernetes group {', '.join(bad)}, which bypasses RBAC and "
            "cannot be audited; associate an EKS access policy instead"
        ]
        if bad
        else []
    )


def _entry(props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    return _groups_problem(value(props, "kubernetesGroups"), "the access entry")


def _association(props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    arn = value(props, "policyArn")
    if arn is UNKNOWN or (isinstance(arn, str) and ":eks::aws:cluster-access-policy/" in arn):
        return []
    return [
        f"policyArn {arn!r} is not an EKS access policy "
        "(arn:aws:eks::aws:cluster-access-policy/...)"
    ]


def _component(props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    entries = plain(value(props, "accessEntries"))
    problems: list[str] = []
    if isinstance(entries, dict):
        for key, entry in sorted(entries.items()):
            if isinstance(entry, dict):
                problems += _groups_problem(
                    entry.get("kubernetesGroups"), f"accessEntries[{key!r}]"
                )
    return problems


POLICY = ResourceValidationPolicy(
    name="r8-no-creator-admin",
    description="R8: the cluster creator gets no bootstrap admin and access entries grant EKS "
    "access policies, never system:masters (EKS best practices: IAM).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=by_type(
        {
            EKS_CLUSTER: _cluster,
            ACCESS_ENTRY: _entry,
            ACCESS_POLICY_ASSOCIATION: _association,
            EKS_COMPONENT: _component,
        }
    ),
)
