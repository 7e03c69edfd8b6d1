"""Everything the cluster will hold for a plan: the plan's own manifests plus every Helm
release's objects as Helm installs them (namespaced objects a chart leaves unqualified go into the
release's namespace, as Helm's client places them), for the engines that judge the cluster as a
whole (admission, Pod Security, NetworkPolicy connectivity, `substrate check`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from substrate.engines.helm import CRD_KIND, Plan, Rendered, render

# Built-in kinds that are cluster-scoped: the resources whose typed client in k8s.io/client-go
# v0.36 (kubernetes/typed/...) takes no namespace, plus CustomResourceDefinition and APIService
# (apiextensions and kube-aggregator). Every other built-in kind is namespaced; custom kinds take
# the scope their CRD declares.
CLUSTER_SCOPED = frozenset(
    {
        ("", "Namespace"),
        ("", "Node"),
        ("", "PersistentVolume"),
        ("", "ComponentStatus"),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
        ("apiextensions.k8s.io", CRD_KIND),
        ("apiregistration.k8s.io", "APIService"),
        ("certificates.k8s.io", "CertificateSigningRequest"),
        ("certificates.k8s.io", "ClusterTrustBundle"),
        ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
        ("networking.k8s.io", "IngressClass"),
        ("networking.k8s.io", "IPAddress"),
        ("networking.k8s.io", "ServiceCIDR"),
        ("node.k8s.io", "RuntimeClass"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("storage.k8s.io", "CSIDriver"),
        ("storage.k8s.io", "CSINode"),
        ("storage.k8s.io", "StorageClass"),
        ("storage.k8s.io", "VolumeAttachment"),
        ("storage.k8s.io", "VolumeAttributesClass"),
        ("resource.k8s.io", "DeviceClass"),
        ("resource.k8s.io", "DeviceTaintRule"),
        ("resource.k8s.io", "ResourcePoolStatusRequest"),
        ("resource.k8s.io", "ResourceSlice"),
        ("storagemigration.k8s.io", "StorageVersionMigration"),
        ("internal.apiserver.k8s.io", "StorageVersion"),
        ("authentication.k8s.io", "SelfSubjectReview"),
        ("authentication.k8s.io", "TokenReview"),
        ("authorization.k8s.io", "SelfSubjectAccessReview"),
        ("authorization.k8s.io", "SelfSubjectRulesReview"),
        ("authorization.k8s.io", "SubjectAccessReview"),
    }
)


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def is_namespaced(obj: Mapping[str, Any], crds: Iterable[Mapping[str, Any]]) -> bool:
    group, kind = _group(str(obj.get("apiVersion", ""))), str(obj.get("kind", ""))
    for crd in crds:
        spec = crd.get("spec") or {}
        if spec.get("group") == group and (spec.get("names") or {}).get("kind") == kind:
            return spec.get("scope") == "Namespaced"
    return (group, kind) not in CLUSTER_SCOPED


def installed(rendered: Rendered, crds: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The release's objects as Helm creates them: namespaced objects without a namespace go into
    the release's namespace; cluster-scoped objects carry none."""
    crds = list(crds)
    out = []
    namespace = rendered.release.namespace
    for obj in rendered.objects:
        meta = obj.get("metadata") or {}
        unplaced = is_namespaced(obj, crds) and not meta.get("namespace")
        out.append({**obj, "metadata": {**meta, "namespace": namespace}} if unplaced else obj)
    return out


def cluster_objects(plan: Plan, rendered: Sequence[Rendered]) -> list[dict[str, Any]]:
    """Everything the cluster will hold for ``plan``: its manifests, then every release's
    objects as installed."""
    objects = [dict(m) for m in plan.manifests.values()]
    crds = [o for o in objects if o.get("kind") == CRD_KIND]
    crds += [c for r in rendered for c in r.crds()]
    for r in rendered:
        objects += installed(r, crds)
    return objects


def of_plan(plan: Plan, charts: Path) -> list[dict[str, Any]]:
    """Render every release of ``plan`` from the chart packages in ``charts`` and return
    everything the cluster will hold (see :func:`cluster_objects`)."""
    return cluster_objects(plan, render(plan, charts))
