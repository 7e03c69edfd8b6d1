"""Pod Security Admission (Kubernetes' own checks, build/engines/pod-security) admits every pod
the cluster will run under its namespace's enforce level at the stack's Kubernetes version;
only R27's documented exemptions run below `restricted`, and each of them needs it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from substrate.components.core.labels import SYSTEM_NAMESPACES
from substrate.engines import kyverno, pod_security
from tests.helm.rendered import STACKS, StackRender, rendered
from tests.helpers import require_engine

# R27: namespaces allowed below restricted (docs/policies.md): the SPIRE agent and CSI driver
# (host sockets), the DCGM exporter (SYS_ADMIN, NVIDIA/dcgm-exporter#165), the NVIDIA and EFA
# device plugins (privileged, host network, the kubelet's device-plugin directory).
EXEMPT = frozenset(
    {"spire-system", "dcgm-exporter", "nvidia-device-plugin", "aws-efa-k8s-device-plugin"}
)
LEVEL_LABEL = "pod-security.kubernetes.io/enforce"


def _namespaces(render: StackRender) -> list[dict[str, Any]]:
    """The plan's namespaces, plus the ones the API server creates (no PSA labels: privileged,
    as on EKS)."""
    return kyverno.namespaces_of(render.objects) + [
        kyverno.namespace(n) for n in ("default", *SYSTEM_NAMESPACES)
    ]


_VERDICTS: dict[str, list[pod_security.Verdict]] = {}


def _verdicts(stack: str) -> list[pod_security.Verdict]:
    if stack not in _VERDICTS:
        require_engine("pod-security")
        render = rendered(stack)
        _VERDICTS[stack] = pod_security.evaluate(
            render.kube_version, _namespaces(render), render.objects
        )
    return _VERDICTS[stack]


@pytest.mark.parametrize("stack", STACKS)
def test_every_pod_is_admitted_by_its_namespace_level(stack: str) -> None:
    verdicts = _verdicts(stack)
    assert len(verdicts) > 25
    assert [v.describe() for v in verdicts if not v.allowed] == []


@pytest.mark.parametrize("stack", STACKS)
def test_only_the_documented_exemptions_run_below_restricted(stack: str) -> None:
    below = {v.namespace for v in _verdicts(stack) if not v.enforce.startswith("restricted:")}
    assert below == EXEMPT


@pytest.mark.parametrize("stack", STACKS)
def test_every_exemption_is_needed(stack: str) -> None:
    """At baseline, each exempt namespace has a pod Kubernetes refuses: privileged is the least
    level that runs it."""
    render = rendered(stack)
    namespaces = copy.deepcopy(_namespaces(render))
    for ns in namespaces:
        if ns["metadata"]["name"] in EXEMPT:
            ns["metadata"]["labels"][LEVEL_LABEL] = "baseline"
    refused = {
        v.namespace
        for v in pod_security.evaluate(render.kube_version, namespaces, render.objects)
        if not v.allowed
    }
    assert refused == EXEMPT
