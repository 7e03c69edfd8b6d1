"""Kueue job integrations and the operators they need. Pure data.

Framework names are Kueue v0.19.2's (`apis/config/v1beta2/configuration_types.go`,
`Integrations.Frameworks`). `deployment`, `statefulset` and `leaderworkerset` enable the `pod`
integration implicitly (their controllers set `ImplicitlyEnabledFrameworkNames: [pod]`).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Operator:
    """A workload operator Substrate installs for a Kueue integration."""

    chart: str
    """Key in substrate.components.core.versions.CHARTS."""
    namespace: str
    """Namespace of its release (a platform namespace, excluded from admission)."""
    title: str
    """The workload kind's name for people (the component's `operator` output)."""


JOBSET = Operator("jobset", "jobset-system", "JobSet")
LWS = Operator("lws", "lws-system", "LeaderWorkerSet")
KUBERAY = Operator("kuberay-operator", "kuberay-system", "KubeRay")
OPERATORS: tuple[Operator, ...] = (JOBSET, KUBERAY, LWS)
"""Operators installed as a plain WorkloadOperator for their integration."""
SPARK = Operator("spark-operator", "spark-operator", "the Kubeflow Spark Operator")
"""Installed by substrate.components.workloads.spark_operator (per-tenant service accounts and S3
roles), when
`substrate:workloads.spark` is set."""
SPARK_INTEGRATION = "sparkoperator.k8s.io/sparkapplication"

SUPPORTED: dict[str, Operator | None] = {
    "batch/job": None,
    "pod": None,
    "deployment": None,
    "statefulset": None,
    "jobset.x-k8s.io/jobset": JOBSET,
    "leaderworkerset.x-k8s.io/leaderworkerset": LWS,
    "ray.io/rayjob": KUBERAY,
    "ray.io/raycluster": KUBERAY,
    "ray.io/rayservice": KUBERAY,
    SPARK_INTEGRATION: SPARK,
}
"""Integrations Substrate enables, with the operator it installs for each (None: built in)."""

UNSHIPPED: dict[str, str] = {
    "kubeflow.org/mpijob": "the Kubeflow MPI Operator",
    "kubeflow.org/paddlejob": "the Kubeflow Training Operator",
    "kubeflow.org/pytorchjob": "the Kubeflow Training Operator",
    "kubeflow.org/tfjob": "the Kubeflow Training Operator",
    "kubeflow.org/xgboostjob": "the Kubeflow Training Operator",
    "kubeflow.org/jaxjob": "the Kubeflow Training Operator",
    "trainer.kubeflow.org/trainjob": "Kubeflow Trainer",
    "workload.codeflare.dev/appwrapper": "the AppWrapper controller",
}
"""Kueue integrations whose operator Substrate does not install: refused at config time."""


IMPLIES: dict[str, str] = {
    "deployment": "pod",
    "statefulset": "pod",
    "leaderworkerset.x-k8s.io/leaderworkerset": "pod",
}
"""Integrations Kueue v0.19.2 enables implicitly with another (`ImplicitlyEnabledFrameworkNames`
of the deployment, statefulset and leaderworkerset integrations)."""

KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pod": ("", ("pods",)),
    "deployment": ("apps", ("deployments", "deployments/scale")),
    "statefulset": ("apps", ("statefulsets", "statefulsets/scale")),
    "batch/job": ("batch", ("jobs", "cronjobs")),
    "jobset.x-k8s.io/jobset": ("jobset.x-k8s.io", ("jobsets",)),
    "leaderworkerset.x-k8s.io/leaderworkerset": ("leaderworkerset.x-k8s.io", ("leaderworkersets",)),
    "ray.io/rayjob": ("ray.io", ("rayjobs",)),
    "ray.io/raycluster": ("ray.io", ("rayclusters",)),
    "ray.io/rayservice": ("ray.io", ("rayservices",)),
    SPARK_INTEGRATION: ("sparkoperator.k8s.io", ("sparkapplications",)),
}
"""Integration -> (API group, resources) of the workloads it queues: what tenants may create
when the integration is on (a CronJob's Jobs go through the batch/job integration)."""


FEATURE_GATES: dict[str, str] = {SPARK_INTEGRATION: "SparkApplicationIntegration"}
"""Integrations behind a Kueue v0.19.2 feature gate (alpha, off by default:
`pkg/features/kube_features.go`), with the gate the Configuration turns on for them."""


def effective(integrations: list[str] | tuple[str, ...]) -> frozenset[str]:
    """The integrations Kueue runs: the enabled ones and those they enable implicitly."""
    return frozenset(integrations) | {IMPLIES[i] for i in integrations if i in IMPLIES}


def operators_for(integrations: list[str] | tuple[str, ...]) -> tuple[Operator, ...]:
    """The operators the enabled integrations need, each once, in OPERATORS order."""
    needed = {SUPPORTED[i] for i in integrations if SUPPORTED.get(i) is not None}  # not SPARK
    return tuple(op for op in OPERATORS if op in needed)
