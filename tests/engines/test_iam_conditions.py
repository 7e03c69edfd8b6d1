"""Condition operators, IfExists, set operators and multiple keys/values, each case taken from
the AWS IAM User Guide page named in its docstring, asserting the documented outcome."""

from __future__ import annotations

import pytest

from substrate.engines.iam import UndocumentedError
from tests.engines.iam_helpers import holds

DEPARTMENT_ROLE_ARN = {
    "StringEquals": {
        "aws:PrincipalTag/department": ["finance", "hr", "legal"],
        "aws:PrincipalTag/role": ["audit", "security"],
    },
    "ArnLike": {
        "aws:PrincipalArn": [
            "arn:aws:iam::222222222222:user/Ana",
            "arn:aws:iam::222222222222:user/Mary",
        ]
    },
}
NEGATED = {
    "StringEquals": DEPARTMENT_ROLE_ARN["StringEquals"],
    "ArnNotLike": DEPARTMENT_ROLE_ARN["ArnLike"],
}
MARY = "arn:aws:iam::222222222222:user/Mary"
NIKKI = "arn:aws:iam::222222222222:user/Nikki"


@pytest.mark.parametrize(
    ("department", "role", "arn", "expected"),
    [
        ("legal", "audit", MARY, True),
        ("hr", "audit", NIKKI, False),
        ("hr", "payroll", MARY, False),
        ("hr", None, MARY, False),
        (None, None, MARY, False),
    ],
)
def test_keys_and_operators_are_and_values_are_or(
    department: str | None, role: str | None, arn: str, expected: bool
) -> None:
    """Conditions with multiple context keys or values: the ExamplePolicy table (StringEquals
    on two principal tags, ArnLike on aws:PrincipalArn), its five documented rows."""
    assert holds(DEPARTMENT_ROLE_ARN, _context(department, role, arn)) is expected


def _context(department: str | None, role: str | None, arn: str) -> dict[str, str]:
    context = {"aws:PrincipalArn": arn}
    if department:
        context["aws:PrincipalTag/department"] = department
    if role:
        context["aws:PrincipalTag/role"] = role
    return context


@pytest.mark.parametrize(
    ("department", "role", "arn", "expected"),
    [
        ("legal", "audit", NIKKI, True),
        ("hr", "audit", MARY, False),
        ("hr", "payroll", NIKKI, False),
        ("hr", None, NIKKI, False),
        (None, None, NIKKI, False),
    ],
)
def test_negated_operator_values_are_nor(
    department: str | None, role: str | None, arn: str, expected: bool
) -> None:
    """Conditions with multiple context keys or values, "Evaluation logic for negated matching
    condition operators": ArnNotLike with two ARNs holds only when the principal matches
    neither (NOR). The five documented rows."""
    assert holds(NEGATED, _context(department, role, arn)) is expected


