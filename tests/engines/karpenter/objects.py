"""Small NodePools, EC2NodeClasses and nodes for the disruption model's tests."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from substrate.engines.karpenter.disruption import Cluster
from substrate.engines.karpenter.model import Instance, NodeClaim, Pod, launch

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
"""A Monday, 00:00 UTC."""
P5 = Instance("p5.48xlarge", "p5", {"nvidia.com/gpu": 8}, gpu_variant="nvidia")
M7I = Instance("m7i.xlarge", "m7i", {})


def nodeclass(name: str = "default", alias: str = "al2023@v20260101", **spec: Any) -> dict:
    return {
        "metadata": {"name": name},
        "spec": {
            "amiSelectorTerms": [{"alias": alias}],
            "role": "node-role",
            "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": "c"}}],
            "securityGroupSelectorTerms": [{"tags": {"karpenter.sh/discovery": "c"}}],
            "tags": {"cost-center": "ai"},
            **spec,
        },
    }


def nodepool(
    name: str = "default",
    *,
    budgets: list[dict[str, Any]] | None = None,
    policy: str = "WhenEmpty",
    consolidate_after: str = "1h",
    node_class: str = "default",
    **template_spec: Any,
) -> dict:
    disruption: dict[str, Any] = {
        "consolidationPolicy": policy,
        "consolidateAfter": consolidate_after,
    }
    if budgets is not None:
        disruption["budgets"] = budgets
    return {
        "metadata": {"name": name},
        "spec": {
            "template": {
                "metadata": {"labels": {"substrate.io/pool": name}},
                "spec": {
                    "nodeClassRef": {
                        "group": "karpenter.k8s.aws",
                        "kind": "EC2NodeClass",
                        "name": node_class,
                    },
                    "requirements": [
                        {
                            "key": "karpenter.sh/capacity-type",
                            "operator": "In",
                            "values": ["on-demand"],
                        }
                    ],
                    "expireAfter": "Never",
                    **template_spec,
                },
            },
            "disruption": disruption,
        },
    }


def cluster(np: dict, nc: dict) -> Cluster:
    return Cluster({np["metadata"]["name"]: np}, {nc["metadata"]["name"]: nc})


def node(
    c: Cluster,
    name: str,
    *pods: Pod,
    pool: str = "default",
    instance: Instance = P5,
    at: datetime = T0,
) -> NodeClaim:
    np = c.nodepools[pool]
    nc = c.nodeclasses[np["spec"]["template"]["spec"]["nodeClassRef"]["name"]]
    claim = launch(name, np, nc, instance, at, zone="us-east-1a", startup=timedelta(0))
    claim.pods.extend(pods)
    return c.add(claim)


def changed(obj: Mapping[str, Any], **spec: Any) -> dict:
    out = copy.deepcopy(dict(obj))
    out["spec"].update(spec)
    return out
