"""Evaluate a Kyverno ValidatingPolicy's own CEL offline, the way Kyverno evaluates it.

Nothing here knows what any policy checks. For one admission request it does what Kyverno's
ValidatingPolicy engine does (Kubernetes ValidatingAdmissionPolicy semantics):

1. matchConstraints: the request's group/version/resource and operation against
   `resourceRules`, the namespace's labels against `namespaceSelector` (label-selector
   semantics; `kubernetes.io/metadata.name` is set as the API server sets it);
2. matchConditions in order: any false means the policy does not apply (verdict `skip`);
3. variables in order, each seeing the earlier ones as `variables.<name>`;
4. validations: a false expression is a violation with `messageExpression` (falling back to
   `message`); an error in any expression is an `error` verdict (failurePolicy decides).

Bindings as in Kyverno's vpol compiler: `object`, `oldObject`, `namespaceObject`, `request`,
`variables`, and `resource` (Kyverno's resource library: `resource.List(apiVersion, resource,
namespace)` returns the fixture cluster state, as the Kyverno CLI's `context.yaml` does).

CEL runtime: cel-expr-python (cel-cpp) with the strings and optional extensions. Kyverno
type-checks `namespaceObject` and `request` against declared types; here every binding is
`dyn`, so these checks are slightly more permissive than Kyverno's at compile time, never at
run time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cel_expr_python import cel
from cel_expr_python.ext import ext_optional, ext_strings

from components.labels import NAMESPACE_NAME_LABEL

Result = Literal["pass", "fail", "skip", "error"]

# Kinds the fixtures use: kind -> (group, resource).
RESOURCES: dict[str, tuple[str, str]] = {
    "Pod": ("", "pods"),
    "Job": ("batch", "jobs"),
    "Deployment": ("apps", "deployments"),
    "StatefulSet": ("apps", "statefulsets"),
    "JobSet": ("jobset.x-k8s.io", "jobsets"),
    "PodDisruptionBudget": ("policy", "poddisruptionbudgets"),
}


@dataclass
class Verdict:
    result: Result
    messages: list[str] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    """Indexes of the validations that evaluated to false."""


class CelError(Exception):
    pass


def _plural(api_version: str, kind: str) -> tuple[str, str, str]:
    group, _, version = api_version.rpartition("/")
    if kind not in RESOURCES:
        raise KeyError(f"add {kind} to tests/admission/kyverno_cel.py RESOURCES")
    return group, version, RESOURCES[kind][1]


def _matches_rule(rule: Mapping[str, Any], group: str, version: str, res: str, op: str) -> bool:
    def ok(values: Sequence[str], value: str) -> bool:
        return "*" in values or value in values

    return (
        ok(rule.get("apiGroups", []), group)
        and ok(rule.get("apiVersions", []), version)
        and ok(rule.get("resources", []), res)
        and ok(rule.get("operations", []), op)
    )


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Kubernetes LabelSelector semantics (an absent or empty selector matches everything)."""
    if not selector:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def namespace_object(name: str, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A Namespace as the API server stores it (with its immutable name label)."""
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {**(labels or {}), NAMESPACE_NAME_LABEL: name}},
    }


class Cluster:
    """What `resource.List` sees: objects grouped by (apiVersion, resource, namespace)."""

    def __init__(self, objects: Sequence[Mapping[str, Any]] = ()) -> None:
        self.objects = [dict(o) for o in objects]

    def list(self, api_version: str, resource: str, namespace: str) -> dict[str, Any]:
        items = []
        for obj in self.objects:
            group, version, plural = _plural(obj["apiVersion"], obj["kind"])
            gv = f"{group}/{version}" if group else version
            if (gv, plural) == (api_version, resource) and (
                not namespace or obj["metadata"].get("namespace") == namespace
            ):
                items.append(obj)
        return {"apiVersion": api_version, "kind": "List", "metadata": {}, "items": items}


def _env(cluster: Cluster) -> Any:
    def resource_list(_self: Any, api_version: str, resource: str, namespace: str) -> Any:
        return cluster.list(api_version, resource, namespace)

    list_decl = cel.FunctionDecl(
        "List",
        [
            cel.Overload(
                "resource_list_string_string_string",
                cel.Type.DYN,
                [
                    cel.Type.Map(cel.Type.STRING, cel.Type.STRING),
                    cel.Type.STRING,
                    cel.Type.STRING,
                    cel.Type.STRING,
                ],
                is_member=True,
                impl=resource_list,
            )
        ],
    )
    dyn = cel.Type.DYN
    return cel.NewEnv(
        variables={
            "object": dyn,
            "oldObject": dyn,
            "namespaceObject": dyn,
            "request": dyn,
            "variables": dyn,
            "resource": cel.Type.Map(cel.Type.STRING, cel.Type.STRING),
        },
        extensions=[ext_strings.ExtStrings(), ext_optional.ExtOptional()],
        functions=[list_decl],
    )


class CompiledPolicy:
    """A ValidatingPolicy manifest with every expression compiled (compile errors raise)."""

    def __init__(self, policy: Mapping[str, Any], cluster: Cluster | None = None) -> None:
        self.policy = policy
        self.spec = policy["spec"]
        self.env = _env(cluster or Cluster())
        self._programs: dict[str, Any] = {}
        for expr in self.expressions():
            self._programs[expr] = self._compile(expr)

    def expressions(self) -> list[str]:
        spec = self.spec
        out = [c["expression"] for c in spec.get("matchConditions", [])]
        out += [v["expression"] for v in spec.get("variables", [])]
        for v in spec["validations"]:
            out.append(v["expression"])
            if "messageExpression" in v:
                out.append(v["messageExpression"])
        return out

    def _compile(self, expr: str) -> Any:
        try:
            return self.env.compile(expr)
        except Exception as err:
            name = self.policy["metadata"]["name"]
            raise CelError(f"{name}: cannot compile {expr!r}: {err}") from None

    def _eval(self, expr: str, data: Mapping[str, Any]) -> Any:
        value = self._programs[expr].eval(data=dict(data))
        if value.type() == cel.Type.ERROR:
            raise CelError(f"{expr!r}: {value.value()}")
        return value.plain_value()

    def applies(
        self, obj: Mapping[str, Any], operation: str, namespace: Mapping[str, Any] | None
    ) -> bool:
        """matchConstraints: resource rules and the namespace selector."""
        group, version, res = _plural(obj["apiVersion"], obj["kind"])
        match = self.spec["matchConstraints"]
        if not any(
            _matches_rule(r, group, version, res, operation) for r in match["resourceRules"]
        ):
            return False
        if namespace is None:
            return True
        labels = namespace["metadata"].get("labels", {})
        return selector_matches(match.get("namespaceSelector"), labels)

    def evaluate(
        self,
        obj: Mapping[str, Any],
        namespace: Mapping[str, Any] | None,
        operation: str = "CREATE",
        old: Mapping[str, Any] | None = None,
    ) -> Verdict:
        if not self.applies(obj, operation, namespace):
            return Verdict("skip")
        group, version, res = _plural(obj["apiVersion"], obj["kind"])
        data: dict[str, Any] = {
            "object": dict(obj),
            "oldObject": dict(old) if old is not None else None,
            "namespaceObject": dict(namespace) if namespace is not None else None,
            "request": {
                "operation": operation,
                "namespace": obj["metadata"].get("namespace", ""),
                "name": obj["metadata"].get("name", ""),
                "kind": {"group": group, "version": version, "kind": obj["kind"]},
                "resource": {"group": group, "version": version, "resource": res},
                "userInfo": {"username": "tenant-user", "groups": ["system:authenticated"]},
            },
            "resource": {},
            "variables": {},
        }
        try:
            for cond in self.spec.get("matchConditions", []):
                if self._eval(cond["expression"], data) is not True:
                    return Verdict("skip")
            for var in self.spec.get("variables", []):
                data["variables"] = {
                    **data["variables"],
                    var["name"]: self._eval(var["expression"], data),
                }
            verdict = Verdict("pass")
            for i, rule in enumerate(self.spec["validations"]):
                if self._eval(rule["expression"], data) is True:
                    continue
                message = rule.get("message", "")
                if "messageExpression" in rule:
                    # Kubernetes falls back to `message` when messageExpression fails.
                    with contextlib.suppress(CelError):
                        message = str(self._eval(rule["messageExpression"], data))
                verdict.result = "fail"
                verdict.failed.append(i)
                verdict.messages.append(message)
            return verdict
        except CelError as err:
            return Verdict("error", [str(err)])
