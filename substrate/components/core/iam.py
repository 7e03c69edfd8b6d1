"""IAM policy documents as plain data, rendered deterministically.

Pure Python (no Pulumi import): components render documents with ``to_json`` inside an
``Output.apply`` when ARNs are outputs; tests and policies parse the same JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

Statement = dict[str, Any]


def to_json(statements: Sequence[Statement]) -> str:
    """A policy document with stable key order, so the plan is byte-identical run to run."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def allow(
    actions: Sequence[str],
    resources: Sequence[str] | str,
    sid: str | None = None,
    condition: Mapping[str, Any] | None = None,
) -> Statement:
    stmt: Statement = {
        "Effect": "Allow",
        "Action": sorted(set(actions)),
        "Resource": resources if isinstance(resources, str) else list(resources),
    }
    if sid:
        stmt["Sid"] = sid
    if condition:
        stmt["Condition"] = dict(condition)
    return stmt


def service_trust(service: str, account_id: str, source_arn: str | None = None) -> str:
    """Trust for an AWS service principal, confused-deputy safe (aws:SourceAccount, and
    aws:SourceArn when the service sends it)."""
    condition: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account_id}}
    if source_arn:
        condition["ArnLike"] = {"aws:SourceArn": source_arn}
    return to_json(
        [
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
                "Condition": condition,
            }
        ]
    )


def ec2_trust() -> str:
    """Trust for EC2 instance profiles (node roles). EC2 sends no SourceAccount."""
    return to_json(
        [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ]
    )


def pod_identity_trust(
    account_id: str,
    cluster_name: str,
    namespace: str,
    service_account: str,
    cluster_arn: str | None = None,
) -> str:
    """EKS Pod Identity trust (R20): only this cluster's namespace/service account may assume.

    Pod Identity passes session tags (eks-cluster-name, kubernetes-namespace,
    kubernetes-service-account) with AssumeRole, hence sts:TagSession and the RequestTag
    conditions (EKS user guide, "Create IAM role with trust policy required by EKS Pod Identity").
    With ``cluster_arn``, the ``eks-cluster-arn`` session tag must match too: a cluster of the
    same name in another Region cannot assume the role.
    """
    equals = {
        "aws:SourceAccount": account_id,
        "aws:RequestTag/eks-cluster-name": cluster_name,
        "aws:RequestTag/kubernetes-namespace": namespace,
        "aws:RequestTag/kubernetes-service-account": service_account,
    }
    if cluster_arn:
        equals["aws:RequestTag/eks-cluster-arn"] = cluster_arn
    return to_json(
        [
            {
                "Sid": "AllowEksPodIdentity",
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {"StringEquals": equals},
            }
        ]
    )


def managed_policy_arn(partition: str, name: str) -> str:
    return f"arn:{partition}:iam::aws:policy/{name}"
