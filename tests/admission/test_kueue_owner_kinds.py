"""kueue-owner-references covers the owner kind of every Kueue integration Substrate knows of
(enabled or refused at config time): Kueue's pod webhook follows a pod's controller through
each of them, so an integration added without its kind would reopen the bypass."""

from __future__ import annotations

from substrate.components.admission.admission_policies.kueue_owner_references import (
    KUEUE_OWNER_KINDS,
)
from substrate.components.workloads.kueue_integrations import SUPPORTED, UNSHIPPED

BUILT_IN = {
    "pod": ("", "pod"),
    "deployment": ("apps", "deployment"),
    "statefulset": ("apps", "statefulset"),
    "batch/job": ("batch", "job"),
}
"""Kueue's framework names that do not spell `<group>/<kind>`."""


def test_every_integrations_kind_is_an_owner_kueue_follows() -> None:
    covered = {(group, kind.lower()) for group, kind in KUEUE_OWNER_KINDS}
    names = sorted({*SUPPORTED, *UNSHIPPED})
    wanted = {n: BUILT_IN.get(n) or tuple(n.rsplit("/", 1)) for n in names}
    assert {n: k for n, k in wanted.items() if k not in covered} == {}
