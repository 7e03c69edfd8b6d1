"""R31: a StatefulSet needs a PodDisruptionBudget that selects its pods and allows at least one
voluntary disruption, so node drains (Karpenter consolidation, upgrades) never take down a
quorum at once nor block forever.

The PDB is another object, so the policy reads the namespace's PDBs with Kyverno's resource
library (`resource.List`). Create the PDB before the StatefulSet (Helm installs
PodDisruptionBudgets before StatefulSets); background scans re-check existing StatefulSets.

A LeaderWorkerSet is judged at creation by the same test applied to the StatefulSets LWS's
controller will create of it (sigs.k8s.io/lws v0.10.0, construct{Leader,Worker}StatefulSet-
ApplyConfiguration; the workload-pods engine runs that code): the leader StatefulSet
(``spec.replicas`` pods of the leader template, or of the worker template without one) and,
when ``size`` > 1, one worker StatefulSet per group (``size`` - 1 pods of the worker template).
LWS overrides the templates' labels with its own: its name and ``worker-index: "0"`` on the
leader's, its name and ``group-index`` on each group's workers', and hashes the policy cannot
know beforehand (template revision, group key). A selector requirement on those hashes counts
as met (DoesNotExist as not met), so a LeaderWorkerSet is never refused when its StatefulSets
would be admitted: the StatefulSet rule stays the authority. Without this, Kyverno refuses the
StatefulSets to LWS's controller and the tenant only sees a LeaderWorkerSet that never starts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from substrate.components.admission.admission_policies._base import (
    PolicySettings,
    cel,
    validating_policy,
    validation,
    variable,
)

NAME = "statefulset-pdb"
RULE = "R31"

LWS_LABEL = "leaderworkerset.sigs.k8s.io/"
SET_NAME = LWS_LABEL + "name"
WORKER_INDEX = LWS_LABEL + "worker-index"
GROUP_INDEX = LWS_LABEL + "group-index"
GROUP_KEY = LWS_LABEL + "group-key"
REVISION = LWS_LABEL + "template-revision-hash"
"""The labels LWS puts on its StatefulSets' pod templates (sigs.k8s.io/lws api constants)."""

LWT = "object.spec.leaderWorkerTemplate"
IS_STATEFULSET = "object.kind == 'StatefulSet'"
IS_LWS = "object.kind == 'LeaderWorkerSet'"


def selects(
    has: Callable[[str], str], value: Callable[[str], str], unknown: Sequence[str] = ()
) -> str:
    """CEL: PDB `p`'s label selector selects pod labels where ``has(k)`` tells a key is set and
    ``value(k)`` gives its value (a PDB without a selector selects nothing in policy/v1). Keys
    in ``unknown`` are set to values not known yet: a requirement on them counts as met, except
    DoesNotExist."""

    def req(key: str, exact: str, known_set: str) -> str:
        if not unknown:
            return exact
        return f"({key} in {cel(list(unknown))} ? {known_set} : ({exact}))"

    label = req("k", f"{has('k')} && {value('k')} == p.spec.selector.matchLabels[k]", "true")
    expression = req(
        "e.key",
        f"e.operator == 'In' ? ({has('e.key')} && {value('e.key')} in e.values)"
        f" : e.operator == 'NotIn' ? !({has('e.key')} && {value('e.key')} in e.values)"
        f" : e.operator == 'Exists' ? {has('e.key')}"
        f" : !({has('e.key')})",
        "e.operator != 'DoesNotExist'",
    )
    return (
        "has(p.spec.selector) && "
        f"p.spec.selector.?matchLabels.orValue({{}}).all(k, {label}) && "
        f"p.spec.selector.?matchExpressions.orValue([]).all(e, {expression})"
    )


SELECTS_POD = selects(
    lambda k: f"{k} in variables.podLabels", lambda k: f"variables.podLabels[{k}]"
)
"""CEL: PDB `p`'s label selector selects the StatefulSet's pod template labels."""


