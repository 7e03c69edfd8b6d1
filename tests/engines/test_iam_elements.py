"""Action/NotAction, Resource/NotResource, Principal/NotPrincipal, Effect and policy variables,
each case taken from the AWS IAM User Guide page named in its docstring."""

from __future__ import annotations

import pytest

from substrate.engines.iam import (
    Kind,
    Policies,
    Policy,
    PolicyError,
    Principal,
    Request,
    UndocumentedError,
    evaluate,
)
from tests.engines.iam_helpers import USER, decide, doc

ALLOW_ALL_S3 = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}


def test_action_names_are_case_insensitive_and_take_wildcards() -> None:
    """IAM JSON policy elements: Action: "iam:ListAccessKeys is the same as
    IAM:listaccesskeys"; "iam:*AccessKey*" covers CreateAccessKey, DeleteAccessKey,
    ListAccessKeys and UpdateAccessKey."""
    stmt = {"Effect": "Allow", "Action": "IAM:listaccesskeys", "Resource": "*"}
    assert decide("iam:ListAccessKeys", "arn:aws:iam::123456789012:user/x", stmt)
    wildcard = {"Effect": "Allow", "Action": "iam:*AccessKey*", "Resource": "*"}
    for action in ("CreateAccessKey", "DeleteAccessKey", "ListAccessKeys", "UpdateAccessKey"):
        assert decide(f"iam:{action}", "arn:aws:iam::123456789012:user/x", wildcard)
    assert not decide("iam:CreateUser", "arn:aws:iam::123456789012:user/x", wildcard)


