"""``substrate:kueue``: the Kueue controller, its job integrations, all-or-nothing admission,
fair sharing and the priority tiers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Literal

from substrate.components.core import validators
from substrate.components.workloads.kueue_integrations import (
    SPARK_INTEGRATION,
    SUPPORTED,
    UNSHIPPED,
)
from substrate.components.workloads.tenancy import DEFAULT_COHORT, DEFAULT_TIERS
from substrate.config.checks import between, non_empty, rule, unique
from substrate.config.schema import ConfigError, Invalid, doc

Duration = Annotated[str, rule(validators.duration)]
Name = Annotated[str, rule(validators.dns_label, 63)]
Strategy = Literal["LessThanOrEqualToFinalShare", "LessThanInitialShare"]
# Kueue v0.19.2 pkg/config/validation.go validStrategySets.
STRATEGY_SETS = (
    ["LessThanOrEqualToFinalShare"],
    ["LessThanInitialShare"],
    ["LessThanOrEqualToFinalShare", "LessThanInitialShare"],
)


def _tiers(value: dict[str, int]) -> None:
    for name, priority in value.items():
        if validators.dns_label(name, 63) is not None:
            raise Invalid(
                f"names {name!r}, which is not a valid object name",
                "lowercase letters, digits and '-'",
            )
        if not -(10**9) <= priority <= 10**9:
            raise Invalid(f"gives {name!r} priority {priority}", "-1000000000 to 1000000000")
    if len(set(value.values())) != len(value):
        raise Invalid("gives two tiers the same priority", "a distinct value per tier")


@dataclass(frozen=True)
class WaitForPodsReadyConfig:
    """All-or-nothing admission: an admitted workload whose pods are not all ready within the
    timeout is evicted and requeued with backoff (Kueue `waitForPodsReady`)."""

    timeout: Duration = doc(
        "How long an admitted workload may take until all its pods run and are ready "
        "(includes Karpenter launching GPU nodes).",
        default="15m",
    )
    recovery_timeout: Duration | None = doc(
        "How long a running workload may wait for a replacement pod before it is evicted "
        "(null: the same as timeout).",
        default=None,
    )
    block_admission: bool = doc(
        "Admit one workload at a time until its pods are ready (prevents two gangs from "
        "deadlocking on partial capacity, at the cost of throughput).",
        default=False,
    )
    backoff_limit_count: Annotated[int, between(0, 1000)] | None = doc(
        "Requeues after a timeout before the workload is deactivated (null: forever).",
        default=5,
    )
    backoff_base_seconds: Annotated[int, between(1, 3600)] = doc(
        "First requeue delay; doubles after each timeout.", default=60
    )
    backoff_max_seconds: Annotated[int, between(1, 86400)] = doc(
        "Longest requeue delay.", default=3600
    )


@dataclass(frozen=True)
class KueueConfig:
    """Kueue on the system nodes. Tenants' ClusterQueues share one cohort; ResourceFlavors map
    one-to-one onto the Karpenter GPU pools."""

    namespace: Name = doc("Namespace of the Kueue release.", default="kueue-system")
    replicas: Annotated[int, between(1, 5)] = doc(
        "Controller-manager replicas (leader-elected; every replica serves the webhooks; a "
        "PodDisruptionBudget when more than one).",
        default=2,
    )
    operator_replicas: Annotated[int, between(1, 5)] = doc(
        "Replicas of each workload operator the integrations install (JobSet, LWS, KubeRay).",
        default=1,
    )
    cohort: Name = doc("Cohort every tenant ClusterQueue joins.", default=DEFAULT_COHORT)
    integrations: Annotated[list[str], non_empty("integration"), unique] = doc(
        "Kueue job integrations: `batch/job`, `pod`, `deployment`, `statefulset`, "
        "`jobset.x-k8s.io/jobset`, `leaderworkerset.x-k8s.io/leaderworkerset`, "
        "`ray.io/rayjob`, `ray.io/raycluster`, `ray.io/rayservice` (the Spark integration "
        "`sparkoperator.k8s.io/sparkapplication` comes with `substrate:workloads.spark`). "
        "Substrate installs the "
        "operator an integration needs (JobSet, LeaderWorkerSet, KubeRay); integrations of "
        "operators it does not ship (Kubeflow, AppWrapper) are refused, and so is "
        "`statefulset` in a stack with agents (Kueue would refuse to resize them). Tenants may "
        "create only the workload kinds these integrations queue.",
        factory=lambda: ["batch/job", "jobset.x-k8s.io/jobset", "pod"],
    )
    wait_for_pods_ready: WaitForPodsReadyConfig = doc(
        "All-or-nothing admission for multi-pod jobs.", factory=WaitForPodsReadyConfig
    )
    fair_sharing: bool = doc(
        "Preemption-based fair sharing across the cohort, weighted by each tenant's "
        "`fairShareWeight`.",
        default=True,
    )
    preemption_strategies: list[Strategy] = doc(
        "Fair-sharing preemption strategies, tried in order.",
        factory=lambda: ["LessThanOrEqualToFinalShare", "LessThanInitialShare"],
    )
    priority_classes: Annotated[dict[str, int], non_empty("priority class"), _tiers] = doc(
        "WorkloadPriorityClass name -> value: the priority tiers jobs select with the "
        "`kueue.x-k8s.io/priority-class` label and tenants are assigned (`tier`).",
        factory=lambda: dict(DEFAULT_TIERS),
    )

    def check(self, path: str) -> None:
        for i, name in enumerate(self.integrations):
            where = f"{path}.integrations[{i}]"
            if name == SPARK_INTEGRATION:  # substrate:workloads.spark installs its operator
                continue
            if name in UNSHIPPED:
                raise ConfigError(
                    where,
                    name,
                    f"needs {UNSHIPPED[name]}, which Substrate does not install",
                    "integrations Substrate installs the operator for: "
                    + ", ".join(sorted(SUPPORTED)),
                )
            if name not in SUPPORTED:
                raise ConfigError(
                    where,
                    name,
                    "is not a Kueue v0.19.2 job integration",
                    ", ".join(sorted(SUPPORTED)),
                )
        if self.fair_sharing and list(self.preemption_strategies) not in STRATEGY_SETS:
            raise ConfigError(
                f"{path}.preemptionStrategies",
                self.preemption_strategies,
                "is not a strategy list Kueue accepts",
                " or ".join(json.dumps(s) for s in STRATEGY_SETS),
            )
        ready = self.wait_for_pods_ready
        if ready.backoff_max_seconds < ready.backoff_base_seconds:
            raise ConfigError(
                f"{path}.waitForPodsReady.backoffMaxSeconds",
                ready.backoff_max_seconds,
                f"is below backoffBaseSeconds ({ready.backoff_base_seconds})",
                "at least backoffBaseSeconds",
            )
