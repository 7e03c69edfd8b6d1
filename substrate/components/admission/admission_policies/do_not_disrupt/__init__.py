"""R33: long-running training and agent pods carry `karpenter.sh/do-not-disrupt: "true"`, so
Karpenter's consolidation and drift never evict hours of training or a live agent session.

Recognised by the pod label `substrate.io/workload-class` (values from the stack's
`admission.longRunningClasses`); Kyverno's autogen applies the same rule to the pod templates of
Deployments, StatefulSets, Jobs and CronJobs, where the annotation belongs.
"""

from __future__ import annotations

from typing import Any

from substrate.components.admission.admission_policies._base import (
    PolicySettings,
    cel,
    validating_policy,
    validation,
    variable,
)
from substrate.components.core.labels import KARPENTER_DO_NOT_DISRUPT, WORKLOAD_CLASS_LABEL

NAME = "karpenter-do-not-disrupt"
RULE = "R33"


def build(settings: PolicySettings) -> dict[str, Any]:
    annotation = cel(KARPENTER_DO_NOT_DISRUPT)
    label = cel(WORKLOAD_CLASS_LABEL)
    return validating_policy(
        NAME,
        settings,
        rule=RULE,
        title="Long-running pods are protected from Karpenter disruption",
        subject="Pod",
        # Labels and annotations are a pod's mutable fields: removing the annotation from a
        # running training pod would expose it to consolidation.
        pod_update_changes="object.metadata.?annotations.orValue({}) != "
        "oldObject.metadata.?annotations.orValue({}) || "
        "object.metadata.?labels.orValue({}) != oldObject.metadata.?labels.orValue({})",
        description=f"Pods labelled {WORKLOAD_CLASS_LABEL} in "
        f"{', '.join(settings.long_running_classes)} carry the annotation "
        f'{KARPENTER_DO_NOT_DISRUPT}: "true".',
        variables=[
            variable("labels", "object.metadata.?labels.orValue({})"),
            variable(
                "workloadClass",
                f"{label} in variables.labels ? variables.labels[{label}] : ''",
            ),
            variable("annotations", "object.metadata.?annotations.orValue({})"),
        ],
        validations=[
            validation(
                f"!(variables.workloadClass in {cel(list(settings.long_running_classes))}) || "
                f"({annotation} in variables.annotations && "
                f"variables.annotations[{annotation}] == 'true')",
                f'Long-running pods need the annotation {KARPENTER_DO_NOT_DISRUPT}: "true".',
                f"{cel(WORKLOAD_CLASS_LABEL + '=')} + variables.workloadClass + "
                f"{cel(' pods need the annotation ' + KARPENTER_DO_NOT_DISRUPT + ': true')}",
            ),
        ],
    )
