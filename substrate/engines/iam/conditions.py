"""The Condition element: every operator of the IAM JSON reference, IfExists, set operators.

Sources (IAM User Guide):
- "IAM JSON policy elements: Condition operators": String*, Numeric*, Date* (W3C ISO 8601 or
  epoch, no wildcards), Bool, BinaryEquals (base-64 policy value compared byte for byte),
  IpAddress/NotIpAddress (CIDR, a bare address is /32), Arn* (ArnEquals == ArnLike), Null
  ("true": the key is absent), ...IfExists (a missing key makes the condition true; not for
  Null). A missing key is false, except that negated operators (StringNotLike, ArnNotLike, ...)
  are true.
- "Conditions with multiple context keys or values": operators and keys AND, the values of one
  key OR, and for a negated operator NOR.
- "Single-valued vs. multivalued context keys" and "Multivalued context key examples":
  ForAllValues is true when every request value matches a policy value, and also when the key
  is missing or resolves to an empty set; ForAnyValue needs one matching request value and is
  false for a missing key or an empty set.
- "IAM policy elements: Variables and tags": variables in String, ARN (and, per the operators
  page, Bool) values; a variable without a value matches nothing, so negated operators match.
A plain (non set) operator over a request key with several values is not documented: refused.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from substrate.engines.iam.matching import (
    Context,
    UnresolvedVariableError,
    arn_matches,
    compile_pattern,
    substitute,
)
from substrate.engines.iam.model import PolicyError, UndocumentedError

Match = Callable[[str, str, Context | None], bool]
"""(policy value, request value, context for variables or None) -> does it match."""


def _string_equals(p: str, v: str, ctx: Context | None) -> bool:
    return substitute(p, ctx) == v


def _string_equals_ic(p: str, v: str, ctx: Context | None) -> bool:
    return substitute(p, ctx).lower() == v.lower()


def _string_like(p: str, v: str, ctx: Context | None) -> bool:
    return compile_pattern(p, ctx).fullmatch(v) is not None


def _arn(p: str, v: str, ctx: Context | None) -> bool:
    return arn_matches(p, v, ctx)


def _bool(p: str, v: str, ctx: Context | None) -> bool:
    return substitute(p, ctx).lower() == v.lower()


def _number(text: str) -> Decimal:
    return Decimal(text.strip())


def _numeric(compare: Callable[[Decimal, Decimal], bool]) -> Match:
    def match(p: str, v: str, ctx: Context | None) -> bool:
        del ctx
        try:
            policy = _number(p)
        except InvalidOperation as err:
            raise PolicyError(f"{p!r} is not a number") from err
        try:
            return compare(_number(v), policy)
        except InvalidOperation:
            return False

    return match


_W3C = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<mo>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d+))?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2}))?)?)?$"
)


def parse_date(text: str) -> datetime:
    """A W3C ISO 8601 date/time (YYYY, YYYY-MM, YYYY-MM-DD, ...Thh:mm[:ss[.s]]TZD) or epoch
    seconds, as an aware UTC datetime."""
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text) and len(text.split(".")[0]) != 4:
        return datetime.fromtimestamp(float(text), tz=UTC)
    m = _W3C.match(text)
    if m is None:
        raise ValueError(f"{text!r} is not a W3C ISO 8601 date or epoch time")
    tz = m["tz"] or "Z"
    stamp = datetime(
        int(m["y"]),
        int(m["mo"] or 1),
        int(m["d"] or 1),
        int(m["h"] or 0),
        int(m["mi"] or 0),
        int(m["s"] or 0),
        int((m["f"] or "0")[:6].ljust(6, "0")),
        tzinfo=UTC,
    )
    if tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        hours, minutes = int(tz[1:3]), int(tz[4:6])
        stamp -= sign * timedelta(hours=hours, minutes=minutes)
    return stamp


def _date(compare: Callable[[datetime, datetime], bool]) -> Match:
    def match(p: str, v: str, ctx: Context | None) -> bool:
        del ctx
        if "*" in p:
            raise PolicyError(f"{p!r}: wildcards are not permitted for date operators")
        try:
            policy = parse_date(p)
        except ValueError as err:
            raise PolicyError(str(err)) from err
        try:
            return compare(parse_date(v), policy)
        except ValueError:
            return False

    return match


def _binary(p: str, v: str, ctx: Context | None) -> bool:
    """The request value is given base-64 encoded, like the policy value."""
    del ctx
    try:
        return base64.b64decode(p, validate=True) == base64.b64decode(v, validate=True)
    except ValueError:
        return False


def _ip(p: str, v: str, ctx: Context | None) -> bool:
    del ctx
    try:
        network = ipaddress.ip_network(p.strip(), strict=False)
    except ValueError as err:
        raise PolicyError(f"{p!r} is not an IP address or CIDR") from err
    try:
        address = ipaddress.ip_address(v.strip())
    except ValueError:
        return False
    return address.version == network.version and address in network


BASE: dict[str, tuple[Match, bool]] = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringEqualsIgnoreCase": (_string_equals_ic, False),
    "StringNotEqualsIgnoreCase": (_string_equals_ic, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "NumericEquals": (_numeric(lambda v, p: v == p), False),
    "NumericNotEquals": (_numeric(lambda v, p: v == p), True),
    "NumericLessThan": (_numeric(lambda v, p: v < p), False),
    "NumericLessThanEquals": (_numeric(lambda v, p: v <= p), False),
    "NumericGreaterThan": (_numeric(lambda v, p: v > p), False),
    "NumericGreaterThanEquals": (_numeric(lambda v, p: v >= p), False),
    "DateEquals": (_date(lambda v, p: v == p), False),
    "DateNotEquals": (_date(lambda v, p: v == p), True),
    "DateLessThan": (_date(lambda v, p: v < p), False),
    "DateLessThanEquals": (_date(lambda v, p: v <= p), False),
    "DateGreaterThan": (_date(lambda v, p: v > p), False),
    "DateGreaterThanEquals": (_date(lambda v, p: v >= p), False),
    "Bool": (_bool, False),
    "BinaryEquals": (_binary, False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
    "ArnEquals": (_arn, False),
    "ArnLike": (_arn, False),
    "ArnNotEquals": (_arn, True),
    "ArnNotLike": (_arn, True),
}
VARIABLES = ("String", "Arn", "Bool")
"""Operator families whose values may hold policy variables."""


def _parse(operator: str) -> tuple[str | None, str, bool]:
    qualifier, _, base = operator.rpartition(":")
    if qualifier not in ("", "ForAllValues", "ForAnyValue"):
        raise PolicyError(f"{operator}: unknown set operator {qualifier!r}")
    if_exists = base.endswith("IfExists") and base != "IfExists"
    if if_exists:
        base = base[: -len("IfExists")]
    if base == "Null":
        if if_exists or qualifier:
            raise PolicyError(f"{operator}: Null takes neither IfExists nor a set operator")
    elif base not in BASE:
        raise PolicyError(f"{operator}: unknown condition operator")
    return qualifier or None, base, if_exists


def _is_null(values: tuple[str, ...] | None) -> bool:
    """Absent, or an empty data set such as an empty string (IAM JSON policy elements:
    Condition, "The request context")."""
    return not values or all(v == "" for v in values)


def _one_value(match: Match, policy: tuple[str, ...], v: str, ctx: Context | None) -> bool:
    """Does request value ``v`` match any policy value (OR)? ``ctx``: variables to read."""
    for p in policy:
        try:
            if match(p, v, ctx):
                return True
        except UnresolvedVariableError:
            continue
    return False


def key_holds(
    operator: str,
    key: str,
    policy: tuple[str, ...],
    context: Context,
    variables: bool = True,
) -> bool:
    """Does the condition ``operator: {key: policy}`` hold for the request context?
    ``variables`` False: the document's language version reads ``${...}`` literally."""
    qualifier, base, if_exists = _parse(operator)
    values = context.get(key.lower())
    if base == "Null":
        wanted = {p.lower() for p in policy}
        if not wanted <= {"true", "false"}:
            raise PolicyError(f"Null: {key} takes true or false")
        return ("true" if _is_null(values) else "false") in wanted
    match, negated = BASE[base]
    ctx = context if variables and base.startswith(VARIABLES) else None
    if qualifier == "ForAllValues":
        if _is_null(values):
            return True
        assert values is not None
        return all(_one_value(match, policy, v, ctx) != negated for v in values)
    if qualifier == "ForAnyValue":
        if _is_null(values):
            return False
        assert values is not None
        return any(_one_value(match, policy, v, ctx) != negated for v in values)
    if not values:
        return if_exists or negated
    if len(values) != 1:
        raise UndocumentedError(
            f"{operator} on {key} with {len(values)} request values: multivalued keys need "
            "ForAllValues or ForAnyValue"
        )
    return _one_value(match, policy, values[0], ctx) != negated


def conditions_hold(
    condition: Mapping[str, Mapping[str, tuple[str, ...]]], context: Context, variables: bool
) -> bool:
    """Every operator and every key must hold (AND)."""
    return all(
        key_holds(operator, key, values, context, variables)
        for operator, keys in condition.items()
        for key, values in keys.items()
    )
