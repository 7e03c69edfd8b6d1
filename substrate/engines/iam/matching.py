"""Wildcards, policy variables, and the Action and Resource elements.

Sources (IAM User Guide): "IAM JSON policy elements: Action" (service prefix and action name are
case insensitive; ``*`` anywhere in the name), "IAM JSON policy elements: Resource" (``*`` and
``?`` within each colon-separated ARN segment, ``*`` may cross ``/``; ARNs are case sensitive),
"IAM JSON policy elements: Condition operators" (ARN operators check each of the six
colon-delimited components separately) and "IAM policy elements: Variables and tags" (``${key}``
only in the resource part of an ARN and in string/ARN conditions; ``${*}``, ``${?}``, ``${$}``
are literal characters; ``${key, 'default'}``; a variable without a value matches nothing).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache

from substrate.engines.iam.model import UndocumentedError

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_LITERALS = {"*": "*", "?": "?", "$": "$"}
_DEFAULT = re.compile(r"^\s*(?P<key>[^,]+?)\s*,\s*'(?P<default>[^']*)'\s*$")
Context = Mapping[str, tuple[str, ...]]


class UnresolvedVariableError(Exception):
    """A policy variable has no value in the request context."""


def _wildcard_regex(text: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)


def expand(text: str, context: Context | None) -> list[tuple[str, str]]:
    """``text`` as (chunk, origin) pieces, origin ``policy`` (wildcards apply), ``literal``
    (``${*}``, ``${?}``, ``${$}``) or ``variable`` (a request value). ``context`` None: the
    document's language version reads no variables."""
    if context is None:
        return [(text, "policy")]
    out: list[tuple[str, str]] = []
    pos = 0
    for match in _VARIABLE.finditer(text):
        out.append((text[pos : match.start()], "policy"))
        name = match[1]
        if name in _LITERALS:
            out.append((_LITERALS[name], "literal"))
        else:
            out.append((resolve(name, context), "variable"))
        pos = match.end()
    out.append((text[pos:], "policy"))
    return out


def resolve(name: str, context: Context) -> str:
    default = None
    found = _DEFAULT.match(name)
    if found:
        name, default = found["key"], found["default"]
    values = context.get(name.strip().lower())
    if not values:
        if default is not None:
            return default
        raise UnresolvedVariableError(name)
    if len(values) > 1:
        raise UndocumentedError(
            f"${{{name}}}: a multivalued context key cannot be used as a policy variable"
        )
    return next(iter(values))


def substitute(text: str, context: Context | None) -> str:
    """A policy value with its variables replaced (operators without wildcards)."""
    return "".join(chunk for chunk, _ in expand(text, context))


def compile_pattern(
    text: str, context: Context | None, *, ignore_case: bool = False
) -> re.Pattern[str]:
    """A regex for a wildcard policy value; UnresolvedVariableError when a variable has no value."""
    parts = []
    for chunk, origin in expand(text, context):
        if origin == "policy":
            parts.append(_wildcard_regex(chunk))
            continue
        if origin == "variable" and ("*" in chunk or "?" in chunk):
            raise UndocumentedError(
                f"{text!r}: a request value {chunk!r} with a wildcard character substituted "
                "into a wildcard pattern"
            )
        parts.append(re.escape(chunk))
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("".join(parts), flags)


@cache
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    return compile_pattern(pattern, None, ignore_case=ignore_case)


def action_matches(pattern: str, action: str) -> bool:
    """Action names and service prefixes are case insensitive; ``*`` alone is every action."""
    if pattern == "*":
        return True
    if ":" not in pattern:
        return False
    return _glob(pattern, True).fullmatch(action) is not None


def _split_arn(arn: str) -> list[str] | None:
    parts = arn.split(":", 5)
    return parts if len(parts) == 6 and parts[0] == "arn" else None


def arn_matches(pattern: str, arn: str, context: Context | None) -> bool:
    """ArnLike/ArnEquals and the Resource element: each of the six components separately,
    case sensitive, with wildcards; variables only in the resource part (after the fifth
    colon). A variable without a value matches nothing."""
    pat = _split_arn(pattern)
    value = _split_arn(arn)
    if pat is None or value is None:
        return False
    for i, (p, v) in enumerate(zip(pat, value, strict=True)):
        try:
            regex = compile_pattern(p, context if i == 5 else None)
        except UnresolvedVariableError:
            return False
        if regex.fullmatch(v) is None:
            return False
    return True


def resource_matches(pattern: str, resource: str, context: Context | None) -> bool:
    if pattern == "*":
        return True
    return arn_matches(pattern, resource, context)
