"""R20: one agent cannot become another. An agent's service account carries its Bedrock role
(EKS Pod Identity) and its SPIFFE ID, and its claims `memory-<agent>-<n>` carry its memory, so:

- only the agent's own StatefulSet pods use its service account: pods the StatefulSet controller
  (`system:serviceaccount:kube-system:statefulset-controller`) creates, named `<agent>-<n>` and
  controlled by the StatefulSet `<agent>`;
- a memory claim `memory-<agent>-<n>` is mounted only by pod `<agent>-<n>` of that StatefulSet;
- a claim of that name is created only by the StatefulSet controller or a cluster administrator
  restoring memory (never by a tenant member or a workload, which could otherwise pre-create it
  and inject memory the agent adopts);
- no memory claim, and no claim template of an agent's StatefulSet, requests more than the
  stack's memory cap (`substrate:storage.maxAgentMemoryVolume`): creating or expanding one
  beyond it is refused, whoever asks;
- only the agent's StatefulSet (named `<agent>`) runs as the agent's service account, and
  tenant members and workloads cannot create or change it (the platform deploys it);
- a task agent (`mode: task`) runs as Jobs KEDA creates from its ScaledJob: a pod may also use
  the agent's service account when the job controller
  (`system:serviceaccount:kube-system:job-controller`) creates it for a Job named
  `<agent>-<suffix>` that controls it; such a Job is created only by KEDA's operator
  (`system:serviceaccount:keda:keda-operator`) and controlled by the ScaledJob `<agent>`; and
  only the platform deploys that ScaledJob, under the agent's name (KEDA v2.20.2 names a Job
  `<scaledjob>-<random>` and makes the ScaledJob its controller).

The stack's agents (`<namespace>/<agent>`) arrive in the policy settings, so the policy needs no
cluster lookup. Judged at CREATE (claims and StatefulSets also at UPDATE); it depends on the
requester, so background scans are off.
"""

from __future__ import annotations

import json
from typing import Any

from substrate.components.admission.admission_policies._base import (
    POD_RULE,
    PolicySettings,
    cel,
    validating_policy,
    validation,
    variable,
)

NAME = "agent-isolation"
RULE = "R20"
STATEFULSET_CONTROLLER = "system:serviceaccount:kube-system:statefulset-controller"
JOB_CONTROLLER = "system:serviceaccount:kube-system:job-controller"
KEDA_OPERATOR = "system:serviceaccount:keda:keda-operator"
"""KEDA's operator: service account `keda-operator` of the KEDA release (namespace `keda`,
substrate.components.workloads.keda's default)."""
TENANT_GROUP_PREFIX = "substrate:tenant:"
"""Groups EKS gives tenant members (`substrate:tenant:<tenant>:admins`, TenantSpec.admin_group)."""
MEMORY_CLAIM = "memory"
"""The agents' claim template name (substrate.components.agents.agent_manifests.MEMORY_VOLUME)."""


def _pod_of(agent: str) -> str:
    """CEL: the admitted pod is `<agent>-<n>`, controlled by StatefulSet `<agent>`, created by
    the StatefulSet controller."""
    return (
        f"(variables.byController && object.metadata.name.matches('^' + {agent} + '-[0-9]+$') && "
        "object.metadata.?ownerReferences.orValue([]).exists(r, r.kind == 'StatefulSet' && "
        f"r.apiVersion == 'apps/v1' && r.name == {agent} && r.?controller.orValue(false)))"
    )


def _job_pod_of(agent: str) -> str:
    """CEL: the admitted pod is created by the job controller for a Job `<agent>-<suffix>`
    that controls it (a task agent's Job, which only KEDA creates: see the Job rule)."""
    return (
        "(variables.byJobController && object.metadata.?ownerReferences.orValue([]).exists(r, "
        f"r.kind == 'Job' && r.apiVersion == 'batch/v1' && r.name.startsWith({agent} + '-') && "
        "r.?controller.orValue(false)))"
    )


def _claim_of(agent: str, claim: str) -> str:
    return f"{claim}.matches('^{MEMORY_CLAIM}-' + {agent} + '-[0-9]+$')"


