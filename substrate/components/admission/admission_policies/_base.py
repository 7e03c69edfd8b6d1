"""What every Substrate ValidatingPolicy shares: settings, metadata, scope and CEL helpers.

Policies are Kyverno CEL ``ValidatingPolicy`` objects (``policies.kyverno.io/v1``), judged in the
tests by the Kyverno CLI of the version the platform deploys. Kyverno's ``resource.List`` is the
only Kyverno library function used (R31); the CLI tests give it cluster state in
``context.yaml``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from substrate.components.core.labels import GPU_RESOURCES, NAMESPACE_NAME_LABEL, SYSTEM_NAMESPACES

API_VERSION = "policies.kyverno.io/v1"
KIND = "ValidatingPolicy"
PART_OF = {"app.kubernetes.io/part-of": "substrate"}
RULE_ANNOTATION = "substrate.io/rule"

POD_RULE = {
    "apiGroups": [""],
    "apiVersions": ["v1"],
    "operations": ["CREATE", "UPDATE"],
    "resources": ["pods"],
}
"""The one resource rule that lets Kyverno autogen a pod policy onto pod controllers (DaemonSet,
Deployment, ReplicaSet, StatefulSet, Job, CronJob): it rewrites `object.spec`/`object.metadata`
to the controller's pod template and keeps the rule's operations."""

KUEUE_ADMISSION_GATE = "kueue.x-k8s.io/admission"
"""The scheduling gate Kueue's pod webhook puts on the pods it manages (Deployments,
StatefulSets, LeaderWorkerSets, plain pods) until it admits them; at admission it injects the
ResourceFlavor's node labels and tolerations and removes the gate."""

SKIP_POD_UPDATES = {
    "name": "pod-updates-change-nothing-checked",
    "expression": "!(request.operation == 'UPDATE' && object.kind == 'Pod')",
}
"""A pod's containers, resources, env, security context, service account and namespace are
immutable once created, so a pod UPDATE (finalizers added or removed, scheduling gates
removed, status, labels) can never turn a compliant pod into a non-compliant one: pod policies
on immutable fields judge pods at CREATE only. An UPDATE is never refused, so a pod created
before a policy (or under Audit) can still finish terminating. Pod controllers (autogen) are
judged on CREATE and UPDATE: their templates change."""


@dataclass(frozen=True)
class PolicySettings:
    """Everything about the policy set that differs between stacks (data from the stack file)."""

    validation_actions: Sequence[str] = ("Audit", "Warn")
    """Deny (Enforce) or Audit+Warn (Audit)."""
    failure_policy: str = "Fail"
    """What the API server does when Kyverno cannot answer."""
    excluded_namespaces: Sequence[str] = field(default_factory=lambda: list(SYSTEM_NAMESPACES))
    """Namespaces no Substrate policy applies to (system, Kyverno, platform controllers)."""
    pod_security_exempt_namespaces: Sequence[str] = ()
    """Namespaces exempt from the restricted Pod Security policy only (R27)."""
    allowed_registries: Sequence[str] = ("public.ecr.aws/docker/library",)
    """Image prefixes tenants may pull from (R28)."""
    long_running_classes: Sequence[str] = ("training", "agent")
    """Workload classes that must not be disrupted by Karpenter (R33)."""
    agents: Sequence[str] = ()
    """`<namespace>/<agent>` of the stack's agents: their service accounts and memory claims
    belong to their StatefulSets (R20, agent-isolation)."""
    agent_memory_cap: str | None = None
    """Largest memory claim an agent replica may have (`substrate:storage.maxAgentMemoryVolume`);
    None: no cap."""
    simulation_namespace: str | None = None
    """The agent simulation namespace (`substrate:agentSimulation.namespace`); None: none."""
    simulation_max_run_seconds: int = 3600
    """Most `activeDeadlineSeconds` a simulation Job may set (`maxRunSeconds`)."""
    simulation_cleanup_seconds: int = 600
    """Most `ttlSecondsAfterFinished` a simulation Job may set (`cleanupAfterSeconds`)."""


def cel(value: Any) -> str:
    """A CEL literal for a string or a list of strings (JSON string syntax is valid CEL)."""
    if isinstance(value, str):
        return json.dumps(value)
    return "[" + ", ".join(json.dumps(v) for v in value) + "]"


def not_in_namespaces(names: Iterable[str]) -> dict[str, Any]:
    return {
        "matchExpressions": [
            {"key": NAMESPACE_NAME_LABEL, "operator": "NotIn", "values": sorted(set(names))}
        ]
    }


def variable(name: str, expression: str) -> dict[str, str]:
    return {"name": name, "expression": expression}


def validation(
    expression: str, message: str, message_expression: str | None = None
) -> dict[str, str]:
    out = {"expression": expression, "message": message}
    if message_expression is not None:
        out["messageExpression"] = message_expression
    return out


