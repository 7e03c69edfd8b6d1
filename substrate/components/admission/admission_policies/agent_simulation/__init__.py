"""R33: runs in the agent simulation namespace end and are cleaned up.

In the namespace `substrate:agentSimulation` names, a Job must bound its run
(`spec.activeDeadlineSeconds`, at most `maxRunSeconds`: the job controller then fails the Job and
deletes its pods) and clean up after it (`spec.ttlSecondsAfterFinished`, at most
`cleanupAfterSeconds`: the TTL controller deletes the finished Job with its pods), and every pod
must be a Job's pod: a bare pod, or a Deployment's or StatefulSet's, would run the agent's
simulation identity for ever. Without a simulation namespace the policy matches nothing.
"""

from __future__ import annotations

from typing import Any

from substrate.components.admission.admission_policies._base import (
    POD_RULE,
    PolicySettings,
    cel,
    validating_policy,
    validation,
)

NAME = "agent-simulation"
RULE = "R33"
JOB_RULE = {
    "apiGroups": ["batch"],
    "apiVersions": ["v1"],
    "operations": ["CREATE", "UPDATE"],
    "resources": ["jobs"],
}


def _bounded(field: str, most: int) -> str:
    """CEL: the Job sets ``field`` to at most ``most``."""
    return f"object.kind != 'Job' || (has(object.spec.{field}) && object.spec.{field} <= {most})"


def build(settings: PolicySettings) -> dict[str, Any]:
    sim = settings.simulation_namespace
    where = f"object.metadata.?namespace.orValue('') == {cel(sim)}" if sim else "false"
    run, cleanup = settings.simulation_max_run_seconds, settings.simulation_cleanup_seconds
    name = "object.metadata.?name.orValue('')"
    return validating_policy(
        NAME,
        settings,
        rule=RULE,
        title="Agent simulations end and are cleaned up",
        subject="Job, Pod",
        description="In the agent simulation namespace, Jobs set activeDeadlineSeconds and "
        "ttlSecondsAfterFinished within the stack's bounds, and pods run only as Jobs' pods.",
        resource_rules=[JOB_RULE, POD_RULE],
        autogen=False,
        match_conditions=[{"name": "in-the-simulation-namespace", "expression": where}],
        validations=[
            validation(
                _bounded("activeDeadlineSeconds", run),
                f"Simulation Jobs set spec.activeDeadlineSeconds of at most {run}.",
                f"'Job ' + {name} + ' sets no spec.activeDeadlineSeconds of at most {run}'",
            ),
            validation(
                _bounded("ttlSecondsAfterFinished", cleanup),
                f"Simulation Jobs set spec.ttlSecondsAfterFinished of at most {cleanup}.",
                f"'Job ' + {name} + ' sets no spec.ttlSecondsAfterFinished of at most {cleanup}'",
            ),
            validation(
                "object.kind != 'Pod' || object.metadata.?ownerReferences.orValue([])"
                ".exists(r, r.kind == 'Job' && r.apiVersion == 'batch/v1' && "
                "r.?controller.orValue(false))",
                "Pods in the simulation namespace run only as a Job's pods.",
                f"'Pod ' + {name} + ' is not a Job\\'s pod: simulations run as Jobs'",
            ),
        ],
    )
