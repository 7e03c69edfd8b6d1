"""The Pod Security Admission engine decides as kube-apiserver does: the namespace's labels pick
the level and version, the workload's pod template is what gets evaluated."""

from __future__ import annotations

from typing import Any

import pytest

from substrate.engines import EngineFailedError, pod_security
from substrate.engines.kyverno import namespace
from tests.helpers import require_engine

RESTRICTED_CONTAINER: dict[str, Any] = {
    "name": "app",
    "image": "public.ecr.aws/x/app:1",
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    },
}


def _levelled(name: str, level: str) -> dict[str, Any]:
    return namespace(name, {f"pod-security.kubernetes.io/{m}": level for m in ("enforce", "warn")})


def _daemonset(ns: str, container: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": ns},
        "spec": {"template": {"spec": {"containers": [container], **spec}}},
    }


def test_levels_come_from_the_namespace_labels() -> None:
    require_engine("pod-security")
    host = {"volumes": [{"name": "sock", "hostPath": {"path": "/run"}}]}
    objects = [
        _daemonset("open", RESTRICTED_CONTAINER, **host),
        _daemonset("base", RESTRICTED_CONTAINER, **host),
        _daemonset("strict", RESTRICTED_CONTAINER),
        _daemonset("unlabelled", {"name": "app", "image": "x"}, hostNetwork=True),
    ]
    namespaces = [
        _levelled("open", "privileged"),
        _levelled("base", "baseline"),
        _levelled("strict", "restricted"),
        namespace("unlabelled"),
    ]
    verdicts = {v.namespace: v for v in pod_security.evaluate("1.35", namespaces, objects)}
    assert verdicts["open"].allowed and verdicts["open"].enforce == "privileged:latest"
    assert not verdicts["base"].allowed
    assert [r for r, _ in verdicts["base"].forbidden] == ["hostPath volumes"]
    assert verdicts["strict"].allowed and verdicts["strict"].enforce == "restricted:latest"
    # no labels: the API server's default, privileged
    assert verdicts["unlabelled"].allowed


def test_restricted_requires_the_hardened_security_context() -> None:
    require_engine("pod-security")
    plain = {"name": "app", "image": "public.ecr.aws/x/app:1"}
    (verdict,) = pod_security.evaluate(
        "1.36", [_levelled("strict", "restricted")], [_daemonset("strict", plain)]
    )
    assert not verdict.allowed
    assert [r for r, _ in verdict.forbidden] == [
        "allowPrivilegeEscalation != false",
        "unrestricted capabilities",
        "runAsNonRoot != true",
        "seccompProfile",
    ]


def test_objects_without_a_pod_spec_get_no_verdict_and_unknown_namespaces_fail() -> None:
    require_engine("pod-security")
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "a"}}
    assert pod_security.evaluate("1.35", [], [config]) == []
    with pytest.raises(EngineFailedError, match='namespace "nowhere" not given'):
        pod_security.evaluate("1.35", [], [_daemonset("nowhere", RESTRICTED_CONTAINER)])
