"""Evaluation order across policy types, from the AWS IAM User Guide pages "Policy evaluation
logic", "Cross-account policy evaluation logic", "Permissions boundaries for IAM entities" and
"Troubleshoot access denied error messages", and the PrivateLink and Amazon Bedrock guides on
VPC endpoint policies."""

from __future__ import annotations

from typing import Any

from substrate.engines.iam import Decision, Kind, Policies, Policy, Principal, Request, evaluate
from tests.engines.iam_helpers import doc

CARLOS_POLICY = doc(
    {
        "Sid": "AllowS3ListRead",
        "Effect": "Allow",
        "Action": [
            "s3:GetBucketLocation",
            "s3:GetAccountPublicAccessBlock",
            "s3:ListAccessPoints",
            "s3:ListAllMyBuckets",
        ],
        "Resource": "arn:aws:s3:::*",
    },
    {
        "Sid": "AllowS3Self",
        "Effect": "Allow",
        "Action": "s3:*",
        "Resource": [
            "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/*",
            "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar",
        ],
    },
    {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::*log*"},
)


def _policy(name: str, kind: Kind, *statements: dict[str, Any]) -> Policy:
    return Policy.parse(name, kind, doc(*statements))


def _ask(principal: Principal, action: str, arn: str, owner: str, **policies: Any) -> Decision:
    request = Request(principal, action, arn, resource_account=owner or None)
    return evaluate(request, Policies(**policies))


def test_same_account_identity_and_bucket_policy() -> None:
    """Policy evaluation for requests within a single account, "Example identity-based and
    resource-based policy evaluation": Carlos is denied the ...-logs bucket by DenyS3Logs and
    allowed his own bucket, where both policies allow; one Allow of either kind suffices."""
    carlos = Principal.user("arn:aws:iam::123456789012:user/carlossalazar")
    identity = [Policy.parse("carlossalazar", Kind.IDENTITY, CARLOS_POLICY)]
    bucket = _policy(
        "bucket",
        Kind.RESOURCE,
        {
            "Effect": "Allow",
            "Principal": {"AWS": carlos.arn},
            "Action": "s3:*",
            "Resource": [
                "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/*",
                "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar",
            ],
        },
    )
    logs = _ask(
        carlos,
        "s3:PutObject",
        "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/f",
        "123456789012",
        identity=identity,
        resource=bucket,
    )
    assert logs.explicit_deny and logs.statements == ("carlossalazar#DenyS3Logs",)
    own = "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/f"
    assert _ask(carlos, "s3:PutObject", own, "123456789012", identity=identity, resource=bucket)
    assert _ask(carlos, "s3:PutObject", own, "123456789012", resource=bucket)
    assert _ask(carlos, "s3:PutObject", own, "123456789012", identity=identity)


def test_cross_account_needs_both_accounts_to_allow() -> None:
    """Cross-account policy evaluation logic, "Example cross-account policy evaluation": Carlos
    (111111111111) writes to the Production bucket of 222222222222, is explicitly denied
    Production-logs, and cannot delete objects, which the bucket policy does not allow."""
    carlos = Principal.user("arn:aws:iam::111111111111:user/carlossalazar")
    identity = [
        _policy(
            "carlossalazar",
            Kind.IDENTITY,
            {
                "Sid": "AllowS3ListRead",
                "Effect": "Allow",
                "Action": "s3:ListAllMyBuckets",
                "Resource": "*",
            },
            {
                "Sid": "AllowS3ProductionObjectActions",
                "Effect": "Allow",
                "Action": "s3:*Object*",
                "Resource": "arn:aws:s3:::Production/*",
            },
            {
                "Sid": "DenyS3Logs",
                "Effect": "Deny",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::*log*", "arn:aws:s3:::*log*/*"],
            },
        )
    ]
    bucket = _policy(
        "production",
        Kind.RESOURCE,
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject*", "s3:PutObject*", "s3:ReplicateObject", "s3:RestoreObject"],
            "Principal": {"AWS": carlos.arn},
            "Resource": "arn:aws:s3:::Production/*",
        },
    )
    ask = {"identity": identity, "resource": bucket}
    assert _ask(
        carlos, "s3:PutObject", "arn:aws:s3:::Production-logs/f", "222222222222", identity=identity
    ).explicit_deny
    assert _ask(carlos, "s3:PutObject", "arn:aws:s3:::Production/f", "222222222222", **ask)
    delete = _ask(carlos, "s3:DeleteObject", "arn:aws:s3:::Production/f", "222222222222", **ask)
    assert delete.reason == "because no resource-based policy allows the s3:DeleteObject action"
    alone = _ask(
        carlos, "s3:PutObject", "arn:aws:s3:::Production/f", "222222222222", resource=bucket
    )
    assert alone.reason == "because no identity-based policy allows the s3:PutObject action"


def test_what_a_same_account_resource_policy_grants_depends_on_the_principal_named() -> None:
    """Policy evaluation logic, resource-based policies within one account: an Allow naming the
    role session is not limited by implicit denies in identity policies, boundaries or session
    policies; one naming the role is limited by the boundary and the session policy (not by the
    identity policy); one naming only the account delegates to identity-based policies."""
    role = "arn:aws:iam::111122223333:role/examplerole"
    session = Principal.role_session(role, "examplerolesessionname")
    boundary = _policy(
        "boundary", Kind.BOUNDARY, {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}
    )

    def bucket(name: str) -> Policy:
        return _policy(
            "bucket",
            Kind.RESOURCE,
            {
                "Effect": "Allow",
                "Principal": {"AWS": name},
                "Action": "s3:GetObject",
                "Resource": "*",
            },
        )

    key = "arn:aws:s3:::b/k"
    assert _ask(
        session,
        "s3:GetObject",
        key,
        "111122223333",
        resource=bucket(session.arn),
        boundary=boundary,
    )
    assert _ask(session, "s3:GetObject", key, "111122223333", resource=bucket(role))
    by_role = _ask(
        session, "s3:GetObject", key, "111122223333", resource=bucket(role), boundary=boundary
    )
    assert by_role.reason == "because no permissions boundary allows the s3:GetObject action"
    by_account = _ask(session, "s3:GetObject", key, "111122223333", resource=bucket("111122223333"))
    assert by_account.reason == "because no identity-based policy allows the s3:GetObject action"


def test_permissions_boundary_is_an_intersection() -> None:
    """Permissions boundaries for IAM entities: ShirleyRodriguez's boundary allows s3:*,
    cloudwatch:* and ec2:*, so her identity policy's iam:CreateUser is not allowed."""
    shirley = Principal.user("arn:aws:iam::123456789012:user/ShirleyRodriguez")
    boundary = _policy(
        "boundary",
        Kind.BOUNDARY,
        {"Effect": "Allow", "Action": ["s3:*", "cloudwatch:*", "ec2:*"], "Resource": "*"},
    )
    identity = [
        _policy(
            "id",
            Kind.IDENTITY,
            {"Effect": "Allow", "Action": ["iam:CreateUser", "s3:*"], "Resource": "*"},
        )
    ]
    create = _ask(
        shirley, "iam:CreateUser", "*", "123456789012", identity=identity, boundary=boundary
    )
    assert create.reason == "because no permissions boundary allows the iam:CreateUser action"
    assert _ask(
        shirley,
        "s3:ListBucket",
        "arn:aws:s3:::b",
        "123456789012",
        identity=identity,
        boundary=boundary,
    )


def test_scp_and_session_policy_must_also_allow() -> None:
    """Policy evaluation logic: an SCP without an applicable Allow denies ("because no service
    control policy allows"); a session policy intersects a role session's permissions."""
    session = Principal.role_session("arn:aws:iam::123456789012:role/r", "s")
    identity = [_policy("id", Kind.IDENTITY, {"Effect": "Allow", "Action": "*", "Resource": "*"})]
    scp = _policy("scp", Kind.SCP, {"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    ec2 = _ask(session, "ec2:RunInstances", "*", "123456789012", identity=identity, scps=[scp])
    assert ec2.reason == "because no service control policy allows the ec2:RunInstances action"
    limited = _policy(
        "session", Kind.SESSION, {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    )
    put = _ask(
        session,
        "s3:PutObject",
        "arn:aws:s3:::b/k",
        "123456789012",
        identity=identity,
        scps=[scp],
        session=limited,
    )
    assert put.reason == "because no session policy allows the s3:PutObject action"
    assert _ask(
        session,
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        "123456789012",
        identity=identity,
        scps=[scp],
        session=limited,
    )


def test_role_trust_policy_must_name_the_principal() -> None:
    """Policy evaluation logic: "IAM role trust policies and KMS key policies are exceptions ...
    because they must explicitly allow access for principals"; a service principal (Create IAM
    role with trust policy required by EKS Pod Identity) has no identity policy and is allowed
    by the trust policy alone."""
    role = "arn:aws:iam::111122223333:role/pod-role"
    trust = _policy(
        "trust",
        Kind.TRUST,
        {
            "Sid": "AllowEksAuthToAssumeRoleForPodIdentity",
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
        },
    )
    eks = Principal.service("pods.eks.amazonaws.com")
    for action in ("sts:AssumeRole", "sts:TagSession"):
        ok = _ask(eks, action, role, "111122223333", resource=trust, resource_must_allow=True)
        assert ok.statements == ("trust#AllowEksAuthToAssumeRoleForPodIdentity",)
    other = _ask(
        Principal.service("ec2.amazonaws.com"),
        "sts:AssumeRole",
        role,
        "111122223333",
        resource=trust,
        resource_must_allow=True,
    )
    assert other.reason == "because no role trust policy allows the sts:AssumeRole action"
    user = Principal.user("arn:aws:iam::111122223333:user/u")
    admin = [
        _policy(
            "id", Kind.IDENTITY, {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}
        )
    ]
    assert not _ask(
        user,
        "sts:AssumeRole",
        role,
        "111122223333",
        identity=admin,
        resource=trust,
        resource_must_allow=True,
    )


def test_key_policy_root_statement_delegates_to_iam_policies() -> None:
    """AWS KMS key policies (named with role trust policies as an exception in Policy evaluation
    logic): a key policy allowing arn:aws:iam::<account>:root lets IAM policies of that account
    grant access; without an identity Allow the request is denied."""
    key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd"
    policy = _policy(
        "key",
        Kind.RESOURCE,
        {
            "Sid": "Enable IAM policies",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
    )
    session = Principal.role_session("arn:aws:iam::111122223333:role/app", "s")
    identity = [
        _policy("id", Kind.IDENTITY, {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key})
    ]
    assert _ask(
        session,
        "kms:Decrypt",
        key,
        "111122223333",
        identity=identity,
        resource=policy,
        resource_must_allow=True,
    )
    alone = _ask(
        session, "kms:Decrypt", key, "111122223333", resource=policy, resource_must_allow=True
    )
    assert alone.reason == "because no identity-based policy allows the kms:Decrypt action"


def test_vpc_endpoint_policy_must_allow_what_goes_through_it() -> None:
    """Troubleshoot access denied error messages ("because no VPC endpoint policy allows the
    ... action", "with an explicit deny in a VPC endpoint policy"); PrivateLink Guide: an
    endpoint policy does not override or replace identity-based policies; Amazon Bedrock, "Use
    interface VPC endpoints": the example policy allowing bedrock:InvokeModel and
    bedrock:InvokeModelWithResponseStream for all principals on all resources."""
    endpoint = _policy(
        "endpoint",
        Kind.ENDPOINT,
        {
            "Principal": "*",
            "Effect": "Allow",
            "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
            "Resource": "*",
        },
    )
    session = Principal.role_session("arn:aws:iam::123456789012:role/agent", "s")
    identity = [
        _policy("id", Kind.IDENTITY, {"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"})
    ]
    model = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0"
    guardrail = "arn:aws:bedrock:us-east-1:123456789012:guardrail/g1"
    assert _ask(session, "bedrock:InvokeModel", model, "", identity=identity, endpoint=endpoint)
    apply = _ask(
        session, "bedrock:ApplyGuardrail", guardrail, "", identity=identity, endpoint=endpoint
    )
    assert apply.reason == "because no VPC endpoint policy allows the bedrock:ApplyGuardrail action"
    assert _ask(session, "bedrock:ApplyGuardrail", guardrail, "", identity=identity)
    no_identity = _ask(session, "bedrock:InvokeModel", model, "", endpoint=endpoint)
    assert (
        no_identity.reason
        == "because no identity-based policy allows the bedrock:InvokeModel action"
    )
    deny = _policy(
        "endpoint",
        Kind.ENDPOINT,
        {"Principal": "*", "Effect": "Allow", "Action": "*", "Resource": "*"},
        {
            "Sid": "NoNova",
            "Principal": "*",
            "Effect": "Deny",
            "Action": "bedrock:*",
            "Resource": "arn:aws:bedrock:*::foundation-model/amazon.nova-*",
        },
    )
    denied = _ask(session, "bedrock:InvokeModel", model, "", identity=identity, endpoint=deny)
    assert denied.reason == "with an explicit deny in a VPC endpoint policy"
    assert denied.statements == ("endpoint#NoNova",)
