"""Kyverno's own verdict on objects: the Kyverno CLI (build/engines/kyverno) applies a stack's
ValidatingPolicies, with autogen for pod controllers, exactly as the admission controller of the
pinned version evaluates them.

The CLI builds an admission request per object (CREATE unless asked otherwise; for UPDATE it
sends the object as both object and oldObject). Namespaces are handed over as the API server
would hold them, with the ``kubernetes.io/metadata.name`` label it sets on every namespace;
``cluster`` objects are what CEL's ``resource.List``/``resource.Get`` see.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from substrate.engines import EngineFailedError, run

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
Operation = Literal["CREATE", "UPDATE", "DELETE"]


@dataclass(frozen=True, order=True)
class Verdict:
    """One policy's result for one object, as Kyverno's policy report states it."""

    kind: str
    namespace: str
    name: str
    policy: str
    result: str
    """pass, fail, warn, error or skip (Kyverno's report result)."""
    message: str
    validation: int | None = None
    """Index of the CEL validation that gave this result, when Kyverno reports it."""

    @property
    def denies(self) -> bool:
        """Whether this result refuses the object under a Deny policy: a failed validation, or
        an evaluation error (the policies fail closed: failurePolicy Fail)."""
        return self.result in {"fail", "error"}


def namespace(name: str, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A Namespace as the API server stores it (with its automatic name label)."""
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {**(labels or {}), NAMESPACE_NAME_LABEL: name}},
    }


def _dump(docs: Iterable[Mapping[str, Any]]) -> str:
    return yaml.safe_dump_all([dict(d) for d in docs], sort_keys=True)


def _report(stdout: str) -> dict[str, Any]:
    """The JSON policy report in the CLI's output (it may print progress lines around it). The
    CLI prints nothing at all when no policy matched any resource (e.g. every object is in a
    namespace the policies' namespaceSelector excludes): no results."""
    if not stdout.strip():
        return {}
    start = stdout.find("{")
    if start < 0:
        raise EngineFailedError(f"kyverno printed no policy report:\n{stdout[-2000:]}")
    report, _ = json.JSONDecoder().raw_decode(stdout[start:])
    return report


def apply(
    policies: Sequence[Mapping[str, Any]],
    objects: Sequence[Mapping[str, Any]],
    *,
    namespaces: Sequence[Mapping[str, Any]] = (),
    cluster: Sequence[Mapping[str, Any]] = (),
    operation: Operation = "CREATE",
    user: Mapping[str, Any] | None = None,
) -> list[Verdict]:
    """Every policy result Kyverno reports for ``objects`` (sorted; policies that do not match an
    object report nothing for it). ``user`` is the requester (`{"username": ..., "groups":
    [...]}`); without one the request carries no user."""
    if not policies or not objects:
        return []
    with tempfile.TemporaryDirectory(prefix="substrate-kyverno-") as tmp:
        work = Path(tmp)
        (work / "policies.yaml").write_text(_dump(policies))
        (work / "objects.yaml").write_text(_dump(objects))
        values = {
            "apiVersion": "cli.kyverno.io/v1alpha1",
            "kind": "Value",
            "metadata": {"name": "values"},
            "globalValues": {"request.operation": operation},
            "namespaces": [dict(n) for n in namespaces],
        }
        (work / "values.yaml").write_text(yaml.safe_dump(values, sort_keys=True))
        context = {
            "apiVersion": "cli.kyverno.io/v1alpha1",
            "kind": "Context",
            "metadata": {"name": "context"},
            "spec": {"resources": [dict(c) for c in cluster]},
        }
        (work / "context.yaml").write_text(yaml.safe_dump(context, sort_keys=True))
        requester = []
        if user is not None:
            info = {
                "apiVersion": "cli.kyverno.io/v1alpha1",
                "kind": "UserInfo",
                "metadata": {"name": "requester"},
                "userInfo": dict(user),
            }
            (work / "user.yaml").write_text(yaml.safe_dump(info, sort_keys=True))
            requester = ["--userinfo", "user.yaml"]
        done = run(
            "kyverno",
            [
                *requester,
                "apply",
                "policies.yaml",
                "--resource",
                "objects.yaml",
                "--values-file",
                "values.yaml",
                "--context-file",
                "context.yaml",
                "--policy-report",
                "--output-format",
                "json",
                "--remove-color",
            ],
            cwd=work,
            ok=(0, 1),  # 1: some Deny policy failed; the report is printed either way
        )
    verdicts = []
    for result in _report(done.stdout).get("results", []):
        for resource in result.get("resources", []):
            verdicts.append(
                Verdict(
                    kind=resource["kind"],
                    namespace=resource.get("namespace", ""),
                    name=resource["name"],
                    policy=result["policy"],
                    result=result["result"],
                    message=result.get("message", ""),
                    validation=_index(result.get("properties", {})),
                )
            )
    return sorted(verdicts)


def _index(properties: Mapping[str, str]) -> int | None:
    value = properties.get("cel.validationIndex")
    return None if value is None else int(value)


def denials(verdicts: Iterable[Verdict]) -> list[Verdict]:
    return [v for v in verdicts if v.denies]


POLICY_KINDS = frozenset({"ValidatingPolicy", "NamespacedValidatingPolicy"})


def policies_of(objects: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The Kyverno policies among rendered objects (e.g. a plan's manifests)."""
    return [o for o in objects if o.get("kind") in POLICY_KINDS]


def namespaces_of(objects: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The Namespaces among rendered objects, as the API server will hold them."""
    return [
        namespace(o["metadata"]["name"], o["metadata"].get("labels"))
        for o in objects
        if o.get("kind") == "Namespace"
    ]
