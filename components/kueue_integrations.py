"""Kueue job integrations and the operators they need. Pure data.

Framework names are Kueue v0.19.2's (`apis/config/v1beta2/configuration_types.go`,
`Integrations.Frameworks`). `deployment`, `statefulset` and `leaderworkerset` enable the `pod`
integration implicitly (their controllers set `ImplicitlyEnabledFrameworkNames: [pod]`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Operator:
    """A workload operator Substrate installs for a Kueue integration."""

    chart: str
    """Key in components.versions.CHARTS."""
    namespace: str
    """Namespace of its release (a platform namespace, excluded from admission)."""
    title: str


JOBSET = Operator("jobset", "jobset-system", "JobSet")
LWS = Operator("lws", "lws-system", "LeaderWorkerSet")
KUBERAY = Operator("kuberay-operator", "kuberay-system", "KubeRay")
OPERATORS: tuple[Operator, ...] = (JOBSET, KUBERAY, LWS)

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
    "sparkoperator.k8s.io/sparkapplication": "the Spark Operator",
}
"""Kueue integrations whose operator Substrate does not install: refused at config time."""


def operators_for(integrations: list[str] | tuple[str, ...]) -> tuple[Operator, ...]:
    """The operators the enabled integrations need, each once, in OPERATORS order."""
    needed = {SUPPORTED[i] for i in integrations if SUPPORTED.get(i) is not None}
    return tuple(op for op in OPERATORS if op in needed)
