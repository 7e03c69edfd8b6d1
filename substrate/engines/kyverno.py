"""Kyverno's own verdict on objects: the Kyverno CLI's code applies a stack's ValidatingPolicies,
with autogen for pod controllers, exactly as the admission controller of the pinned version
evaluates them.

Two ways to ask, same answers: `apply` sends each question to one long-running
``build/engines/kyverno-server`` (tools/engines/kyverno-server: the CLI's policy loader,
PolicyProcessor and policy report, driven as `kyverno apply` drives them, without the CLI's
second of start-up per call); `apply_with_cli` runs ``build/engines/kyverno apply
--policy-report`` itself (tests prove the two agree). Policies of other kinds than
ValidatingPolicy always go to the CLI.

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

from substrate.engines import EngineFailedError, run
from substrate.engines.serve import EngineServer

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
Operation = Literal["CREATE", "UPDATE", "DELETE"]
CLI = "kyverno"
SERVER = "kyverno-server"
POLICY_KINDS = frozenset({"ValidatingPolicy", "NamespacedValidatingPolicy"})
"""The policy kinds the server evaluates (and the ones a stack renders)."""

_server = EngineServer(SERVER)


def server() -> EngineServer:
    """This Python process's Kyverno server (one per process, started on first use)."""
    return _server


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


def _dump(*docs: Mapping[str, Any]) -> str:
    """Documents as the CLI reads them, written as JSON (which YAML includes): PyYAML leaves
    strings such as ``y`` or ``n`` unquoted, and the CLI's YAML 1.1 reader takes them for
    booleans."""
    return "".join(f"---\n{json.dumps(dict(d), sort_keys=True)}\n" for d in docs)


def _reports(stdout: str) -> list[dict[str, Any]]:
    """The JSON policy reports the CLI prints: the merged cluster report, then one per
    namespaced policy (it may print other lines around them). The CLI prints nothing at all
    when no policy matched any resource (e.g. every object is in a namespace the policies'
    namespaceSelector excludes): no reports."""
    decoder = json.JSONDecoder()
    reports, position = [], stdout.find("{")
    while position >= 0:
        report, end = decoder.raw_decode(stdout, position)
        reports.append(report)
        position = stdout.find("{", end)
    if not reports and stdout.strip():
        raise EngineFailedError(f"kyverno printed no policy report:\n{stdout[-2000:]}")
    return reports


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
    [...]}`); without one the request carries no user. Answered by the Kyverno server, or by the
    CLI for policy kinds the server does not serve."""
    if not policies or not objects:
        return []
    if any(p.get("kind") not in POLICY_KINDS for p in policies):
        return apply_with_cli(
            policies,
            objects,
            namespaces=namespaces,
            cluster=cluster,
            operation=operation,
            user=user,
        )
    answer = _server.request(
        {
            "policies": [dict(p) for p in policies],
            "objects": [dict(o) for o in objects],
            "namespaces": [dict(n) for n in namespaces],
            "cluster": [dict(c) for c in cluster],
            "operation": operation,
            "user": None if user is None else dict(user),
        }
    )
    if "error" in answer:
        raise EngineFailedError(f"{SERVER}: {answer['error']}")
    return _verdicts(answer["results"])


def apply_with_cli(
    policies: Sequence[Mapping[str, Any]],
    objects: Sequence[Mapping[str, Any]],
    *,
    namespaces: Sequence[Mapping[str, Any]] = (),
    cluster: Sequence[Mapping[str, Any]] = (),
    operation: Operation = "CREATE",
    user: Mapping[str, Any] | None = None,
) -> list[Verdict]:
    """`apply`, answered by one `kyverno apply --policy-report` run of the Kyverno CLI."""
    if not policies or not objects:
        return []
    with tempfile.TemporaryDirectory(prefix="substrate-kyverno-") as tmp:
        work = Path(tmp)
        (work / "policies.yaml").write_text(_dump(*policies))
        (work / "objects.yaml").write_text(_dump(*objects))
        values = {
            "apiVersion": "cli.kyverno.io/v1alpha1",
            "kind": "Value",
            "metadata": {"name": "values"},
            "globalValues": {"request.operation": operation},
            "namespaces": [dict(n) for n in namespaces],
        }
        (work / "values.yaml").write_text(_dump(values))
        context = {
            "apiVersion": "cli.kyverno.io/v1alpha1",
            "kind": "Context",
            "metadata": {"name": "context"},
            "spec": {"resources": [dict(c) for c in cluster]},
        }
        (work / "context.yaml").write_text(_dump(context))
        requester = []
        if user is not None:
            info = {
                "apiVersion": "cli.kyverno.io/v1alpha1",
                "kind": "UserInfo",
                "metadata": {"name": "requester"},
                "userInfo": dict(user),
            }
            (work / "user.yaml").write_text(_dump(info))
            requester = ["--userinfo", "user.yaml"]
        done = run(
            CLI,
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
    return _verdicts(r for report in _reports(done.stdout) for r in report.get("results", []))


def _verdicts(results: Iterable[Mapping[str, Any]]) -> list[Verdict]:
    """One Verdict per (policy report result, resource it names), sorted."""
    verdicts = [
        Verdict(
            kind=resource["kind"],
            namespace=resource.get("namespace", ""),
            name=resource["name"],
            policy=result["policy"],
            result=result["result"],
            message=result.get("message", ""),
            validation=_index(result.get("properties", {})),
        )
        for result in results
        for resource in result.get("resources", [])
    ]
    return sorted(verdicts)


def _index(properties: Mapping[str, str]) -> int | None:
    value = properties.get("cel.validationIndex")
    return None if value is None else int(value)


def denials(verdicts: Iterable[Verdict]) -> list[Verdict]:
    return [v for v in verdicts if v.denies]


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
