"""Admission layer: Kyverno and the Substrate ValidatingPolicies (R27-R34).

Maps `substrate:admission` to the Kyverno add-on and the policy set. Environment differences
(Audit or Enforce, replicas) are values in the stack files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from substrate.components.admission.admission_policy_set import AdmissionPolicySet
from substrate.components.admission.kyverno import Kyverno
from substrate.config import PlatformConfig
from substrate.config.agent_checks import agent_namespace
from substrate.layers.foundation import Foundation


@dataclass(frozen=True)
class Admission:
    kyverno: Kyverno
    policies: AdmissionPolicySet
    excluded_namespaces: tuple[str, ...]
    """Namespaces no webhook or policy sees (system, Kyverno's, platform controllers)."""


def build(
    cfg: PlatformConfig, foundation: Foundation, platform_namespaces: Sequence[str] = ()
) -> Admission:
    """``platform_namespaces``: every namespace the other layers' add-ons create; Kyverno's
    webhooks and policies stay out of them (with the configured extras)."""
    adm = cfg.admission
    kyverno = Kyverno(
        "kyverno",
        {
            "cluster_name": foundation.cluster.cluster_name,
            "namespace": adm.namespace,
            "admission_replicas": adm.admission_replicas,
            "controller_replicas": adm.controller_replicas,
            "webhook_timeout_seconds": adm.webhook_timeout_seconds,
            "image_cache": foundation.image_cache,
            "excluded_namespaces": sorted(set(adm.excluded_namespaces) | set(platform_namespaces)),
            "tags": foundation.tags,
        },
        opts=pulumi.ResourceOptions.merge(
            foundation.kubernetes,
            pulumi.ResourceOptions(depends_on=[foundation.core_addons]),
        ),
    )
    policies = AdmissionPolicySet(
        "admission-policies",
        {
            "validation_actions": adm.validation_actions,
            "failure_policy": adm.failure_policy,
            "excluded_namespaces": kyverno.excluded_namespaces,
            "pod_security_exempt_namespaces": list(adm.pod_security_exempt_namespaces),
            "allowed_registries": list(adm.allowed_registries),
            "long_running_classes": list(adm.long_running_classes),
            "agents": [f"{agent_namespace(cfg, a)}/{n}" for n, a in sorted(cfg.agents.items())],
            "agent_memory_cap": cfg.storage.max_agent_memory_volume,
            "simulation": (
                {
                    "namespace": sim.namespace,
                    "max_run_seconds": sim.max_run_seconds,
                    "cleanup_seconds": sim.cleanup_after_seconds,
                }
                if (sim := cfg.agent_simulation)
                else None
            ),
        },
        opts=pulumi.ResourceOptions.merge(
            foundation.kubernetes, pulumi.ResourceOptions(depends_on=[kyverno.release])
        ),
    )
    return Admission(kyverno, policies, tuple(kyverno.excluded_namespaces))
