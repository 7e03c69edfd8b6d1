"""Key policies for the cluster's customer managed KMS keys (R4, R5, R13).

No statement grants a `*` principal (R5): the account root enables IAM policies to grant use,
and each AWS service gets only what it needs, scoped by conditions.
"""

from __future__ import annotations

from substrate.components.core.iam import to_json

_USE_KEY = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
]


def _root(account_id: str, partition: str) -> dict[str, object]:
    return {
        "Sid": "EnableIamPolicies",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


def _logs_for_one_group(sid: str, region: str, group_arn: str) -> dict[str, object]:
    """CloudWatch Logs in ``region`` may use the key for one log group only (encryption context
    `aws:logs:arn`; CloudWatch Logs User Guide, "Encrypt log data in CloudWatch Logs using AWS
    KMS")."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{region}.amazonaws.com"},
        "Action": _USE_KEY,
        "Resource": "*",
        "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": group_arn}},
    }


def _log_group_arn(account_id: str, partition: str, region: str, log_group: str) -> str:
    return f"arn:{partition}:logs:{region}:{account_id}:log-group:{log_group}"


def secrets_key_policy(account_id: str, partition: str, region: str, cluster: str) -> str:
    """Secrets envelope encryption (EKS uses the cluster role's IAM grant) and encryption of
    the control-plane log group by CloudWatch Logs, bound to that one log group."""
    log_group = _log_group_arn(account_id, partition, region, f"/aws/eks/{cluster}/cluster")
    return to_json(
        [
            _root(account_id, partition),
            _logs_for_one_group("AllowControlPlaneLogGroup", region, log_group),
        ]
    )


def volume_key_policy(account_id: str, partition: str) -> str:
    """EBS volumes: EC2 Auto Scaling's service-linked role launches managed node groups with
    this key in their launch template, so it must use the key and create grants for EBS."""
    asg = (
        f"arn:{partition}:iam::{account_id}:role/aws-service-role/"
        "autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    )
    return to_json(
        [
            _root(account_id, partition),
            {
                "Sid": "AllowAutoScalingUseOfKey",
                "Effect": "Allow",
                "Principal": {"AWS": asg},
                "Action": _USE_KEY,
                "Resource": "*",
            },
            {
                "Sid": "AllowAutoScalingGrantsForEbs",
                "Effect": "Allow",
                "Principal": {"AWS": asg},
                "Action": "kms:CreateGrant",
                "Resource": "*",
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
        ]
    )


def log_group_key_policy(account_id: str, partition: str, region: str, log_group: str) -> str:
    """A key for one CloudWatch Logs group; IAM policies of the account grant the rest."""
    group_arn = _log_group_arn(account_id, partition, region, log_group)
    return to_json(
        [
            _root(account_id, partition),
            _logs_for_one_group("AllowCloudWatchLogsForOneGroup", region, group_arn),
        ]
    )


def database_key_policy(account_id: str, partition: str) -> str:
    """An RDS instance's storage and its RDS-managed master secret: RDS and Secrets Manager use
    the key through grants made on behalf of the account's principals, which IAM policies
    govern."""
    return to_json([_root(account_id, partition)])