def _lws_selects(template: str, own: dict[str, str], unknown: Sequence[str]) -> str:
    """CEL: PDB `p` selects the pod template of a StatefulSet LWS creates: the labels of
    ``template`` (a CEL map) overridden by LWS's ``own`` (key -> CEL value) and ``unknown``."""

    def value(k: str) -> str:
        out = f"{template}[{k}]"
        for key, v in reversed(own.items()):
            out = f"{k} == {cel(key)} ? {v} : {out}"
        return f"({out})"

    return selects(lambda k: f"({k} in {cel(list(own))} || {k} in {template})", value, unknown)


LEADER_SELECTS = _lws_selects(
    "variables.leaderLabels",
    {SET_NAME: "object.metadata.name", WORKER_INDEX: "'0'"},
    [REVISION],
)
"""CEL: PDB `p` selects the pods of the leader StatefulSet."""
WORKER_SELECTS = _lws_selects(
    "variables.workerLabels",
    {SET_NAME: "object.metadata.name", GROUP_INDEX: "string(g)"},
    [GROUP_KEY, REVISION],
)
"""CEL: PDB `p` selects the pods of group `g`'s worker StatefulSet."""


def allows_disruption(replicas: str) -> str:
    """CEL: PDB `p` lets a StatefulSet of ``replicas`` pods lose one."""
    return (
        "(!has(p.spec.maxUnavailable) || !(string(p.spec.maxUnavailable) in ['0', '0%'])) && "
        "(!has(p.spec.minAvailable) || (type(p.spec.minAvailable) == string ? "
        f"p.spec.minAvailable != '100%' : p.spec.minAvailable < {replicas}))"
    )


ALLOWS_DISRUPTION = allows_disruption("variables.replicas")

LWS_PDB_HINT = (
    "'; create first a PodDisruptionBudget selecting leaderworkerset.sigs.k8s.io/name: ' + "
    "object.metadata.name + ' (a label LWS puts on every pod of it) with maxUnavailable: 1'"
)
"""CEL: the end of a LeaderWorkerSet's refusal, naming the PodDisruptionBudget to create."""


def _statefulset_variables() -> list[dict[str, str]]:
    return [
        variable("podLabels", "object.spec.template.metadata.?labels.orValue({})"),
        variable("replicas", "object.spec.?replicas.orValue(1)"),
        variable(
            "pdbs",
            "resource.List('policy/v1', 'poddisruptionbudgets', object.metadata.namespace)"
            ".?items.orValue([])",
        ),
        variable("selecting", f"variables.pdbs.filter(p, {SELECTS_POD})"),
    ]


def _lws_variables() -> list[dict[str, str]]:
    """The StatefulSets LWS creates of the LeaderWorkerSet: the leader's pod labels and
    replicas, the worker template's labels, the groups that get a worker StatefulSet."""
    return [
        variable("workerLabels", f"{LWT}.workerTemplate.?metadata.?labels.orValue({{}})"),
        variable(
            "leaderLabels",
            f"{LWT}.?leaderTemplate.hasValue() ? "
            f"{LWT}.leaderTemplate.?metadata.?labels.orValue({{}}) : variables.workerLabels",
        ),
        variable("groups", "int(object.spec.?replicas.orValue(1))"),
        variable("workers", f"int({LWT}.?size.orValue(1)) - 1"),
        variable("workerGroups", "variables.workers > 0 ? lists.range(variables.groups) : []"),
        variable("leaderSelecting", f"variables.pdbs.filter(p, {LEADER_SELECTS})"),
        variable(
            "groupsUnselected",
            f"variables.workerGroups.filter(g, !variables.pdbs.exists(p, {WORKER_SELECTS}))",
        ),
        variable(
            "groupsUndisruptable",
            f"variables.workerGroups.filter(g, !(g in variables.groupsUnselected) && "
            f"!variables.pdbs.exists(p, ({WORKER_SELECTS}) && "
            f"{allows_disruption('variables.workers')}))",
        ),
    ]


