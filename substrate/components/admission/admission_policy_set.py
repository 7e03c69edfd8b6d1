"""The Substrate admission-policy set: one Kyverno ValidatingPolicy per rule.

The manifests come from :mod:`substrate.components.admission.admission_policies` (pure builders
with fixtures next
to them); this component declares them as custom resources of the served
`policies.kyverno.io/v1` API (Kyverno 1.19 serves v1, v1beta1 and the deprecated v1alpha1; v1
is the non-deprecated, GA version). Pass `depends_on` the Kyverno release that installs the
CRDs.
"""

from collections.abc import Sequence
from typing import Any, NotRequired, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from substrate.components.admission.admission_policies import (
    API_VERSION,
    KIND,
    PolicySettings,
    render,
)
from substrate.components.core import validators
from substrate.components.core._args import check_args
from substrate.components.core.tokens import component_args

VALIDATION_ACTIONS = ({"Deny"}, {"Audit"}, {"Audit", "Warn"}, {"Warn"}, {"Deny", "Audit"})


class SimulationLimits(TypedDict):
    """The agent simulation namespace and the bounds its Jobs must declare."""

    namespace: str
    """The simulation namespace."""
    max_run_seconds: int
    """Most `activeDeadlineSeconds` a Job there may declare."""
    cleanup_seconds: int
    """Most `ttlSecondsAfterFinished` a Job there may declare."""


class AdmissionPolicySetArgs(TypedDict, total=False):
    """Arguments of :class:`AdmissionPolicySet`."""

    validation_actions: Required[Sequence[str]]
    """`["Deny"]` to enforce, `["Audit", "Warn"]` to report only (Deny and Warn never together)."""
    failure_policy: NotRequired[str]
    """`Fail` (default: reject when Kyverno cannot answer) or `Ignore`."""
    excluded_namespaces: Required[Sequence[str]]
    """Namespaces no policy applies to (must include kube-system, kube-node-lease, kube-public)."""
    pod_security_exempt_namespaces: NotRequired[Sequence[str]]
    """Namespaces exempt from the restricted Pod Security policy only (R27)."""
    allowed_registries: Required[Sequence[str]]
    """Image prefixes tenants may pull from (R28)."""
    long_running_classes: NotRequired[Sequence[str]]
    """`substrate.io/workload-class` values that need karpenter.sh/do-not-disrupt (R33)."""
    agents: NotRequired[Sequence[str]]
    """`<namespace>/<agent>` of every agent (agent-isolation, R20)."""
    agent_memory_cap: NotRequired[str | None]
    """Largest agent memory claim, a Kubernetes quantity (agent-isolation)."""
    simulation: NotRequired[SimulationLimits | None]
    """The agent simulation namespace and its Jobs' bounds (agent-simulation); none: no such
    namespace."""


def _settings(args: AdmissionPolicySetArgs) -> PolicySettings:
    actions = list(args["validation_actions"])
    if set(actions) not in VALIDATION_ACTIONS or len(set(actions)) != len(actions):
        raise ValueError(
            f"AdmissionPolicySetArgs.validation_actions: {actions} is not a valid set "
            "(Deny, Audit, Warn; never Deny with Warn)"
        )
    failure = args.get("failure_policy", "Fail")
    if failure not in ("Fail", "Ignore"):
        raise ValueError(f"AdmissionPolicySetArgs.failure_policy: {failure!r} is not Fail/Ignore")
    missing = {"kube-system", "kube-node-lease", "kube-public"} - set(args["excluded_namespaces"])
    if missing:
        raise ValueError(
            f"AdmissionPolicySetArgs.excluded_namespaces: {sorted(missing)} missing "
            "(system namespaces are always excluded, R34)"
        )
    registries = list(args["allowed_registries"])
    if not registries:
        raise ValueError("AdmissionPolicySetArgs.allowed_registries: [] is empty")
    for prefix in registries:
        problem = validators.image_registry(prefix)
        if problem is not None:
            raise ValueError(f"AdmissionPolicySetArgs.allowed_registries: {prefix!r} {problem}")
    return PolicySettings(
        validation_actions=tuple(actions),
        failure_policy=failure,
        excluded_namespaces=tuple(args["excluded_namespaces"]),
        pod_security_exempt_namespaces=tuple(args.get("pod_security_exempt_namespaces", ())),
        allowed_registries=tuple(registries),
        long_running_classes=tuple(args.get("long_running_classes", ("training", "agent"))),
        agents=tuple(sorted(args.get("agents", ()))),
        agent_memory_cap=args.get("agent_memory_cap"),
        **_simulation(args.get("simulation")),
    )


def _simulation(sim: SimulationLimits | None) -> dict[str, Any]:
    if sim is None:
        return {}
    return {
        "simulation_namespace": sim["namespace"],
        "simulation_max_run_seconds": sim["max_run_seconds"],
        "simulation_cleanup_seconds": sim["cleanup_seconds"],
    }


class AdmissionPolicySet(pulumi.ComponentResource):
    """Substrate's ValidatingPolicies, rendered from typed settings."""

    policy_names: list[str]

    def __init__(
        self, name: str, args: AdmissionPolicySetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        settings = _settings(args)
        super().__init__(*component_args("substrate:admission:AdmissionPolicySet", name, opts))
        # Each CR waits for whatever the set waits for (the release that installs the CRDs).
        after = opts.depends_on if opts is not None else None
        self.policy_names = []
        for manifest in render(settings):
            policy_name = manifest["metadata"]["name"]
            k8s.apiextensions.CustomResource(
                f"{name}-{policy_name.removeprefix('substrate-')}",
                api_version=API_VERSION,
                kind=KIND,
                metadata=manifest["metadata"],
                spec=manifest["spec"],
                opts=pulumi.ResourceOptions(parent=self, depends_on=after),
            )
            self.policy_names.append(policy_name)
        self.register_outputs(
            {
                "policies": self.policy_names,
                "validationActions": list(settings.validation_actions),
            }
        )
