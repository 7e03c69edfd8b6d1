"""R31: a StatefulSet needs a PodDisruptionBudget that selects its pods and allows at least one
voluntary disruption, so node drains (Karpenter consolidation, upgrades) never take down a
quorum at once nor block forever.

The PDB is another object, so the policy reads the namespace's PDBs with Kyverno's resource
library (`resource.List`). Create the PDB before the StatefulSet (Helm installs
PodDisruptionBudgets before StatefulSets); background scans re-check existing StatefulSets.
"""

from __future__ import annotations

from typing import Any

from substrate.components.admission.admission_policies._base import (
    PolicySettings,
    validating_policy,
    validation,
    variable,
)

NAME = "statefulset-pdb"
RULE = "R31"

SELECTS_POD = (
    "has(p.spec.selector) && "
    "p.spec.selector.?matchLabels.orValue({}).all(k, k in variables.podLabels && "
    "variables.podLabels[k] == p.spec.selector.matchLabels[k]) && "
    "p.spec.selector.?matchExpressions.orValue([]).all(e, "
    "e.operator == 'In' ? (e.key in variables.podLabels && variables.podLabels[e.key] in e.values)"
    " : e.operator == 'NotIn' ? !(e.key in variables.podLabels && "
    "variables.podLabels[e.key] in e.values)"
    " : e.operator == 'Exists' ? e.key in variables.podLabels"
    " : !(e.key in variables.podLabels))"
)
"""CEL: PDB `p`'s label selector selects the StatefulSet's pod template labels (a PDB without
a selector selects nothing in policy/v1)."""

ALLOWS_DISRUPTION = (
    "(!has(p.spec.maxUnavailable) || !(string(p.spec.maxUnavailable) in ['0', '0%'])) && "
    "(!has(p.spec.minAvailable) || (type(p.spec.minAvailable) == string ? "
    "p.spec.minAvailable != '100%' : p.spec.minAvailable < variables.replicas))"
)


def build(settings: PolicySettings) -> dict[str, Any]:
    return validating_policy(
        NAME,
        settings,
        rule=RULE,
        title="StatefulSets have a PodDisruptionBudget",
        subject="StatefulSet",
        description="Every StatefulSet is selected by a PodDisruptionBudget in its namespace "
        "that allows at least one disruption.",
        resource_rules=[
            {
                "apiGroups": ["apps"],
                "apiVersions": ["v1"],
                "operations": ["CREATE", "UPDATE"],
                "resources": ["statefulsets"],
            }
        ],
        variables=[
            variable("podLabels", "object.spec.template.metadata.?labels.orValue({})"),
            variable("replicas", "object.spec.?replicas.orValue(1)"),
            variable(
                "pdbs",
                "resource.List('policy/v1', 'poddisruptionbudgets', object.metadata.namespace)"
                ".?items.orValue([])",
            ),
            variable("selecting", f"variables.pdbs.filter(p, {SELECTS_POD})"),
        ],
        validations=[
            validation(
                "size(variables.selecting) > 0",
                "StatefulSets need a PodDisruptionBudget selecting their pods; create it first.",
                "'no PodDisruptionBudget in namespace ' + object.metadata.namespace + "
                "' selects the pods of StatefulSet ' + object.metadata.name",
            ),
            validation(
                f"size(variables.selecting) == 0 || "
                f"variables.selecting.exists(p, {ALLOWS_DISRUPTION})",
                "The StatefulSet's PodDisruptionBudget must allow at least one disruption "
                "(maxUnavailable > 0 or minAvailable below replicas), or drains block forever.",
            ),
        ],
    )