def _lws_validations() -> list[dict[str, str]]:
    unselected = (
        "(size(variables.leaderSelecting) == 0 ? 'the leader StatefulSet' : "
        "'the worker StatefulSet of group ' + string(variables.groupsUnselected[0]))"
    )
    leader_allows = f"variables.leaderSelecting.exists(p, {allows_disruption('variables.groups')})"
    leader_undisruptable = f"(size(variables.leaderSelecting) > 0 && !{leader_allows})"
    undisruptable = (
        f"({leader_undisruptable} ? 'the leader StatefulSet' : "
        "'the worker StatefulSet of group ' + string(variables.groupsUndisruptable[0]))"
    )
    return [
        validation(
            f"!({IS_LWS}) || "
            "(size(variables.leaderSelecting) > 0 && size(variables.groupsUnselected) == 0)",
            "A LeaderWorkerSet's StatefulSets need a PodDisruptionBudget selecting their pods; "
            "create it before the LeaderWorkerSet.",
            "'no PodDisruptionBudget in namespace ' + object.metadata.namespace + "
            f"' selects the pods of ' + {unselected} + ' of LeaderWorkerSet ' + "
            f"object.metadata.name + {LWS_PDB_HINT}",
        ),
        validation(
            f"!({IS_LWS}) || ((size(variables.leaderSelecting) == 0 || {leader_allows}) && "
            "size(variables.groupsUndisruptable) == 0)",
            "The PodDisruptionBudget of a LeaderWorkerSet's StatefulSets must allow at least one "
            "disruption of each (maxUnavailable > 0, or minAvailable below the leader "
            "StatefulSet's replicas and below size - 1 for the workers'), or drains block "
            "forever.",
            "'the PodDisruptionBudgets selecting the pods of ' + " + undisruptable + " + "
            "' of LeaderWorkerSet ' + object.metadata.name + ' allow none of its ' + "
            f"string({leader_undisruptable} ? variables.groups : variables.workers) + "
            "' pods to be disrupted, so drains would block forever' + "
            + LWS_PDB_HINT.replace("'; create first", "'; create instead"),
        ),
    ]


def build(settings: PolicySettings) -> dict[str, Any]:
    return validating_policy(
        NAME,
        settings,
        rule=RULE,
        title="StatefulSets have a PodDisruptionBudget",
        subject="StatefulSet, LeaderWorkerSet",
        description="Every StatefulSet is selected by a PodDisruptionBudget in its namespace "
        "that allows at least one disruption; a LeaderWorkerSet is refused at creation when "
        "the StatefulSets LWS would create of it would be.",
        resource_rules=[
            {
                "apiGroups": ["apps"],
                "apiVersions": ["v1"],
                "operations": ["CREATE", "UPDATE"],
                "resources": ["statefulsets"],
            },
            {
                "apiGroups": ["leaderworkerset.x-k8s.io"],
                "apiVersions": ["v1"],
                "operations": ["CREATE"],
                "resources": ["leaderworkersets"],
            },
        ],
        variables=[*_statefulset_variables(), *_lws_variables()],
        validations=[
            validation(
                f"!({IS_STATEFULSET}) || size(variables.selecting) > 0",
                "StatefulSets need a PodDisruptionBudget selecting their pods; create it first.",
                "'no PodDisruptionBudget in namespace ' + object.metadata.namespace + "
                "' selects the pods of StatefulSet ' + object.metadata.name",
            ),
            validation(
                f"!({IS_STATEFULSET}) || size(variables.selecting) == 0 || "
                f"variables.selecting.exists(p, {ALLOWS_DISRUPTION})",
                "The StatefulSet's PodDisruptionBudget must allow at least one disruption "
                "(maxUnavailable > 0 or minAvailable below replicas), or drains block forever.",
            ),
            *_lws_validations(),
        ],
    )