@pytest.mark.parametrize(
    ("tag_keys", "denied"),
    [(["key1:legal"], False), (["key1:hr", "key1:personnel"], False), (["key2:audit"], True)],
)
def test_for_all_values_string_not_like(tag_keys: list[str], denied: bool) -> None:
    """Multivalued context key examples, "Deny a single policy condition value for a
    multivalued context key": ForAllValues:StringNotLike aws:TagKeys "key1*" matches only when
    every request tag key lacks the prefix."""
    condition = {"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}}
    assert holds(condition, {"aws:TagKeys": tag_keys}) is denied


def test_for_all_values_is_true_without_the_key_or_with_an_empty_set() -> None:
    """Multivalued context key examples: "The ForAllValues set operator also returns true if
    there are no context keys in the request" (table row: no aws:TagKeys -> Match); Conditions
    with multiple keys or values: "if the key values resolve to a null data set, such as an
    empty string". A Null false condition closes that gap."""
    condition = {"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}}
    assert holds(condition, {})
    assert holds(condition, {"aws:TagKeys": []})
    assert holds(condition, {"aws:TagKeys": [""]})
    closed = {**condition, "Null": {"aws:TagKeys": "false"}}
    assert not holds(closed, {})
    assert holds(closed, {"aws:TagKeys": ["key2:audit"]})


@pytest.mark.parametrize(
    ("attributes", "allowed"),
    [(["Message", "Tags"], True), (["ID", "Message"], True), (["ID", "UserName"], False)],
)
def test_for_all_values_every_request_value_must_be_listed(
    attributes: list[str], allowed: bool
) -> None:
    """Conditions with multiple keys or values (DynamoDB Thread table): ForAllValues:StringEquals
    dynamodb:Attributes [ID, Message, Tags] allows Message+Tags, and denies a request that also
    asks for UserName."""
    condition = {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["ID", "Message", "Tags"]}}
    assert holds(condition, {"dynamodb:Attributes": attributes}) is allowed


@pytest.mark.parametrize(
    ("attributes", "match"),
    [(["PostDateTime", "Message"], True), (["UserName"], False), ([], False), (None, False)],
)
def test_for_any_value_needs_one_listed_request_value(
    attributes: list[str] | None, match: bool
) -> None:
    """Conditions with multiple keys or values: ForAnyValue:StringEquals dynamodb:Attributes
    [ID, PostDateTime] is true for PostDateTime+Message, false for UserName alone, and false for
    a null data set or a missing key."""
    condition = {"ForAnyValue:StringEquals": {"dynamodb:Attributes": ["ID", "PostDateTime"]}}
    context = {} if attributes is None else {"dynamodb:Attributes": attributes}
    assert holds(condition, context) is match


def test_missing_key_is_false_but_negated_operators_are_true() -> None:
    """IAM JSON policy elements: Condition operators: "If the key that you specify in a policy
    condition is not present in the request context, the values do not match and the condition
    is false. If the policy condition requires that the key is not matched, such as
    StringNotLike or ArnNotLike, and the right key is not present, the condition is true." """
    assert not holds({"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}}, {})
    for negated in (
        "StringNotEquals",
        "StringNotLike",
        "ArnNotLike",
        "ArnNotEquals",
        "StringNotEqualsIgnoreCase",
        "NumericNotEquals",
        "DateNotEquals",
        "NotIpAddress",
    ):
        value = {
            "NotIpAddress": "203.0.113.0/24",
            "NumericNotEquals": "1",
            "DateNotEquals": "2020-01-01T00:00:00Z",
        }.get(negated, "x")
        assert holds({negated: {"aws:SomeMissingKey": value}}, {}), negated


def test_if_exists_only_checks_a_key_that_is_present() -> None:
    """IAM JSON policy elements: Condition operators, "...IfExists condition operators":
    StringLikeIfExists ec2:InstanceType ["t1.*", "t2.*", "m3.*"] holds for resources without the
    key (images, key pairs) and checks instances that have it; plain StringLike fails without the
    key ("THISPOLICYDOESNOTWORK")."""
    types = ["t1.*", "t2.*", "m3.*"]
    assert holds({"StringLikeIfExists": {"ec2:InstanceType": types}}, {})
    assert holds(
        {"StringLikeIfExists": {"ec2:InstanceType": types}}, {"ec2:InstanceType": "t2.micro"}
    )
    assert not holds(
        {"StringLikeIfExists": {"ec2:InstanceType": types}}, {"ec2:InstanceType": "m5.large"}
    )
    assert not holds({"StringLike": {"ec2:InstanceType": types}}, {})


def test_null_checks_presence() -> None:
    """IAM JSON policy elements: Condition operators, "Condition operator to check existence of
    condition keys": Null aws:TokenIssueTime "true" holds only without temporary credentials."""
    assert holds({"Null": {"aws:TokenIssueTime": "true"}}, {})
    assert not holds({"Null": {"aws:TokenIssueTime": "true"}}, {"aws:TokenIssueTime": "2020"})
    assert holds({"Null": {"aws:TokenIssueTime": "false"}}, {"aws:TokenIssueTime": "2020"})


def test_string_operators_case_and_wildcards() -> None:
    """IAM JSON policy elements: Condition (StringEquals johndoe does not match JohnDoe;
    StringEqualsIgnoreCase matches both) and Condition operators (StringLike * and ? anywhere)."""
    assert not holds({"StringEquals": {"aws:username": "johndoe"}}, {"aws:username": "JohnDoe"})
    assert holds(
        {"StringEqualsIgnoreCase": {"aws:username": "johndoe"}}, {"aws:username": "JohnDoe"}
    )
    assert holds({"StringLike": {"s3:prefix": "home/?an*/"}}, {"s3:prefix": "home/jane/x/"})
    assert not holds({"StringLike": {"s3:prefix": "home/?an*/"}}, {"s3:prefix": "home/jo/"})
    # StringEquals has no wildcards: "*" is a character.
    assert not holds({"StringEquals": {"s3:prefix": "home/*"}}, {"s3:prefix": "home/jane"})


def test_numeric_date_bool_binary_ip() -> None:
    """IAM JSON policy elements: Condition operators examples: NumericLessThanEquals s3:max-keys
    10; DateGreaterThan aws:TokenIssueTime 2020-01-01T00:00:01Z (ISO 8601 or epoch); Bool
    aws:SecureTransport false; BinaryEquals against a base-64 value; IpAddress aws:SourceIp
    203.0.113.0/24 and 2001:DB8:1234:5678::/64, a bare address meaning /32."""
    assert holds({"NumericLessThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"})
    assert not holds({"NumericLessThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "11"})
    after = {"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}}
    assert holds(after, {"aws:TokenIssueTime": "2020-06-01T00:00:00Z"})
    assert not holds(after, {"aws:TokenIssueTime": "2019-12-31T23:00:00-00:30"})
    assert holds(after, {"aws:TokenIssueTime": "1590969600"})  # epoch, 2020-06-01
    assert holds({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": "false"})
    assert not holds({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": "true"})
    binary = {"BinaryEquals": {"key": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}
    assert holds(binary, {"key": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="})
    ranges = {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}}
    assert holds(ranges, {"aws:SourceIp": "203.0.113.77"})
    assert holds(ranges, {"aws:SourceIp": "2001:db8:1234:5678::1"})
    assert not holds(ranges, {"aws:SourceIp": "198.51.100.1"})
    assert holds({"IpAddress": {"aws:SourceIp": "203.0.113.5"}}, {"aws:SourceIp": "203.0.113.5"})
    assert not holds(
        {"IpAddress": {"aws:SourceIp": "203.0.113.5"}}, {"aws:SourceIp": "203.0.113.6"}
    )


def test_arn_operators_match_component_by_component() -> None:
    """IAM JSON policy elements: Condition operators, ARN condition operators: pattern
    arn:aws:someservice:*:111122223333:finance/* against
    arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt
    matches with StringLike but not with ArnLike (the first * stays within the Region)."""
    pattern = "arn:aws:someservice:*:111122223333:finance/*"
    value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
    assert holds({"StringLike": {"aws:SourceArn": pattern}}, {"aws:SourceArn": value})
    assert not holds({"ArnLike": {"aws:SourceArn": pattern}}, {"aws:SourceArn": value})
    assert not holds({"ArnEquals": {"aws:SourceArn": pattern}}, {"aws:SourceArn": value})
    good = "arn:aws:someservice:us-east-2:111122223333:finance/document.txt"
    assert holds({"ArnEquals": {"aws:SourceArn": pattern}}, {"aws:SourceArn": good})


def test_a_plain_operator_over_several_request_values_is_refused() -> None:
    """Single-valued vs. multivalued context keys: "Multivalued context keys require a
    condition set operator"; AWS documents no outcome without one, so the model refuses."""
    with pytest.raises(UndocumentedError, match="ForAllValues or ForAnyValue"):
        holds({"StringEquals": {"aws:TagKeys": "a"}}, {"aws:TagKeys": ["a", "b"]})


def test_condition_key_names_are_not_case_sensitive() -> None:
    """IAM JSON policy elements: Condition: "including the aws:SourceIP condition key is
    equivalent to testing for AWS:SourceIp"."""
    assert holds({"IpAddress": {"aws:SourceIP": "203.0.113.0/24"}}, {"AWS:SourceIp": "203.0.113.9"})
