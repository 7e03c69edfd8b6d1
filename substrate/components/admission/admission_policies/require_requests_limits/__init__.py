"""R28: every container requests CPU and memory and sets a memory limit; limits other than CPU
equal their requests (a container without them starves its neighbours or gets OOM-killed at
random, and Kueue/ResourceQuota accounting needs requests).

Pods only (no autogen): the API server's LimitRanger fills a pod's missing requests and limits
from its namespace's LimitRange before any webhook sees the pod, but never touches a
controller's pod template. A Deployment that leaves sizing to the tenant's LimitRange is valid;
the pods it creates are judged once defaulted.
"""

from __future__ import annotations

from typing import Any

from substrate.components.admission.admission_policies._base import (
    CONTAINERS,
    PolicySettings,
    validating_policy,
    validation,
    variable,
)

NAME = "require-requests-limits"
RULE = "R28"


def build(settings: PolicySettings) -> dict[str, Any]:
    return validating_policy(
        NAME,
        settings,
        rule=RULE,
        title="Require CPU/memory requests and memory limits",
        subject="Pod",
        autogen=False,
        description="Containers and init containers request CPU and memory and limit memory; "
        "every limit except CPU equals its request when both are set.",
        variables=[
            variable("containers", CONTAINERS),
            variable(
                "unsized",
                "variables.containers.filter(c, !('cpu' in c.?resources.?requests.orValue({})) "
                "|| !('memory' in c.?resources.?requests.orValue({})) "
                "|| !('memory' in c.?resources.?limits.orValue({})))",
            ),
            variable(
                "unequal",
                "variables.containers.filter(c, c.?resources.?limits.orValue({}).exists(r, "
                "r != 'cpu' && r in c.?resources.?requests.orValue({}) && "
                "string(c.resources.requests[r]) != string(c.resources.limits[r])))",
            ),
        ],
        validations=[
            validation(
                "size(variables.unsized) == 0",
                "Every container needs resources.requests.cpu, resources.requests.memory and "
                "resources.limits.memory.",
                "'containers without CPU/memory requests or a memory limit: ' + "
                "variables.unsized.map(c, c.name).join(', ')",
            ),
            validation(
                "size(variables.unequal) == 0",
                "Limits other than CPU must equal their requests.",
                "'containers whose non-CPU limits differ from their requests: ' + "
                "variables.unequal.map(c, c.name).join(', ')",
            ),
        ],
    )
