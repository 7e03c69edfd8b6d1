"""Alerts for GPU capacity that exists on paper but not in practice (pure data).

- a Ready GPU node that sends no DCGM series (its GPU health alerts and used GPU-hours are blind);
- a Karpenter NodeClaim that registered but never became Initialized (the device plugin never
  advertised the GPUs, or a startup taint was never removed): Karpenter deletes NodeClaims that
  do not launch or register, but not ones that never initialize;
- an EC2NodeClass that is not Ready (AMI, subnets, security groups, instance profile or capacity
  reservations do not resolve): every NodePool on it stops launching;
- a NodePool at its GPU limit (`nvidia.com/gpu`, or `nvidia.com/gpu.shared` on a time-sliced
  pool) while GPU pods wait unschedulable;
- a reserved-first pool running on-demand GPU nodes (reservations full, expired or not matched).

Metric names and labels: Karpenter v1.14.1 (`website/content/en/v1.14/reference/metrics.md`;
status-condition gauges from awslabs/operatorpkg `status/metrics.go`, NodeClaims labelled with
their `karpenter_sh_nodepool` and `karpenter_k8s_aws_ec2nodeclass`), kube-state-metrics v2.20.0.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from substrate.components.core.labels import (
    GPU_RESOURCES,
    INSTANCE_GPU_MANUFACTURER_LABEL,
    KARPENTER_CAPACITY_TYPE_LABEL,
    POOL_LABEL,
)
from substrate.components.observability.chargeback_rules import GPU_RESOURCE_MATCH, GpuPoolFacts
from substrate.components.observability.rules_common import alert, kube_label, seconds

NOT_INITIALIZED_AFTER = "15m"
"""A NodeClaim's Initialized condition not True for this long (Karpenter's own registration
TTL) is stuck: a GPU node normally initializes within minutes of registering."""

PENDING_GPU_PODS = (
    "count(max by (namespace, pod, uid) "
    f'(kube_pod_container_resource_requests{{{GPU_RESOURCE_MATCH}, node=""}}) '
    "and on (namespace, pod, uid) (max by (namespace, pod, uid) "
    "(kube_pod_status_unschedulable) == 1))"
)
"""GPU pods the scheduler found unschedulable (pods gated by Kueue are not: they are not
scheduled at all, so they carry no Unschedulable condition)."""


POOL_UNITS = "resource_type=~{}".format(json.dumps("|".join(re.escape(r) for r in GPU_RESOURCES)))
"""A NodePool's GPU unit as Karpenter's nodepool metrics name it (the resource name), as a
PromQL regex matcher (the string literal escapes the regex's backslashes)."""


def _nvidia_nodes() -> str:
    manufacturer = kube_label(INSTANCE_GPU_MANUFACTURER_LABEL)
    return f'max by (node) (kube_node_labels{{{manufacturer}="nvidia"}})'


def gpu_node_rules(pools: Sequence[GpuPoolFacts]) -> list[dict[str, Any]]:
    rules = [
        alert(
            "GpuNodeWithoutDcgmMetrics",
            f"{_nvidia_nodes()} and on (node) (max by (node) "
            '(kube_node_status_condition{condition="Ready", status="true"}) == 1) '
            "unless on (node) max by (node) (DCGM_FI_DEV_GPU_UTIL)",
            "15m",
            "warning",
            summary="GPU node {{ $labels.node }} is Ready but sends no DCGM metrics",
            description=(
                "No dcgm-exporter series arrive from this NVIDIA node: the exporter pod is "
                "missing, crash-looping (check for OOMKilled) or not scraped. GPU health alerts "
                "and used GPU-hours are blind on this node."
            ),
        ),
        alert(
            "KarpenterNodeClaimNotInitialized",
            "max by (name, karpenter_sh_nodepool) "
            "(operator_nodeclaim_status_condition_current_status_seconds"
            '{type="Initialized", status!="True"}) '
            f"> {seconds(NOT_INITIALIZED_AFTER)}",
            "5m",
            "warning",
            summary=(
                "NodeClaim {{ $labels.name }} (NodePool {{ $labels.karpenter_sh_nodepool }}) "
                "never became Initialized"
            ),
            description=(
                "The node registered but Karpenter does not consider it initialized after "
                f"{NOT_INITIALIZED_AFTER}: usually the NVIDIA device plugin never advertised "
                "nvidia.com/gpu or a startup taint stayed. Karpenter will not replace it: check "
                "the device plugin pod on the node, then delete the NodeClaim."
            ),
        ),
        alert(
            "KarpenterEC2NodeClassNotReady",
            "max by (name, reason) (operator_ec2nodeclass_status_condition_count"
            '{type="Ready", status!="True"}) == 1',
            "10m",
            "critical",
            summary="EC2NodeClass {{ $labels.name }} is not Ready ({{ $labels.reason }})",
            description=(
                "Karpenter cannot resolve the class's AMIs, subnets, security groups, instance "
                "profile or capacity reservations, so no NodePool on it launches nodes: "
                "`kubectl describe ec2nodeclass` shows the failing condition."
            ),
        ),
        alert(
            "KarpenterNodePoolAtGpuLimit",
            "max by (nodepool) (max by (nodepool, resource_type) "
            f"(karpenter_nodepools_usage{{{POOL_UNITS}}}) "
            ">= max by (nodepool, resource_type) "
            f"(karpenter_nodepools_limit{{{POOL_UNITS}}})) "
            f"and on () ({PENDING_GPU_PODS} > 0)",
            "15m",
            "warning",
            summary=(
                "NodePool {{ $labels.nodepool }} is at its GPU limit ({{ $value }}) while GPU "
                "pods are unschedulable"
            ),
            description=(
                "Karpenter launches no node that would take the pool past its GPU limit "
                "(nvidia.com/gpu, or nvidia.com/gpu.shared slices on a time-sliced pool); "
                "pending GPU pods wait. Raise the limit (and the Kueue quota with it) or free "
                "GPUs."
            ),
        ),
    ]
    reserved = sorted(p.name for p in pools if p.reserved_first)
    if reserved:
        rules.append(
            alert(
                "GpuPoolFellBackToOnDemand",
                "count by (pool) (label_replace(max by (node, "
                f"{kube_label(POOL_LABEL)}) (kube_node_labels"
                f'{{{kube_label(POOL_LABEL)}=~"{"|".join(reserved)}", '
                f'{kube_label(KARPENTER_CAPACITY_TYPE_LABEL)}="on-demand"}}), '
                f'"pool", "$1", "{kube_label(POOL_LABEL)}", "(.+)"))',
                "30m",
                "warning",
                summary=(
                    "Reserved-first pool {{ $labels.pool }} runs {{ $value }} on-demand GPU node(s)"
                ),
                description=(
                    "The pool prefers capacity reservations but Karpenter launched on-demand "
                    "instances (reservations full, expired or no longer matched by the "
                    "EC2NodeClass's capacityReservationSelectorTerms): they cost on-demand "
                    "rates. Extend the reservation or accept the cost."
                ),
            )
        )
    return rules
