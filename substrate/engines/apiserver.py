"""Objects as the Kubernetes API server admits them, and what the controllers create from them.

The apiserver engine (build/engines/apiserver, k8s.io/kubernetes v1.36.0 run as the cluster's
minor version) performs each CREATE with Kubernetes' own code: the API's defaulting, the
built-in admission plugins kube-apiserver enables by default (LimitRanger, ServiceAccount,
Priority, DefaultTolerationSeconds, DefaultStorageClass, PodSecurity, ...), the mutating and
validating webhook dispatchers calling Kueue's webhooks in process (sigs.k8s.io/kueue v0.19.2),
and the registry strategy (a Job's selector and job-name labels). ``Admission.admitted`` is the
object exactly as a validating webhook such as Kyverno receives it. The job, cronjob,
deployment, replicaset and statefulset controllers' own sync code then create the children
(CronJob -> Job -> Pod, Deployment -> ReplicaSet -> Pod, StatefulSet -> ControllerRevision, PVCs
and Pods), each admitted the same way. Every pod carries Pod Security Admission's verdict for
its namespace. Custom resources are decoded with their CRD's structural schema (pruning,
defaults) and validated by its schema and CEL rules. Webhooks whose code does not run here
(JobSet's, LWS's, ...) are left out and named in ``ApiServerRun.notes``.

Cluster state (namespaces, LimitRanges, ResourceQuotas, ServiceAccounts, StorageClasses,
LocalQueues, the charts' webhook configurations and CRDs, Kueue's Configuration) is what exists
before the objects are created; each object is created against that state alone, except that
ResourceQuota usage accumulates over the objects of one run, in order, as kube-apiserver's
ResourceQuota plugin charges it (quotas start with the usage of the state's own objects). The
engine is deterministic: a fixed clock, UIDs derived from names, random name suffixes drawn from
a generator seeded by the request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from substrate.engines import cluster, run
from substrate.plan.command import PlanResult

# Namespaces every cluster has before anything is installed.
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")

# Kinds of a plan's manifests that admission and Kueue's webhooks read as existing state.
STATE_KINDS = frozenset(
    {
        "LimitRange",
        "ResourceQuota",
        "ServiceAccount",
        "PriorityClass",
        "StorageClass",
        "RuntimeClass",
        "IngressClass",
        "LocalQueue",
        "ClusterQueue",
        "ResourceFlavor",
        "WorkloadPriorityClass",
        "Cohort",
    }
)
WEBHOOK_KINDS = frozenset({"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"})
KUEUE_CONFIG_KEY = "controller_manager_config.yaml"
KUEUE_CONFIG_GROUP = "config.kueue.x-k8s.io"


@dataclass(frozen=True)
class Forbidden:
    reason: str
    detail: str


@dataclass(frozen=True)
class ModeVerdict:
    """Pod Security Admission in one mode (enforce, audit or warn)."""

    level: str
    version: str
    allowed: bool
    forbidden: tuple[Forbidden, ...]


@dataclass(frozen=True)
class PodSecurity:
    enforce: ModeVerdict
    audit: ModeVerdict
    warn: ModeVerdict
    errors: tuple[str, ...]


@dataclass(frozen=True)
class Admission:
    """One CREATE request and what the API server did with it."""

    admitted: Mapping[str, Any] | None
    """The object as a validating admission webhook receives it; None if refused earlier."""
    created: bool
    """Stored: nothing the engine runs refused it (Kyverno is not part of this engine)."""
    refused_by: str
    """The admission plugin that refused it ("registry": the strategy's validation), or ""."""
    reaches_validating_webhooks: bool
    """Whether validating webhooks (Kyverno) receive ``admitted``: no mutating plugin, the
    registry or a built-in validating plugin (e.g. PodSecurity enforce) refused it first."""
    username: str
    groups: tuple[str, ...]
    children: tuple[Admission, ...]
    pod_security: PodSecurity | None
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    """What the API server returns as Warning headers (PodSecurity warn, unknown fields, ...)."""
    notes: tuple[str, ...]
    """What the engine did not model for this object, and assumptions it made."""

    @property
    def kind(self) -> str:
        return str((self.admitted or {}).get("kind", ""))

    @property
    def name(self) -> str:
        return str(((self.admitted or {}).get("metadata") or {}).get("name", ""))

    @property
    def namespace(self) -> str:
        return str(((self.admitted or {}).get("metadata") or {}).get("namespace", ""))

    def tree(self) -> Iterator[Admission]:
        """This request and every descendant, depth first."""
        yield self
        for child in self.children:
            yield from child.tree()

    def descendants(self, kind: str) -> list[Admission]:
        """Every descendant of ``kind`` (not this request itself)."""
        return [a for a in self.tree() if a is not self and a.kind == kind]


@dataclass(frozen=True)
class ApiServerRun:
    kubernetes_version: str
    admission_plugins: tuple[str, ...]
    webhooks: tuple[str, ...]
    """The webhooks whose code the engine runs ("mutating <config>/<webhook>", ...)."""
    notes: tuple[str, ...]
    results: tuple[Admission, ...]
    """One per input object, in input order."""


def webhook_requests(run: ApiServerRun) -> list[Admission]:
    """Every CREATE of the run (children included) whose object validating webhooks receive:
    what Kyverno evaluates, in the shape it evaluates it."""
    return [a for r in run.results for a in r.tree() if a.reaches_validating_webhooks]


@dataclass(frozen=True)
class ClusterState:
    """What the cluster holds before the objects are created."""

    kubernetes_version: str
    namespaces: tuple[Mapping[str, Any], ...] = ()
    cluster: tuple[Mapping[str, Any], ...] = ()
    """LimitRanges, ServiceAccounts, StorageClasses, LocalQueues, webhook configurations, CRDs."""
    kueue: Mapping[str, Any] | None = None
    """Kueue's Configuration (config.kueue.x-k8s.io), or None when Kueue is not installed."""
    kueue_feature_gates: str = ""
    notes: tuple[str, ...] = field(default=())


def _verdict(data: Mapping[str, Any]) -> ModeVerdict:
    return ModeVerdict(
        level=data["level"],
        version=data["version"],
        allowed=data["allowed"],
        forbidden=tuple(Forbidden(f["reason"], f["detail"]) for f in data["forbidden"]),
    )


def _admission(data: Mapping[str, Any]) -> Admission:
    psa = data.get("podSecurity")
    return Admission(
        admitted=data["admitted"],
        created=data["created"],
        refused_by=data["refusedBy"],
        reaches_validating_webhooks=data["reachesValidatingWebhooks"],
        username=data["user"]["username"],
        groups=tuple(data["user"].get("groups") or ()),
        children=tuple(_admission(c) for c in data["children"]),
        pod_security=None
        if psa is None
        else PodSecurity(
            enforce=_verdict(psa["enforce"]),
            audit=_verdict(psa["audit"]),
            warn=_verdict(psa["warn"]),
            errors=tuple(psa["errors"]),
        ),
        errors=tuple(data["errors"]),
        warnings=tuple(data["warnings"]),
        notes=tuple(data["notes"]),
    )


def admit(
    state: ClusterState,
    objects: Sequence[Mapping[str, Any]],
    *,
    username: str | None = None,
    groups: Sequence[str] = ("system:authenticated",),
    now: str | None = None,
) -> ApiServerRun:
    """Create ``objects`` (in one engine run) against ``state``, as ``username`` (default: an
    ordinary authenticated user), at ``now`` (RFC 3339; default the engine's fixed clock)."""
    request: dict[str, Any] = {
        "kubernetesVersion": state.kubernetes_version,
        "namespaces": [dict(n) for n in state.namespaces],
        "cluster": [dict(c) for c in state.cluster],
        "kueue": None if state.kueue is None else dict(state.kueue),
        "kueueFeatureGates": state.kueue_feature_gates,
        "objects": [dict(o) for o in objects],
    }
    if username is not None:
        request["user"] = {"username": username, "groups": list(groups)}
    if now is not None:
        request["now"] = now
    done = run("apiserver", [], stdin=json.dumps(request))
    out = json.loads(done.stdout)
    return ApiServerRun(
        kubernetes_version=out["kubernetesVersion"],
        admission_plugins=tuple(out["admissionPlugins"]),
        webhooks=tuple(out["webhooks"]),
        notes=tuple(state.notes) + tuple(out["notes"]),
        results=tuple(_admission(r) for r in out["results"]),
    )


def namespace(name: str, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": dict(labels or {})},
    }


def _kubernetes_version(plan: PlanResult) -> str:
    (cluster,) = [r for r in plan.records if r.type == "eks:index:Cluster"]
    return str(cluster.inputs["version"])


def kueue_config(objects: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Kueue's Configuration, from the kueue chart's manager ConfigMap (None without Kueue). Other
    kubebuilder charts (LWS) use the same ConfigMap key for their own configuration."""
    found = []
    for o in objects:
        data = (o.get("data") or {}) if o.get("kind") == "ConfigMap" else {}
        if KUEUE_CONFIG_KEY in data:
            config = yaml.safe_load(data[KUEUE_CONFIG_KEY])
            if str(config.get("apiVersion", "")).startswith(KUEUE_CONFIG_GROUP + "/"):
                found.append(config)
    if not found:
        return None
    (config,) = found
    return config


def stack_state(plan: PlanResult, *, charts: Path) -> ClusterState:
    """The cluster a stack's plan builds, as admission sees it before anything else is created:
    everything :func:`substrate.engines.cluster.of_plan` says the cluster holds (the plan's
    manifests and every Helm release rendered from the pinned chart packages in ``charts``) that
    admission reads - namespaces (with the system ones), LimitRanges, ServiceAccounts,
    PriorityClasses, StorageClasses, Kueue objects, webhook configurations, CRDs - and Kueue's
    Configuration from its chart's ConfigMap."""
    return state_of(plan, cluster.of_plan(plan, charts))


def state_of(plan: PlanResult, objects: Sequence[Mapping[str, Any]]) -> ClusterState:
    """:func:`stack_state` from ``objects``, everything the cluster holds for ``plan``
    (:func:`substrate.engines.cluster.of_plan`)."""
    namespaces = [dict(o) for o in objects if o["kind"] == "Namespace"]
    names = {n["metadata"]["name"] for n in namespaces}
    namespaces += [namespace(n) for n in SYSTEM_NAMESPACES if n not in names]
    kinds = STATE_KINDS | WEBHOOK_KINDS | {"CustomResourceDefinition"}
    return ClusterState(
        kubernetes_version=_kubernetes_version(plan),
        namespaces=tuple(namespaces),
        cluster=tuple(o for o in objects if o["kind"] in kinds),
        kueue=kueue_config(objects),
    )