@pytest.mark.parametrize(
    ("key", "matches"),
    [
        ("1/test/object.jpg", True),
        ("1/2/test/object.jpg", True),
        ("1/2/test/3/object.jpg", True),
        ("1/2/3/test/4/object.jpg", True),
        ("1///test///object.jpg", True),
        ("1/test/.jpg", True),
        ("/test/object.jpg", True),
        ("1/test/", True),
        ("1-test/object.jpg", False),
        ("test/object.jpg", False),
        ("1/2/test.jpg", False),
    ],
)
def test_resource_wildcards_cross_slashes(key: str, matches: bool) -> None:
    """IAM JSON policy elements: Resource, "Using wildcards in resource ARNs": the listed
    objects that arn:aws:s3:::DOC-EXAMPLE-BUCKET/*/test/* does and does not cover."""
    stmt = {
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*/test/*",
    }
    assert bool(decide("s3:GetObject", f"arn:aws:s3:::DOC-EXAMPLE-BUCKET/{key}", stmt)) is matches


def test_resource_arns_are_case_sensitive() -> None:
    """IAM JSON policy elements: Condition operators (ARN operators are case sensitive); the
    Resource element is matched the same way."""
    stmt = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::Bucket/*"}
    assert decide("s3:GetObject", "arn:aws:s3:::Bucket/a", stmt)
    assert not decide("s3:GetObject", "arn:aws:s3:::bucket/a", stmt)


def test_not_action_with_deny_denies_everything_else() -> None:
    """AWS: Denies access to AWS based on the requested Region: Deny with NotAction
    [cloudfront:*, iam:*, route53:*, support:*] and StringNotEquals aws:RequestedRegion denies
    other services outside the listed Regions and leaves the global services alone."""
    deny = {
        "Sid": "DenyAllOutsideRequestedRegions",
        "Effect": "Deny",
        "NotAction": ["cloudfront:*", "iam:*", "route53:*", "support:*"],
        "Resource": "*",
        "Condition": {
            "StringNotEquals": {
                "aws:RequestedRegion": ["eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3"]
            }
        },
    }
    allow = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    ec2 = "arn:aws:ec2:us-east-1:123456789012:instance/i-1"
    outside = decide(
        "ec2:StartInstances", ec2, deny, allow, context={"aws:RequestedRegion": "us-east-1"}
    )
    assert not outside and outside.explicit_deny
    assert outside.statements == ("identity#DenyAllOutsideRequestedRegions",)
    assert decide("iam:ListUsers", "*", deny, allow, context={"aws:RequestedRegion": "us-east-1"})
    assert decide(
        "ec2:StartInstances", ec2, deny, allow, context={"aws:RequestedRegion": "eu-west-1"}
    )


def test_not_action_with_allow_grants_all_other_actions_on_the_resources() -> None:
    """IAM JSON policy elements: NotAction: Allow NotAction s3:DeleteBucket on arn:aws:s3:::*
    allows other S3 actions on S3 resources, not DeleteBucket, not ListAllMyBuckets on "*"."""
    stmt = {"Effect": "Allow", "NotAction": "s3:DeleteBucket", "Resource": "arn:aws:s3:::*"}
    assert decide("s3:PutObject", "arn:aws:s3:::b/k", stmt)
    assert not decide("s3:DeleteBucket", "arn:aws:s3:::b", stmt)
    assert not decide("s3:ListAllMyBuckets", "*", stmt)


def test_not_resource_with_deny() -> None:
    """IAM JSON policy elements: NotResource (HRPayroll): Deny s3:* NotResource HRBucket/Payroll
    denies every other S3 resource; with a broad Allow only the Payroll folder stays usable."""
    deny = {
        "Effect": "Deny",
        "Action": "s3:*",
        "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"],
    }
    assert decide("s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/a.csv", deny, ALLOW_ALL_S3)
    assert not decide("s3:GetObject", "arn:aws:s3:::HRBucket/Other/a.csv", deny, ALLOW_ALL_S3)
    assert not decide("s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/a.csv", deny)


def test_explicit_deny_overrides_allow_and_silence_is_an_implicit_deny() -> None:
    """Policy evaluation logic, "The difference between explicit and implicit denies":
    AllowGetList (iam:Get*, iam:List*) and DenyReports (iam:*Report)."""
    get_list = {
        "Sid": "AllowGetList",
        "Effect": "Allow",
        "Action": ["iam:Get*", "iam:List*"],
        "Resource": "*",
    }
    reports = {"Sid": "DenyReports", "Effect": "Deny", "Action": "iam:*Report", "Resource": "*"}
    assert decide("iam:GetUser", "*", get_list, reports).statements == ("identity#AllowGetList",)
    implicit = decide("iam:CreatePolicy", "*", get_list, reports)
    assert implicit.reason == "because no identity-based policy allows the iam:CreatePolicy action"
    explicit = decide("iam:GetOrganizationsAccessReport", "*", get_list, reports)
    assert explicit.reason == "with an explicit deny in an identity-based policy"
    assert explicit.statements == ("identity#DenyReports",)


def test_policy_variables_in_resources_and_conditions() -> None:
    """IAM policy elements: Variables and tags: ${aws:username} in the resource part of an ARN
    and in StringLike; a default value ${aws:PrincipalTag/team, 'company-wide'}; a variable
    without a value matches nothing; without Version 2012-10-17 variables are literal text."""
    own = {
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": ["arn:aws:s3:::mybucket/${aws:username}/*"],
    }
    assert decide("s3:GetObject", "arn:aws:s3:::mybucket/carlossalazar/a", own)
    assert not decide("s3:GetObject", "arn:aws:s3:::mybucket/david/a", own)
    assert not decide("s3:GetObject", "arn:aws:s3:::mybucket/carlossalazar/a", own, version=None)
    team = {
        "Effect": "Allow",
        "Action": "s3:*",
        "Resource": "arn:aws:s3:::DOC-EXAMPLE-BUCKET-${aws:PrincipalTag/team, 'company-wide'}",
    }
    yellow = Principal.user("arn:aws:iam::123456789012:user/ana", tags={"team": "yellow"})
    assert decide("s3:ListBucket", "arn:aws:s3:::DOC-EXAMPLE-BUCKET-yellow", team, principal=yellow)
    assert decide("s3:ListBucket", "arn:aws:s3:::DOC-EXAMPLE-BUCKET-company-wide", team)
    assert not decide("s3:ListBucket", "arn:aws:s3:::DOC-EXAMPLE-BUCKET-yellow", team)
    prefix = {
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": "arn:aws:s3:::mybucket",
        "Condition": {"StringLike": {"s3:prefix": ["${aws:username}/*"]}},
    }
    assert decide(
        "s3:ListBucket", "arn:aws:s3:::mybucket", prefix, context={"s3:prefix": "carlossalazar/x"}
    )
    assert not decide(
        "s3:ListBucket", "arn:aws:s3:::mybucket", prefix, context={"s3:prefix": "david/x"}
    )


def test_a_variable_without_a_value() -> None:
    """IAM policy elements: Variables and tags, "Policy variables with no value": StringEquals
    does not match, StringNotEquals does; a Resource with such a variable matches nothing."""
    team = {
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": "*",
        "Condition": {"StringEquals": {"s3:ExistingObjectTag/Team": "${aws:PrincipalTag/Team}"}},
    }
    assert not decide(
        "s3:GetObject", "arn:aws:s3:::b/k", team, context={"s3:ExistingObjectTag/Team": "x"}
    )
    other = {**team, "Condition": {"StringNotEquals": team["Condition"]["StringEquals"]}}
    assert decide(
        "s3:GetObject", "arn:aws:s3:::b/k", other, context={"s3:ExistingObjectTag/Team": "x"}
    )
    resource = {
        "Effect": "Allow",
        "Action": "s3:*",
        "Resource": "arn:aws:s3:::b/${aws:PrincipalTag/Team}/*",
    }
    assert not decide("s3:GetObject", "arn:aws:s3:::b//k", resource)
    literal = {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${*}"}
    assert decide("s3:GetObject", "arn:aws:s3:::b/*", literal)
    assert not decide("s3:GetObject", "arn:aws:s3:::b/k", literal)


def test_a_wildcard_arriving_through_a_variable_is_refused() -> None:
    """IAM policy elements: Variables and tags documents ${*} for a literal asterisk but not what
    an asterisk inside a substituted request value means in a wildcard pattern: refused."""
    stmt = {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:PrincipalTag/t}"}
    star = Principal.user("arn:aws:iam::123456789012:user/a", tags={"t": "*"})
    with pytest.raises(UndocumentedError):
        decide("s3:GetObject", "arn:aws:s3:::b/k", stmt, principal=star)


ROLE = "arn:aws:iam::444455556666:role/cross-account-read-only-role"
SESSION = Principal.role_session(ROLE, "cross-account-audit-app")


def _bucket(*statements: dict, name: str = "bucket") -> Policy:
    return Policy.parse(name, Kind.RESOURCE, doc(*statements))


def _on_bucket(principal: Principal, policy: Policy, identity: list[dict]) -> bool:
    policies = Policies(
        identity=[Policy.parse("id", Kind.IDENTITY, doc(*identity))], resource=policy
    )
    request = Request(
        principal,
        "s3:GetObject",
        "arn:aws:s3:::Bucket_AccountAudit/k",
        resource_account="111122223333",
    )
    return evaluate(request, policies).allowed


def test_not_principal_spares_only_a_fully_listed_principal() -> None:
    """AWS JSON policy elements: NotPrincipal, "IAM role in the same or different account":
    Deny s3:* NotPrincipal [assumed-role session, its role, its account] spares that session;
    without the role or the account ARN the session is denied as well."""
    allow = {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:*", "Resource": "*"}
    listed = [SESSION.arn, ROLE, "arn:aws:iam::444455556666:root"]
    identity = [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]
    for names, spared in ((listed, True), (listed[:1], False), (listed[:2], False)):
        deny = {"Effect": "Deny", "NotPrincipal": {"AWS": names}, "Action": "s3:*", "Resource": "*"}
        assert _on_bucket(SESSION, _bucket(deny, allow), identity) is spared
    other = Principal.role_session("arn:aws:iam::444455556666:role/other", "x")
    deny = {"Effect": "Deny", "NotPrincipal": {"AWS": listed}, "Action": "s3:*", "Resource": "*"}
    assert not _on_bucket(other, _bucket(deny, {**allow, "Principal": "*"}), identity)


def test_not_principal_deny_always_reaches_a_principal_with_a_boundary() -> None:
    """AWS JSON policy elements: NotPrincipal, Key points: "The NotPrincipal element with a
    Deny effect will always deny any IAM principal that has a permissions boundary policy
    attached, regardless of the values specified in the NotPrincipal element." """
    bob = Principal.user("arn:aws:iam::444455556666:user/Bob", has_boundary=True)
    deny = {
        "Effect": "Deny",
        "NotPrincipal": {"AWS": [bob.arn, "arn:aws:iam::444455556666:root"]},
        "Action": "s3:*",
        "Resource": "*",
    }
    allow = {"Effect": "Allow", "Principal": {"AWS": bob.arn}, "Action": "s3:*", "Resource": "*"}
    policies = Policies(
        identity=[Policy.parse("id", Kind.IDENTITY, doc(ALLOW_ALL_S3))],
        boundary=Policy.parse("boundary", Kind.BOUNDARY, doc(ALLOW_ALL_S3)),
        resource=_bucket(deny, allow),
    )
    request = Request(
        bob, "s3:GetObject", "arn:aws:s3:::BUCKETNAME/k", resource_account="111122223333"
    )
    assert evaluate(request, policies).explicit_deny


def test_account_id_and_root_arn_name_the_same_principals() -> None:
    """AWS JSON policy elements: Principal, AWS account principals: "The account ARN and the
    shortened account ID behave the same way" and do not mean only the root user."""
    for name in ("444455556666", "arn:aws:iam::444455556666:root"):
        allow = {"Effect": "Allow", "Principal": {"AWS": name}, "Action": "s3:*", "Resource": "*"}
        assert _on_bucket(SESSION, _bucket(allow), [ALLOW_ALL_S3])
        stranger = Principal.user("arn:aws:iam::999999999999:user/x")
        assert not _on_bucket(stranger, _bucket(allow), [ALLOW_ALL_S3])


@pytest.mark.parametrize(
    ("kind", "statement", "message"),
    [
        (
            Kind.IDENTITY,
            {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"},
            "cannot name a Principal",
        ),
        (
            Kind.TRUST,
            {"Effect": "Deny", "NotPrincipal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole"},
            "NotPrincipal is not allowed in a role trust policy",
        ),
        (
            Kind.RESOURCE,
            {
                "Effect": "Allow",
                "NotPrincipal": {"AWS": "111122223333"},
                "Action": "s3:*",
                "Resource": "*",
            },
            "only with",
        ),
        (
            Kind.RESOURCE,
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:user/*"},
                "Action": "s3:*",
                "Resource": "*",
            },
            "cannot match part of a principal",
        ),
        (Kind.IDENTITY, {"Effect": "allow", "Action": "s3:*", "Resource": "*"}, "case sensitive"),
        (Kind.IDENTITY, {"Effect": "Allow", "Action": "s3:*"}, "Resource or NotResource"),
    ],
)
def test_documents_iam_refuses(kind: Kind, statement: dict, message: str) -> None:
    """AWS JSON policy elements: Principal ("You cannot use the Principal element in an
    identity-based policy"; no partial wildcards), NotPrincipal (not in a role trust policy;
    must be used with Deny), Effect (Allow or Deny, case sensitive), Resource (a statement
    includes Resource or NotResource)."""
    with pytest.raises(PolicyError, match=message):
        Policy.parse("p", kind, doc(statement))


def test_user_principal_variables() -> None:
    """IAM policy elements: Variables and tags, "Principal key values": aws:username is the IAM
    user's friendly name and is not present for a role session."""
    stmt = {
        "Effect": "Allow",
        "Action": "iam:*AccessKey*",
        "Resource": ["arn:aws:iam::123456789012:user/${aws:username}"],
    }
    assert decide("iam:CreateAccessKey", USER.arn, stmt)
    session = Principal.role_session("arn:aws:iam::123456789012:role/r", "carlossalazar")
    assert not decide("iam:CreateAccessKey", USER.arn, stmt, principal=session)
