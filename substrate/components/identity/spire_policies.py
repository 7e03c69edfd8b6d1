"""IAM for the SPIRE server's Pod Identity role and the key policy of the keys it creates.

SPIRE 1.14's `aws_kms` key manager creates one KMS key per signing key slot (`CreateKey`, key
usage SIGN_VERIFY), names it with an alias `alias/SPIRE_SERVER/<trust domain with "." as
"_">/<server id>/<key id>`, signs with it, refreshes and prunes aliases and schedules the
deletion of keys it rotated out (doc/plugin_server_keymanager_aws_kms.md and
pkg/server/plugin/keymanager/awskms at v1.14.5). It reads a new key's public key before the key
has an alias and schedules a rotated key's deletion after its alias moved on, so no alias
condition can bound those calls: the key policy SPIRE creates its keys with (signing_key_policy)
grants the server role what it does to each of its keys, and the role's IAM policy grants only
what names no existing key (CreateKey bounded by key usage and spec, listing, describing, and
the alias side of its trust domain's aliases).

With `aws_postgres` the SQL datastore signs an RDS IAM authentication token for its
connection: `rds-db:connect` on the one database user it logs in as.
"""

from __future__ import annotations

from typing import Any

from substrate.components.core.iam import to_json

SIGNING_KEY_SPECS = ("ECC_NIST_P256", "ECC_NIST_P384", "RSA_2048", "RSA_4096")
"""The key specs SPIRE's key types map to (keySpecFromKeyType)."""


def alias_prefix(trust_domain: str) -> str:
    """What SPIRE names its aliases with in ``trust_domain`` (sanitizeTrustDomain: "." -> "_")."""
    return f"alias/SPIRE_SERVER/{trust_domain.replace('.', '_')}/"


def kms_statements(
    partition: str, region: str, account: str, trust_domain: str
) -> list[dict[str, Any]]:
    """The identity side: creating keys, finding them, and its own aliases. Everything done to a
    key SPIRE created is granted by that key's policy (signing_key_policy), so no statement here
    names a key it may use or change."""
    keys = f"arn:{partition}:kms:{region}:{account}:key/*"
    aliases = f"arn:{partition}:kms:{region}:{account}:{alias_prefix(trust_domain)}*"
    return [
        {
            "Sid": "CreateSigningKeys",
            "Effect": "Allow",
            "Action": "kms:CreateKey",
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "kms:KeyUsage": "SIGN_VERIFY",
                    "kms:KeySpec": list(SIGNING_KEY_SPECS),
                }
            },
        },
        {
            "Sid": "FindKeys",
            "Effect": "Allow",
            "Action": ["kms:ListAliases", "kms:ListKeys"],
            "Resource": "*",
        },
        {
            # disposeKeys describes every key of the account to find its own stale ones (by
            # description); key metadata only.
            "Sid": "ReadKeyMetadata",
            "Effect": "Allow",
            "Action": "kms:DescribeKey",
            "Resource": keys,
        },
        {
            # The alias side of CreateAlias/UpdateAlias/DeleteAlias; the key side is the key
            # policy's, so only SPIRE's own keys can be aliased here.
            "Sid": "ManageOwnAliases",
            "Effect": "Allow",
            "Action": ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
            "Resource": aliases,
        },
    ]


def connect_statement(connect_arn: str) -> dict[str, Any]:
    return {
        "Sid": "ConnectAsSpire",
        "Effect": "Allow",
        "Action": "rds-db:connect",
        "Resource": connect_arn,
    }


def server_policy(
    partition: str,
    region: str,
    account: str,
    trust_domain: str,
    *,
    kms: bool,
    connect_arn: str | None,
) -> str:
    """The SPIRE server role's inline policy: its KMS keys (``kms``) and its database user."""
    statements = kms_statements(partition, region, account, trust_domain) if kms else []
    if connect_arn is not None:
        statements.append(connect_statement(connect_arn))
    if not statements:
        raise ValueError("the SPIRE server needs no AWS access without awsKms or postgres")
    return to_json(statements)


KEY_ACTIONS = (
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:GetPublicKey",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:Sign",
    "kms:UpdateAlias",
)
"""What the server does to a key it created: read its public key (before the key has an
alias), alias it, sign, schedule its deletion once rotated out (after its alias moved to the
new key), and PutKeyPolicy, which CreateKey's key policy lockout safety check requires the
creator to keep."""


def signing_key_policy(server_role_arn: str) -> str:
    """Key policy of every key SPIRE creates: the account's IAM policies decide for everyone
    (administrators), and the SPIRE server role may do KEY_ACTIONS to this key only; SPIRE's
    default policy would give the role `kms:*` on the key."""
    parts = server_role_arn.split(":")
    partition, account = parts[1], parts[4]
    return to_json(
        [
            {
                "Sid": "EnableIamPolicies",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "SpireServerUsesThisKey",
                "Effect": "Allow",
                "Principal": {"AWS": server_role_arn},
                "Action": list(KEY_ACTIONS),
                "Resource": "*",
            },
        ]
    )
