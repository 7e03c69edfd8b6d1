"""All policies of the `substrate` pack: one module per posture rule (rNN_, ids from rules.md)
or Substrate platform rule (pNN_, documented in docs/policies.md)."""

from __future__ import annotations

from pulumi_policy import Policy

from . import (
    p01_dcgm_exporter_for_gpu_pools,
    p02_spire_trust_domain,
    p03_gpu_quota_within_pool_limits,
    r01_control_plane_logs,
    r02_private_endpoint,
    r03_public_endpoint,
    r04_secrets_encryption,
    r05_kms_key_rotation,
    r06_supported_version,
    r07_api_authentication,
    r08_no_creator_admin,
    r09_imdsv2_required,
    r10_imds_hop_limit,
    r13_encrypted_volumes,
    r14_pinned_ami,
    r15_nodepool_limits,
    r16_disruption_budgets,
    r16_interruption_queue,
    r17_gpu_pools,
    r27_pod_security_labels,
    r28_tenant_quota,
    r30_default_deny,
    r32_gpu_quota,
    r34_admission_enforce,
    r34_webhook_scope,
)

MODULES = (
    r01_control_plane_logs,
    r02_private_endpoint,
    r03_public_endpoint,
    r04_secrets_encryption,
    r05_kms_key_rotation,
    r06_supported_version,
    r07_api_authentication,
    r08_no_creator_admin,
    r09_imdsv2_required,
    r10_imds_hop_limit,
    r13_encrypted_volumes,
    r34_webhook_scope,
    r34_admission_enforce,
    p01_dcgm_exporter_for_gpu_pools,
    p02_spire_trust_domain,
    r14_pinned_ami,
    r15_nodepool_limits,
    r16_disruption_budgets,
    r16_interruption_queue,
    r17_gpu_pools,
    r27_pod_security_labels,
    r28_tenant_quota,
    r30_default_deny,
    r32_gpu_quota,
    p03_gpu_quota_within_pool_limits,
)

POLICIES: list[Policy] = [m.POLICY for m in MODULES]