def validating_policy(
    name: str,
    settings: PolicySettings,
    *,
    rule: str,
    title: str,
    description: str,
    subject: str,
    resource_rules: Sequence[Mapping[str, Any]] = (POD_RULE,),
    validations: Sequence[Mapping[str, str]],
    variables: Sequence[Mapping[str, str]] = (),
    match_conditions: Sequence[Mapping[str, str]] = (),
    extra_excluded: Iterable[str] = (),
    autogen: bool = True,
    pod_update_changes: str | None = None,
) -> dict[str, Any]:
    """The full ValidatingPolicy manifest. The namespace selector repeats the webhook-level
    exclusion so background scans (which ignore webhook selectors) skip the same namespaces.
    ``autogen=False`` keeps a pod policy on pods only (Kyverno copies it onto pod controllers'
    templates otherwise, see POD_RULE). Pod policies skip pod UPDATEs (SKIP_POD_UPDATES) unless
    ``pod_update_changes`` is CEL that is true when an UPDATE changes a mutable field the policy
    checks (e.g. an image); then those UPDATEs, and only those, are judged."""
    conditions = [dict(c) for c in match_conditions]
    if any(r.get("resources") == ["pods"] for r in resource_rules):
        skip = SKIP_POD_UPDATES["expression"]
        conditions.insert(
            0,
            dict(SKIP_POD_UPDATES)
            if pod_update_changes is None
            else {
                "name": "pod-updates-that-change-what-is-checked",
                "expression": f"{skip} || ({pod_update_changes})",
            },
        )
    spec: dict[str, Any] = {
        "validationActions": list(settings.validation_actions),
        "failurePolicy": settings.failure_policy,
        "evaluation": {"background": {"enabled": True}},
        "matchConstraints": {
            "namespaceSelector": not_in_namespaces(
                [*settings.excluded_namespaces, *extra_excluded]
            ),
            "resourceRules": [dict(r) for r in resource_rules],
        },
    }
    if not autogen:
        spec["autogen"] = {"podControllers": {"controllers": []}}
    if conditions:
        spec["matchConditions"] = conditions
    if variables:
        spec["variables"] = [dict(v) for v in variables]
    spec["validations"] = [dict(v) for v in validations]
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": f"substrate-{name}",
            "labels": dict(PART_OF),
            "annotations": {
                "policies.kyverno.io/title": title,
                "policies.kyverno.io/category": "Substrate",
                "policies.kyverno.io/subject": subject,
                "policies.kyverno.io/description": description,
                RULE_ANNOTATION: rule,
            },
        },
        "spec": spec,
    }


# -- Shared CEL fragments ---------------------------------------------------------------------
def containers(spec: str) -> str:
    """CEL list of the containers of pod spec ``spec`` that can request resources (ephemeral
    containers cannot)."""
    return f"{spec}.containers + {spec}.?initContainers.orValue([])"


def requests_gpu(spec: str) -> str:
    """CEL: some container of pod spec ``spec`` requests or limits a non-zero number of GPUs:
    whole (`nvidia.com/gpu`) or time-sliced (`nvidia.com/gpu.shared`)."""
    any_gpu = " || ".join(f"({g} in m && string(m[{g}]) != '0')" for g in map(cel, GPU_RESOURCES))
    return (
        f"({containers(spec)}).exists(c, [c.?resources.?limits.orValue({{}}), "
        f"c.?resources.?requests.orValue({{}})].exists(m, {any_gpu}))"
    )


def images(spec: str) -> str:
    """CEL list of the images of every container of pod spec ``spec``."""
    return f"({containers(spec)} + {spec}.?ephemeralContainers.orValue([])).map(c, c.image)"


def requested_by_controllers(settings: PolicySettings) -> str:
    """CEL: the request comes from a workload controller, not a tenant: kube-controller-manager
    (under its own name, or its per-controller service accounts in kube-system) or a service
    account of a namespace no policy sees (the platform's operators: JobSet, LWS, KubeRay,
    Spark, KEDA). Who created an object, never its `ownerReferences`, which a tenant can write."""
    prefixes = [f"system:serviceaccount:{ns}:" for ns in sorted(set(settings.excluded_namespaces))]
    return (
        "request.userInfo.username == 'system:kube-controller-manager' || "
        f"{cel(prefixes)}.exists(p, request.userInfo.username.startsWith(p))"
    )


def gated_by_kueue(spec: str) -> str:
    """CEL: pod spec ``spec`` is held by Kueue's admission scheduling gate."""
    return f"{spec}.?schedulingGates.orValue([]).exists(g, g.name == {cel(KUEUE_ADMISSION_GATE)})"


CONTAINERS = containers("object.spec")
"""Containers of the admitted pod that can request resources."""
ALL_CONTAINERS = CONTAINERS + " + object.spec.?ephemeralContainers.orValue([])"
"""Every container of the pod, including `kubectl debug` ephemeral containers."""
