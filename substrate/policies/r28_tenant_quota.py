"""R28 (quota parts): every tenant namespace has a ResourceQuota bounding `requests.cpu`,
`requests.memory`, `limits.memory` and `requests.nvidia.com/gpu`, and a LimitRange that gives
containers without requests a default CPU and memory request and a memory limit equal to that
request (non-CPU limits equal requests), so nothing in the namespace runs unsized or unbounded
(Kyverno best practices, CIS 5.1.4)."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from substrate.components.core.labels import GPU_RESOURCE

from ._props import UNKNOWN
from ._tenancy import Found, in_namespace, tenant_namespaces
from ._types import LIMIT_RANGE, RESOURCE_QUOTA

QUOTA_KEYS = ("requests.cpu", "requests.memory", "limits.memory", f"requests.{GPU_RESOURCE}")


def _quota_problem(quotas: list[Found]) -> tuple[str, Found | None] | None:
    """None when some quota bounds every key; else the problem and the closest quota."""
    if not quotas:
        return "has no ResourceQuota", None
    best: tuple[list[str], Found] | None = None
    for quota in quotas:
        hard = quota.spec.get("hard")
        if hard is UNKNOWN:
            return None
        missing = [k for k in QUOTA_KEYS if k not in (hard if isinstance(hard, dict) else {})]
        if not missing:
            return None
        if best is None or len(missing) < len(best[0]):
            best = (missing, quota)
    assert best is not None
    return f"has no ResourceQuota bounding {', '.join(best[0])}", best[1]


def _container_defaults(limit_range: Found) -> str | None:
    """None when the LimitRange gives containers complete defaults; else what is wrong."""
    for item in limit_range.spec.get("limits") or []:
        if not isinstance(item, dict) or item.get("type") != "Container":
            continue
        request = item.get("defaultRequest") or {}
        limit = item.get("default") or {}
        if "cpu" in request and "memory" in request and "memory" in limit:
            if str(limit["memory"]) != str(request["memory"]):
                return (
                    f"has a LimitRange whose default memory limit ({limit['memory']}) differs "
                    f"from its default memory request ({request['memory']})"
                )
            return None
    return (
        "has no LimitRange giving containers a default cpu and memory request and a default "
        "memory limit"
    )


def _limits_problem(ranges: list[Found]) -> tuple[str, Found | None] | None:
    if not ranges:
        return "has no LimitRange", None
    problems = [(_container_defaults(r), r) for r in ranges]
    if any(problem is None for problem, _ in problems):
        return None
    problem, found = problems[0]
    return str(problem), found


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    for ns in tenant_namespaces(args.resources):
        by_urn: dict[str, list[str]] = {}
        for found in (
            _quota_problem(in_namespace(args.resources, RESOURCE_QUOTA, ns.name)),
            _limits_problem(in_namespace(args.resources, LIMIT_RANGE, ns.name)),
        ):
            if found is not None:
                problem, culprit = found
                by_urn.setdefault(culprit.urn if culprit else ns.resource.urn, []).append(problem)
        for urn, problems in by_urn.items():
            report_violation(
                f"tenant {ns.tenant!r} namespace {ns.name!r} {' and '.join(problems)}", urn
            )


POLICY = StackValidationPolicy(
    name="r28-tenant-quota",
    description="R28: every tenant namespace has a ResourceQuota (requests.cpu, requests.memory, "
    "limits.memory, requests.nvidia.com/gpu) and a LimitRange with default requests and a "
    "memory limit equal to the request (Kyverno best practices, CIS 5.1.4).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate,
)
