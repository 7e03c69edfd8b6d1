"""Who may do what in the cluster, decided by kube-apiserver's own RBAC authorizer.

``build/engines/apiserver authorize`` runs ``k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac``
(Kubernetes v1.36.0) over static listers holding the given Roles, ClusterRoles, RoleBindings and
ClusterRoleBindings plus the bootstrap policy kube-apiserver writes on every cluster (the
``system:*`` roles and bindings, e.g. ``system:basic-user`` for ``system:authenticated``). Each
question is a SubjectAccessReview's: user, groups, verb, API group, resource, subresource,
namespace, name. The authorizer either allows (naming the binding and role that do) or has no
opinion, which kube-apiserver, with RBAC as its last authorizer, turns into a denial.

ClusterRoles with an ``aggregationRule`` (the bootstrap ``admin``/``edit``/``view``, some charts'
roles) first get their rules from kube-controller-manager's clusterrole-aggregation controller
(its own sync code); the run's ``notes`` name them. Not modelled: the other authorizers EKS chains
before RBAC (Node, the EKS access policies: Substrate associates none with tenant admins)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from substrate.engines import run

RBAC_KINDS = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})
RBAC_API_VERSION = "rbac.authorization.k8s.io/v1"


@dataclass(frozen=True)
class AccessRequest:
    """One access question (a SubjectAccessReview's spec.resourceAttributes and user)."""

    user: str
    groups: tuple[str, ...]
    verb: str
    resource: str
    api_group: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["apiGroup"] = data.pop("api_group")
        data["groups"] = list(self.groups)
        return data


@dataclass(frozen=True)
class AccessDecision:
    request: AccessRequest
    allowed: bool
    reason: str
    """The authorizer's reason: the binding and role that allow, or "" when none does."""


@dataclass(frozen=True)
class Authorization:
    decisions: tuple[AccessDecision, ...]
    """One per request, in request order."""
    notes: tuple[str, ...]


def rbac_objects(objects: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The RBAC objects among ``objects`` (e.g. substrate.engines.cluster.of_plan's)."""
    return [
        dict(o)
        for o in objects
        if o.get("kind") in RBAC_KINDS and o.get("apiVersion") == RBAC_API_VERSION
    ]


def authorize(
    objects: Sequence[Mapping[str, Any]],
    requests: Sequence[AccessRequest],
    *,
    bootstrap: bool = True,
) -> Authorization:
    """Decide every request (one engine run) against the RBAC ``objects`` and, with
    ``bootstrap``, the bootstrap policy every cluster has."""
    payload = {
        "rbac": [dict(o) for o in objects],
        "bootstrap": bootstrap,
        "requests": [r.to_json() for r in requests],
    }
    done = run("apiserver", ["authorize"], stdin=json.dumps(payload))
    out = json.loads(done.stdout)
    decisions = tuple(
        AccessDecision(request=r, allowed=d["allowed"], reason=d["reason"] or d["error"])
        for r, d in zip(requests, out["decisions"], strict=True)
    )
    return Authorization(decisions=decisions, notes=tuple(out["notes"]))
