"""Substrate's Kyverno admission policies: one module per policy, each with its fixtures
(`<module>.fixtures.yaml`: good and bad manifests with the expected verdict) next to it.

Pure data: builders return plain manifests; `components.admission_policy_set` declares them.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from components.admission_policies import (
    do_not_disrupt,
    gpu_placement,
    gpu_queue_label,
    job_ttl,
    no_static_aws_credentials,
    pod_security_restricted,
    require_requests_limits,
    restrict_images,
    service_account_token,
    statefulset_pdb,
)
from components.admission_policies._base import API_VERSION, KIND, PolicySettings

MODULES: tuple[ModuleType, ...] = (
    pod_security_restricted,
    require_requests_limits,
    restrict_images,
    gpu_placement,
    gpu_queue_label,
    do_not_disrupt,
    statefulset_pdb,
    no_static_aws_credentials,
    service_account_token,
    job_ttl,
)


def render(settings: PolicySettings) -> list[dict[str, Any]]:
    """Every policy manifest for these settings, in MODULES order."""
    return [m.build(settings) for m in MODULES]


__all__ = ["API_VERSION", "KIND", "MODULES", "PolicySettings", "render"]
