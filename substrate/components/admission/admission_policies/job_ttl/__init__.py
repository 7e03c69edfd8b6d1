"""R33: Jobs clean up after themselves: `ttlSecondsAfterFinished` is set, so finished training
and batch Jobs (and their pods' GPU reservations in Kueue's accounting) do not pile up
(Kyverno best-practices add-ttl-jobs, written as a validation).

Jobs owned by a controller (CronJob, JobSet, Kueue-managed RayJob, ...) are left to their
owner's retention settings.
"""

from __future__ import annotations

from typing import Any

from substrate.components.admission.admission_policies._base import (
    PolicySettings,
    validating_policy,
    validation,
)

NAME = "job-ttl"
RULE = "R33"


def build(settings: PolicySettings) -> dict[str, Any]:
    return validating_policy(
        NAME,
        settings,
        rule=RULE,
        title="Jobs set ttlSecondsAfterFinished",
        subject="Job",
        description="Jobs not owned by another controller set spec.ttlSecondsAfterFinished.",
        resource_rules=[
            {
                "apiGroups": ["batch"],
                "apiVersions": ["v1"],
                "operations": ["CREATE", "UPDATE"],
                "resources": ["jobs"],
            }
        ],
        validations=[
            validation(
                "size(object.metadata.?ownerReferences.orValue([])) > 0 || "
                "has(object.spec.ttlSecondsAfterFinished)",
                "Jobs set spec.ttlSecondsAfterFinished so finished Jobs are cleaned up.",
                "'Job ' + object.metadata.?name.orValue('') + ' sets no "
                "spec.ttlSecondsAfterFinished'",
            ),
        ],
    )
