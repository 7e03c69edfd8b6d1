"""R28 (quota accounting): a SparkApplication runs the executors Kueue admitted, no more, and in
cluster mode. Kueue v0.19.2's SparkApplication integration admits the driver and
`spec.executor.instances` executors as one Workload, and its webhook refuses
`spec.dynamicAllocation.enabled` and `spec.mode: client`; it never reads `spec.sparkConf`,
which the operator (v2.5.1, `submission.go`) passes to spark-submit as `--conf` entries. So in
`sparkConf`:

- `spark.dynamicAllocation.enabled` other than "false": the driver would add executors beyond
  the admitted ones (the operator's `--conf spark.dynamicAllocation.enabled=true` comes only
  from `spec.dynamicAllocation`, nothing overrides the sparkConf entry);
- `spark.submit.deployMode` other than "cluster": `spec.mode` is what Kueue checks;
- `spark.executor.instances`: Kueue counts `spec.executor.instances` (0 executors when unset),
  and the operator sets this property from `spec.executor.instances` only when that is set.

`spark.dynamicAllocation.shuffleTracking.enabled` alone starts no executors (it only lets
dynamic allocation release executors without an external shuffle service) and is left alone.
Judged on SparkApplications and on the template of ScheduledSparkApplications (whose
SparkApplications the operator creates later, where a refusal would reach nobody).
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

NAME = "spark-fixed-executors"
RULE = "R28"
DYNAMIC = "spark.dynamicAllocation.enabled"
DEPLOY_MODE = "spark.submit.deployMode"
INSTANCES = "spark.executor.instances"

RESOURCE_RULES = (
    {
        "apiGroups": ["sparkoperator.k8s.io"],
        "apiVersions": ["v1beta2"],
        "operations": ["CREATE", "UPDATE"],
        "resources": ["sparkapplications", "scheduledsparkapplications"],
    },
)
CONF = (
    "object.kind == 'ScheduledSparkApplication' ? "
    "object.spec.template.?sparkConf.orValue({}) : object.spec.?sparkConf.orValue({})"
)
"""CEL: the sparkConf map of the submitted object."""
WHAT = "object.kind + ' ' + object.metadata.?name.orValue('')"


def _normalised(key: str) -> str:
    """CEL: the sparkConf value of ``key``, trimmed and lower-cased (Spark parses booleans
    case-insensitively after trimming)."""
    return f"variables.conf[{cel(key)}].trim().lowerAscii()"


def build(settings: PolicySettings) -> dict[str, Any]:
    return validating_policy(
        NAME,
        settings,
        rule=RULE,
        title="SparkApplications run the executors Kueue admitted",
        subject="SparkApplication, ScheduledSparkApplication",
        description="sparkConf does not enable dynamic allocation, client mode or an executor "
        "count: Kueue counts spec.executor.instances and checks spec.dynamicAllocation and "
        "spec.mode only.",
        resource_rules=RESOURCE_RULES,
        variables=[variable("conf", CONF)],
        validations=[
            validation(
                f"!({cel(DYNAMIC)} in variables.conf) || {_normalised(DYNAMIC)} == 'false'",
                f"sparkConf must not enable {DYNAMIC}: Kueue admits the driver and "
                "spec.executor.instances executors as one Workload and cannot account "
                "executors that come and go.",
                f"{WHAT} + ' sets {DYNAMIC} in sparkConf: Kueue admits the driver and "
                "spec.executor.instances executors as one Workload and cannot account executors "
                "that come and go; size the job with spec.executor.instances'",
            ),
            validation(
                f"!({cel(DEPLOY_MODE)} in variables.conf) || "
                f"{_normalised(DEPLOY_MODE)} == 'cluster'",
                f"sparkConf must not set {DEPLOY_MODE} to client: Kueue queues only cluster "
                "mode (spec.mode), where the driver runs as a pod it counts.",
                f"{WHAT} + ' sets {DEPLOY_MODE} to a mode other than cluster in sparkConf: Kueue "
                "queues only cluster mode (spec.mode), where the driver runs as a pod it counts'",
            ),
            validation(
                f"!({cel(INSTANCES)} in variables.conf)",
                f"sparkConf must not set {INSTANCES}: Kueue counts spec.executor.instances.",
                f"{WHAT} + ' sets {INSTANCES} in sparkConf: Kueue counts spec.executor.instances, "
                "set the executor count there'",
            ),
        ],
    )
