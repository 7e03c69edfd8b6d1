"""Alerts on storage nobody uses but somebody pays for (pure data).

- a bound PersistentVolumeClaim no pod has referenced for `unused_claim_for` (StatefulSets keep
  their claims when scaled down or deleted, `persistentVolumeClaimRetentionPolicy: Retain`);
- a PersistentVolume in phase Released for `released_volume_for`: its claim was deleted and the
  class's `reclaimPolicy: Retain` kept the EBS volume, which nothing will ever bind again.

kube-state-metrics v2.20.0 (`docs/metrics/storage/persistentvolume{,claim}-metrics.md`,
`docs/metrics/workload/pod-metrics.md`): every series is reduced with `max by` over the object's
identity first, so two kube-state-metrics pods during a rollout count once.
"""

from dataclasses import dataclass
from typing import Any

from substrate.components.observability.rules_common import alert

CLAIM = "namespace, persistentvolumeclaim"


@dataclass(frozen=True)
class StorageAlertThresholds:
    """When unused storage alerts."""

    unused_claim_for: str = "7d"
    """`PersistentVolumeClaimWithoutPod`: a bound claim no pod referenced this long, a
    Prometheus duration ("7d")."""
    released_volume_for: str = "1d"
    """`PersistentVolumeReleased`: a volume Released this long, a Prometheus duration
    ("1d")."""


def storage_rules(t: StorageAlertThresholds) -> list[dict[str, Any]]:
    unused = (
        f"max by ({CLAIM}, storageclass) (kube_persistentvolumeclaim_info) "
        f"* on ({CLAIM}) group_left () "
        f"max by ({CLAIM}) (kube_persistentvolumeclaim_resource_requests_storage_bytes) "
        f"and on ({CLAIM}) (max by ({CLAIM}) "
        '(kube_persistentvolumeclaim_status_phase{phase="Bound"}) == 1) '
        f"unless on ({CLAIM}) max by ({CLAIM}) (kube_pod_spec_volumes_persistentvolumeclaims_info)"
    )
    released = (
        "max by (persistentvolume) (kube_persistentvolume_capacity_bytes) "
        "* on (persistentvolume) group_left (storageclass) "
        "max by (persistentvolume, storageclass) (kube_persistentvolume_info) "
        "and on (persistentvolume) (max by (persistentvolume) "
        '(kube_persistentvolume_status_phase{phase="Released"}) == 1)'
    )
    return [
        alert(
            "PersistentVolumeClaimWithoutPod",
            unused,
            t.unused_claim_for,
            "info",
            summary=(
                "Claim {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} "
                "({{ $value | humanize1024 }}B, {{ $labels.storageclass }}) has had no pod for "
                + t.unused_claim_for
            ),
            description=(
                "A bound volume no pod uses still costs its size (and provisioned IOPS). A "
                "StatefulSet scaled down keeps its claims for when it scales back up; if it will "
                "not, snapshot the volume if needed and delete the claim."
            ),
        ),
        alert(
            "PersistentVolumeReleased",
            released,
            t.released_volume_for,
            "info",
            summary=(
                "Volume {{ $labels.persistentvolume }} ({{ $value | humanize1024 }}B, "
                "{{ $labels.storageclass }}) has been Released and kept for "
                + t.released_volume_for
            ),
            description=(
                "Its claim was deleted and the StorageClass's reclaimPolicy Retain kept the EBS "
                "volume; Kubernetes never binds a Released volume again. Recover the data (or "
                "snapshot it), then delete the PersistentVolume and the EBS volume."
            ),
        ),
    ]
