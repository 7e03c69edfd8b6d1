"""R20: workload roles are trusted only by the identity of one service account.

- EKS Pod Identity (`pods.eks.amazonaws.com`): `sts:AssumeRole` and `sts:TagSession`, with
  `StringEquals` on the session tags `kubernetes-namespace` and `kubernetes-service-account`
  (one value each) and on the account or cluster (`aws:SourceAccount`, `aws:SourceOrgId`,
  `eks-cluster-name` or `eks-cluster-arn` tag) (EKS User Guide, "Create IAM role with trust
  policy required by EKS Pod Identity"; session tags: "List of session tags added by EKS Pod
  Identity").
- IRSA (an `oidc-provider` federated principal): `sts:AssumeRoleWithWebIdentity` with
  `StringEquals` on `<issuer>:sub` = `system:serviceaccount:<ns>:<sa>` and `<issuer>:aud` =
  `sts.amazonaws.com`.
- One role per service account: no role is associated (Pod Identity associations, EKS add-on
  `podIdentityAssociations`) with two service accounts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._iam import actions, allows, condition_values, principals
from ._props import UNKNOWN, items, policy_document, value
from ._types import EKS_ADDON, IAM_ROLE, POD_IDENTITY_ASSOCIATION

POD_IDENTITY = "pods.eks.amazonaws.com"
NS_TAG = "aws:RequestTag/kubernetes-namespace"
SA_TAG = "aws:RequestTag/kubernetes-service-account"
SCOPE_KEYS = (
    "aws:SourceAccount",
    "aws:SourceOrgId",
    "aws:RequestTag/eks-cluster-name",
    "aws:RequestTag/eks-cluster-arn",
)


def _single(stmt: Mapping[str, Any], key: str) -> bool:
    found = condition_values(stmt, "StringEquals", key)
    return len(found) == 1 and "*" not in found[0]


def _pod_identity(stmt: Mapping[str, Any], sid: str) -> list[str]:
    problems = []
    missing = {"sts:AssumeRole", "sts:TagSession"} - set(actions(stmt))
    if missing:
        problems.append(f"trust {sid} for Pod Identity lacks {', '.join(sorted(missing))}")
    for key in (NS_TAG, SA_TAG):
        if not _single(stmt, key):
            problems.append(
                f"trust {sid} does not pin {key} with StringEquals to one value; any "
                "namespace/service account of any cluster could assume the role"
            )
    if not any(condition_values(stmt, "StringEquals", k) for k in SCOPE_KEYS):
        problems.append(
            f"trust {sid} is not bound to this account or cluster (StringEquals on one of "
            + ", ".join(SCOPE_KEYS)
            + ")"
        )
    return problems


def _irsa(stmt: Mapping[str, Any], sid: str, issuers: list[str]) -> list[str]:
    problems = []
    for provider in issuers:
        issuer = provider.split(":oidc-provider/", 1)[-1]
        sub = condition_values(stmt, "StringEquals", f"{issuer}:sub")
        if len(sub) != 1 or not sub[0].startswith("system:serviceaccount:") or "*" in sub[0]:
            problems.append(
                f"trust {sid} does not pin {issuer}:sub with StringEquals to one "
                "system:serviceaccount:<namespace>:<name>"
            )
        if condition_values(stmt, "StringEquals", f"{issuer}:aud") != ["sts.amazonaws.com"]:
            problems.append(f"trust {sid} does not require {issuer}:aud = sts.amazonaws.com")
    return problems


def trust_problems(props: Mapping[str, Any]) -> list[str]:
    doc = policy_document(value(props, "assumeRolePolicy"))
    if doc is None:
        return []
    problems = []
    for i, stmt in enumerate(allows(doc)):
        sid = repr(stmt.get("Sid", f"#{i}"))
        if POD_IDENTITY in principals(stmt, "Service"):
            problems += _pod_identity(stmt, sid)
        oidc = [p for p in principals(stmt, "Federated") if ":oidc-provider/" in p]
        if oidc:
            problems += _irsa(stmt, sid, oidc)
    return problems


def _associations(resources: list[PolicyResource]) -> dict[str, list[tuple[str, str]]]:
    """role ARN -> [(namespace/service account, urn)] over associations and add-ons."""
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r in resources:
        if r.resource_type == POD_IDENTITY_ASSOCIATION:
            arn = value(r.props, "roleArn")
            who = f"{value(r.props, 'namespace')}/{value(r.props, 'serviceAccount')}"
            if isinstance(arn, str):
                found[arn].append((who, r.urn))
        elif r.resource_type == EKS_ADDON:
            for assoc in items(value(r.props, "podIdentityAssociations")):
                arn = value(assoc, "roleArn")
                who = f"{value(r.props, 'addonName')}:{value(assoc, 'serviceAccount')}"
                if isinstance(arn, str) and arn is not UNKNOWN:
                    found[arn].append((who, r.urn))
    return found


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    for r in args.resources:
        if r.resource_type == IAM_ROLE:
            problems = trust_problems(r.props)
            if problems:
                report_violation("; ".join(problems), r.urn)
    for arn, users in sorted(_associations(args.resources).items()):
        accounts = sorted({who for who, _ in users})
        if len(accounts) > 1:
            for _, urn in users[1:]:
                report_violation(
                    f"role {arn} is associated with {len(accounts)} service accounts "
                    f"({', '.join(accounts)}); use one role per service account",
                    urn,
                )


POLICY = StackValidationPolicy(
    name="r20-workload-role-trust",
    description="R20: workload roles trust pods.eks.amazonaws.com with sts:AssumeRole + "
    "sts:TagSession pinned to one namespace/service account and to the account or cluster "
    "(or IRSA with sub and aud pinned), and each role serves one service account.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate,
)