def _by_namespace(settings: PolicySettings) -> str:
    """CEL map literal: namespace -> names of its agents."""
    found: dict[str, list[str]] = {}
    for entry in sorted(settings.agents):
        namespace, _, agent = entry.partition("/")
        found.setdefault(namespace, []).append(agent)
    return json.dumps(found, sort_keys=True)


RESOURCE_RULES = [
    POD_RULE,
    {
        "apiGroups": [""],
        "apiVersions": ["v1"],
        "operations": ["CREATE", "UPDATE"],
        "resources": ["persistentvolumeclaims"],
    },
    {
        "apiGroups": ["apps"],
        "apiVersions": ["v1"],
        "operations": ["CREATE", "UPDATE"],
        "resources": ["statefulsets"],
    },
    {
        "apiGroups": ["batch"],
        "apiVersions": ["v1"],
        "operations": ["CREATE"],
        "resources": ["jobs"],
    },
    {
        "apiGroups": ["keda.sh"],
        "apiVersions": ["v1alpha1"],
        "operations": ["CREATE", "UPDATE"],
        "resources": ["scaledjobs"],
    },
]


def _within_cap(spec: str, cap: str | None) -> str:
    """CEL: claim spec ``spec`` requests no more storage than ``cap``."""
    if cap is None:
        return "true"
    return (
        f"!has({spec}.resources) || !has({spec}.resources.requests) || "
        f"!('storage' in {spec}.resources.requests) || "
        f"quantity(string({spec}.resources.requests['storage'])).compareTo(quantity({cel(cap)}))"
        " <= 0"
    )


