"""The apiserver engine's `authorize` mode (substrate.engines.rbac) on the examples of the
Kubernetes documentation's "Using RBAC Authorization" page: the answers are kube-apiserver's."""

from __future__ import annotations

from typing import Any

import pytest

from substrate.engines import rbac
from substrate.engines.rbac import AccessRequest
from tests.helpers import require_engine

V1 = rbac.RBAC_API_VERSION


def _rule(resources: list[str], verbs: list[str], **extra: Any) -> dict[str, Any]:
    return {"apiGroups": [""], "resources": resources, "verbs": verbs, **extra}


def _binding(
    kind: str, name: str, namespace: str, role: tuple[str, str], user: str
) -> dict[str, Any]:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {
        "apiVersion": V1,
        "kind": kind,
        "metadata": meta,
        "subjects": [{"kind": "User", "name": user, "apiGroup": "rbac.authorization.k8s.io"}],
        "roleRef": {"kind": role[0], "name": role[1], "apiGroup": "rbac.authorization.k8s.io"},
    }


# The page's examples: Role pod-reader bound to jane in default; ClusterRole secret-reader bound
# by RoleBinding read-secrets to dave in development only; a ClusterRole narrowed by
# resourceNames (configmap-updater) bound cluster-wide to erin.
OBJECTS = [
    {
        "apiVersion": V1,
        "kind": "Role",
        "metadata": {"namespace": "default", "name": "pod-reader"},
        "rules": [_rule(["pods"], ["get", "watch", "list"])],
    },
    _binding("RoleBinding", "read-pods", "default", ("Role", "pod-reader"), "jane"),
    {
        "apiVersion": V1,
        "kind": "ClusterRole",
        "metadata": {"name": "secret-reader"},
        "rules": [_rule(["secrets"], ["get", "watch", "list"])],
    },
    _binding(
        "RoleBinding", "read-secrets", "development", ("ClusterRole", "secret-reader"), "dave"
    ),
    {
        "apiVersion": V1,
        "kind": "ClusterRole",
        "metadata": {"name": "configmap-updater"},
        "rules": [_rule(["configmaps"], ["update", "get"], resourceNames=["my-configmap"])],
    },
    _binding("ClusterRoleBinding", "update-cm", "", ("ClusterRole", "configmap-updater"), "erin"),
    {
        "apiVersion": V1,
        "kind": "ClusterRole",
        "metadata": {"name": "monitoring"},
        "aggregationRule": {
            "clusterRoleSelectors": [
                {"matchLabels": {"rbac.example.com/aggregate-to-monitoring": "true"}}
            ]
        },
        "rules": [],
    },
    {
        "apiVersion": V1,
        "kind": "ClusterRole",
        "metadata": {
            "name": "monitoring-endpoints",
            "labels": {"rbac.example.com/aggregate-to-monitoring": "true"},
        },
        "rules": [_rule(["services", "endpointslices", "pods"], ["get", "list", "watch"])],
    },
    _binding("ClusterRoleBinding", "monitor", "", ("ClusterRole", "monitoring"), "mona"),
    # The bootstrap `view` role, aggregated from system:aggregate-to-view.
    _binding("RoleBinding", "viewers", "team", ("ClusterRole", "view"), "vic"),
]

CASES = [
    (AccessRequest("jane", (), "list", "pods", namespace="default"), True),
    (AccessRequest("jane", (), "list", "pods", namespace="development"), False),
    (AccessRequest("jane", (), "delete", "pods", namespace="default"), False),
    (AccessRequest("dave", (), "get", "secrets", namespace="development"), True),
    (AccessRequest("dave", (), "get", "secrets", namespace="default"), False),
    (AccessRequest("erin", (), "update", "configmaps", namespace="a", name="my-configmap"), True),
    (AccessRequest("erin", (), "update", "configmaps", namespace="a", name="other"), False),
    (AccessRequest("erin", (), "list", "configmaps", namespace="a"), False),
    # Aggregation, as the clusterrole-aggregation controller fills the roles.
    (AccessRequest("mona", (), "list", "pods", namespace="a"), True),
    (AccessRequest("mona", (), "list", "secrets", namespace="a"), False),
    (AccessRequest("vic", (), "list", "deployments", api_group="apps", namespace="team"), True),
    (AccessRequest("vic", (), "get", "secrets", namespace="team"), False),
    (AccessRequest("vic", (), "create", "pods", namespace="team"), False),
    # The bootstrap policy: system:basic-user lets every authenticated user review its access.
    (
        AccessRequest(
            "x",
            ("system:authenticated",),
            "create",
            "selfsubjectaccessreviews",
            api_group="authorization.k8s.io",
        ),
        True,
    ),
]


@pytest.fixture(scope="module")
def run() -> rbac.Authorization:
    require_engine("apiserver")
    return rbac.authorize(OBJECTS, [q for q, _ in CASES])


@pytest.mark.parametrize(("question", "allowed"), CASES)
def test_the_authorizer_answers_the_documented_examples(
    run: rbac.Authorization, question: AccessRequest, allowed: bool
) -> None:
    (decision,) = [d for d in run.decisions if d.request == question]
    assert decision.allowed is allowed, decision.reason
    assert ("RBAC: allowed by" in decision.reason) is allowed


def test_an_allow_names_the_binding_and_role(run: rbac.Authorization) -> None:
    assert run.decisions[0].reason == (
        'RBAC: allowed by RoleBinding "read-pods/default" of Role "pod-reader" to User "jane"'
    )


def test_without_the_bootstrap_policy_nothing_is_granted_to_authenticated_users() -> None:
    require_engine("apiserver")
    question = CASES[-1][0]
    (decision,) = rbac.authorize([], [question], bootstrap=False).decisions
    assert not decision.allowed


def test_aggregated_cluster_roles_are_named_in_the_notes(run: rbac.Authorization) -> None:
    aggregated = {n.split(":")[0] for n in run.notes if "aggregated by" in n}
    assert {"ClusterRole monitoring", "ClusterRole admin", "ClusterRole view"} <= aggregated
