"""The CRD validation helper itself: it must accept valid objects and reject invalid ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.crds import schema_for, validation_errors

NODEPOOL = {
    "apiVersion": "karpenter.sh/v1",
    "kind": "NodePool",
    "metadata": {"name": "general"},
    "spec": {
        "template": {
            "spec": {
                "nodeClassRef": {
                    "group": "karpenter.k8s.aws",
                    "kind": "EC2NodeClass",
                    "name": "default",
                },
                "requirements": [
                    {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]}
                ],
            }
        }
    },
}


def test_valid_nodepool_passes(crds: Path) -> None:
    assert validation_errors(crds, NODEPOOL) == []


def test_unknown_field_type_and_enum_are_rejected(crds: Path) -> None:
    bad = {
        **NODEPOOL,
        "spec": {
            **NODEPOOL["spec"],
            "weight": "high",
            "disruption": {"consolidationPolicy": "Sometimes"},
        },
    }
    errors = validation_errors(crds, bad)
    assert any(e.startswith("spec/weight:") for e in errors)
    assert any(e.startswith("spec/disruption/consolidationPolicy:") for e in errors)


def test_unserved_or_unknown_versions_are_errors(crds: Path) -> None:
    with pytest.raises(LookupError, match="has no version v9"):
        schema_for(crds, "karpenter.sh/v9", "NodePool")
    with pytest.raises(LookupError, match=r"no CRD for Gadget\.example\.com"):
        schema_for(crds, "example.com/v1", "Gadget")