def build(settings: PolicySettings) -> dict[str, Any]:
    cap = settings.agent_memory_cap
    tenant_member = (
        f"request.userInfo.?groups.orValue([]).exists(g, g.startsWith({cel(TENANT_GROUP_PREFIX)}))"
        " || request.userInfo.username.startsWith('system:serviceaccount:')"
    )
    policy = validating_policy(
        NAME,
        settings,
        rule=RULE,
        title="An agent's identity and memory belong to its StatefulSet",
        subject="Pod, PersistentVolumeClaim, StatefulSet, Job, ScaledJob",
        description="Only the pods the StatefulSet controller creates for an agent use its "
        "service account (its Bedrock role and SPIFFE ID) and mount its memory claims; memory "
        "claims are created only by that controller or a cluster administrator, and never above "
        "the memory cap.",
        resource_rules=RESOURCE_RULES,
        autogen=False,
        variables=[
            variable(
                "agents",
                f"object.metadata.namespace in {_by_namespace(settings)} ? "
                f"{_by_namespace(settings)}[object.metadata.namespace] : []",
            ),
            variable("byController", f"request.userInfo.username == {cel(STATEFULSET_CONTROLLER)}"),
            variable("byJobController", f"request.userInfo.username == {cel(JOB_CONTROLLER)}"),
            variable("byKeda", f"request.userInfo.username == {cel(KEDA_OPERATOR)}"),
            variable("tenantMember", f"({tenant_member}) && !variables.byController"),
            variable(
                "account",
                "object.kind == 'Pod' ? object.spec.?serviceAccountName.orValue('default') : "
                "object.kind in ['StatefulSet', 'Job'] ? "
                "object.spec.template.spec.?serviceAccountName.orValue('default') : "
                "object.kind == 'ScaledJob' ? "
                "object.spec.jobTargetRef.template.spec.?serviceAccountName"
                ".orValue('default') : ''",
            ),
            variable(
                "claims",
                "object.kind == 'Pod' ? object.spec.?volumes.orValue([])"
                ".filter(v, has(v.persistentVolumeClaim)).map(v, v.persistentVolumeClaim.claimName)"
                " : []",
            ),
        ],
        validations=[
            validation(
                "object.kind != 'Pod' || !(variables.account in variables.agents) || "
                + _pod_of("variables.account")
                + " || "
                + _job_pod_of("variables.account"),
                "Only the agent's own StatefulSet pods (or a task agent's Job pods) may use its "
                "service account.",
                "'service account ' + variables.account + ' belongs to agent ' + "
                "variables.account + ': only pods ' + variables.account + '-<n> that the "
                "StatefulSet controller creates for StatefulSet ' + variables.account + "
                "' (or the job controller for its Jobs) may use it'",
            ),
            validation(
                "object.kind != 'Job' || !(variables.account in variables.agents) || "
                "(variables.byKeda && object.metadata.?ownerReferences.orValue([]).exists(r, "
                "r.kind == 'ScaledJob' && r.apiVersion == 'keda.sh/v1alpha1' && "
                "r.name == variables.account && r.?controller.orValue(false)))",
                "Only KEDA creates Jobs that run as an agent, for the agent's own ScaledJob.",
                "'Job ' + object.metadata.?name.orValue(object.metadata.?generateName"
                ".orValue('')) + ' runs as agent ' + variables.account + ': only KEDA\\'s "
                "operator creates such Jobs, for ScaledJob ' + variables.account",
            ),
            validation(
                "object.kind != 'ScaledJob' || !(variables.account in variables.agents) || "
                "(object.metadata.name == variables.account && !variables.tenantMember)",
                "Only the platform deploys a task agent's ScaledJob, under the agent's name.",
                "'ScaledJob ' + object.metadata.name + ' runs as agent ' + variables.account + "
                "': only the platform deploys it, as ScaledJob ' + variables.account",
            ),
            validation(
                "object.kind != 'Pod' || variables.claims.all(c, variables.agents.all(a, "
                f"!{_claim_of('a', 'c')} || "
                f"({_pod_of('a')} && c == '{MEMORY_CLAIM}-' + object.metadata.name)))",
                "An agent's memory claim is mounted only by its own replica.",
                "'memory claims ' + variables.claims.filter(c, variables.agents.exists(a, "
                f"{_claim_of('a', 'c')})).join(', ') + ' belong to agent replicas: only the pod "
                "of the same name, created by its StatefulSet, may mount its own'",
            ),
            validation(
                "object.kind != 'PersistentVolumeClaim' || "
                f"!variables.agents.exists(a, {_claim_of('a', 'object.metadata.name')}) || "
                + _within_cap("object.spec", cap),
                "Agent memory claims stay within the stack's memory cap.",
                "'claim ' + object.metadata.name + ' requests ' + "
                "object.spec.?resources.?requests.?storage.orValue('nothing') + "
                f"', above the agent memory cap of {cap or 'none'}'",
            ),
            validation(
                "object.kind != 'PersistentVolumeClaim' || request.operation != 'CREATE' || "
                "!variables.tenantMember || "
                f"!variables.agents.exists(a, {_claim_of('a', 'object.metadata.name')})",
                "Agent memory claims are created by the StatefulSet controller or a cluster "
                "administrator restoring memory, never by tenants or workloads.",
                "'claim ' + object.metadata.name + ' would become an agent replica\\'s memory: "
                "only the StatefulSet controller or a cluster administrator creates it'",
            ),
            validation(
                "object.kind != 'StatefulSet' || !(variables.account in variables.agents) || "
                "object.spec.?volumeClaimTemplates.orValue([]).all(t, "
                + _within_cap("t.spec", cap)
                + ")",
                "An agent's claim templates stay within the stack's memory cap.",
                "'StatefulSet ' + object.metadata.name + ' asks for memory volumes above the "
                f"agent memory cap of {cap or 'none'}'",
            ),
            validation(
                "object.kind != 'StatefulSet' || !(variables.account in variables.agents) || "
                "(object.metadata.name == variables.account && !variables.tenantMember)",
                "Only the platform deploys an agent's StatefulSet, under the agent's name.",
                "'StatefulSet ' + object.metadata.name + ' runs as agent ' + variables.account + "
                "': only the platform deploys it, as StatefulSet ' + variables.account",
            ),
        ],
    )
    policy["spec"]["evaluation"] = {"background": {"enabled": False}}
    return policy
