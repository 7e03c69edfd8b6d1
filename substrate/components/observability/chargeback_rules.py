"""GPU-hour chargeback: per-minute recording rules a finance team can sum over any period.

Design (docs/observability.md, "Chargeback: GPU-hours"):

- The group is evaluated every minute. Every record is an instantaneous figure for that minute
  ("GPUs held now"), never an average, so a period's GPU-hours are the sum of the period's
  samples divided by 60: ``sum_over_time(namespace:gpu_allocated:sum[<period>]) / 60``. A job
  that held 8 GPUs for 15 minutes adds 15 samples of 8 (2 GPU-hours), whichever hours they fall
  in; minutes without GPUs add nothing.
- Allocated: the pool's GPU unit (`nvidia.com/gpu`, or `nvidia.com/gpu.shared` on a
  time-sliced pool, where the device plugin renames the slices) requested by pods bound to a node
  (the `node` label of kube-state-metrics' request series is set) whose phase is Pending or
  Running, from the minute they are bound until they finish or are deleted. That is when the GPU
  is reserved on a node for the pod and nobody else can use it (image pulls and init containers
  included).
- Physical: a time-sliced pool's node advertises each GPU `replicas` times as
  `nvidia.com/gpu.shared` (the NVIDIA device plugin config the capacity layer renders); a pod's
  request there is multiplied by 1/replicas. The factor comes from the same stack data as the
  device plugin's config.
- Used: the time the GPUs were executing kernels, `DCGM_FI_DEV_GPU_UTIL / 100` averaged over the
  minute, for GPUs the DCGM exporter maps to a pod of the namespace. On time-sliced pools the
  exporter sees physical GPUs, not slices: a node's GPU busy time is split among the namespaces
  holding its slices in proportion to the slices they hold.
- Dimensions: `namespace`, `tenant` (the namespace's `substrate.io/tenant` label), `pool` (the
  node's `substrate.io/pool` label) and `gpu_model` (Karpenter's
  `karpenter.k8s.aws/instance-gpu-name` node label), all from kube-state-metrics.
- Duplicates: every kube-state-metrics and DCGM series is first reduced with `max by` over the
  labels that identify the object (pod uid and container, node, GPU UUID), so two
  kube-state-metrics pods (a rollout) or two exporter series of one GPU count once; `topk by` keeps
  one tenant per namespace and one pool per node, so a join can never fail on duplicates.
- Nothing billable disappears in a join: a pod whose node kube-state-metrics has no labels for
  is billed as whole GPUs without pool and model, a namespace without a tenant label without
  `tenant`.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from substrate.components.core.labels import (
    GPU_RESOURCES,
    INSTANCE_GPU_NAME_LABEL,
    KARPENTER_CAPACITY_TYPE_LABEL,
    POOL_LABEL,
    TENANT_LABEL,
)
from substrate.components.observability.rules_common import kube_label

GPU_RESOURCE_LABELS = tuple(re.sub(r"[^a-zA-Z0-9_]", "_", r) for r in GPU_RESOURCES)
"""`nvidia.com/gpu` and `nvidia.com/gpu.shared` as kube-state-metrics sanitizes them into the
`resource` label value (unit integer): nvidia_com_gpu, nvidia_com_gpu_shared."""
GPU_RESOURCE_MATCH = f'resource=~"{"|".join(GPU_RESOURCE_LABELS)}"'
"""Selects the request series of every GPU unit."""
TENANT_METRIC_LABEL = kube_label(TENANT_LABEL)
"""`substrate.io/tenant` as kube_namespace_labels exports it (label_substrate_io_tenant)."""
NODE_LABELS = (POOL_LABEL, INSTANCE_GPU_NAME_LABEL, KARPENTER_CAPACITY_TYPE_LABEL)
"""Node labels the records read; kube-state-metrics must export them (metricLabelsAllowlist)."""
PERIOD_QUERY = "sum by (tenant) (sum_over_time(namespace:gpu_allocated:sum[{period}])) / 60"
"""The documented GPU-hours query of a period (evaluated at the period's end)."""


@dataclass(frozen=True)
class GpuPoolFacts:
    """What the rules need to know about one GPU NodePool (from the capacity layer)."""

    name: str
    """NodePool name."""
    slices_per_gpu: int = 1
    """Pods sharing each physical GPU (time-slicing replicas); 1 for whole GPUs."""
    reserved_first: bool = False
    """The pool launches reserved capacity first and may fall back to on-demand."""


def _relabel(expr: str, target: str, source_key: str) -> str:
    return f'label_replace({expr}, "{target}", "$1", "{kube_label(source_key)}", "(.+)")'


def node_info() -> str:
    """One series per node: its pool, GPU model and capacity type (value 1)."""
    relabelled = "kube_node_labels"
    for target, key in (
        ("pool", POOL_LABEL),
        ("gpu_model", INSTANCE_GPU_NAME_LABEL),
        ("capacity_type", KARPENTER_CAPACITY_TYPE_LABEL),
    ):
        relabelled = _relabel(relabelled, target, key)
    return f"topk by (node) (1, max by (node, pool, gpu_model, capacity_type) ({relabelled}))"


def tenants() -> str:
    """One series per namespace, with `tenant` when the namespace has the tenant label."""
    relabelled = _relabel("kube_namespace_labels", "tenant", TENANT_LABEL)
    return f"topk by (namespace) (1, max by (namespace, tenant) ({relabelled}))"


def gpus_per_device(pools: Sequence[GpuPoolFacts]) -> str:
    """Physical GPUs per advertised `nvidia.com/gpu` of each node: 1/replicas on shared pools."""
    shared = [
        f'(node:pool_info:max{{pool="{p.name}"}} / {p.slices_per_gpu})'
        for p in sorted(pools, key=lambda p: p.name)
        if p.slices_per_gpu > 1
    ]
    return " or ".join([*shared, "node:pool_info:max"])


def devices_allocated() -> str:
    requests = (
        f'kube_pod_container_resource_requests{{{GPU_RESOURCE_MATCH}, unit="integer", node!=""}}'
    )
    return (
        "sum by (namespace, pod, uid, node) "
        f"(max by (namespace, pod, uid, container, node) ({requests})) "
        "and on (namespace, pod, uid) (max by (namespace, pod, uid) "
        '(kube_pod_status_phase{phase=~"Pending|Running"}) == 1)'
    )


def physical_allocated() -> str:
    return (
        "(pod:gpu_devices_allocated:sum * on (node) group_left (pool, gpu_model) "
        "node:gpus_per_device:ratio) "
        "or on (namespace, pod, uid) pod:gpu_devices_allocated:sum"
    )


def _with_tenant(expr: str) -> str:
    return (
        f"({expr}) * on (namespace) group_left (tenant) {tenants()} "
        f"or on (namespace, pool, gpu_model) ({expr})"
    )


def _shared_regex(pools: Sequence[GpuPoolFacts]) -> str:
    return "|".join(sorted(p.name for p in pools if p.slices_per_gpu > 1))


def busy_by_namespace_and_node(pools: Sequence[GpuPoolFacts]) -> str:
    """Busy GPUs (sum of utilization / 100) per namespace and node, with pool and model."""
    util = "avg_over_time(DCGM_FI_DEV_GPU_UTIL{selector}[1m])"
    held = util.format(selector='{namespace!=""}')
    shared = _shared_regex(pools)
    info = "node:pool_info:max" + (f'{{pool!~"{shared}"}}' if shared else "")
    whole = (
        f"sum by (namespace, node) (max by (namespace, node, UUID) ({held})) / 100 "
        f"* on (node) group_left (pool, gpu_model) {info}"
    )
    if not shared:
        return whole
    busy = f"sum by (node) (max by (node, UUID) ({util.format(selector='')})) / 100"
    share = (
        "sum by (namespace, node) (pod:gpu_devices_allocated:sum) "
        "/ on (node) group_left () sum by (node) (pod:gpu_devices_allocated:sum)"
    )
    return (
        f"({whole}) or ({share} * on (node) group_left () ({busy}) "
        f'* on (node) group_left (pool, gpu_model) node:pool_info:max{{pool=~"{shared}"}})'
    )


def chargeback_rules(pools: Sequence[GpuPoolFacts] = ()) -> list[dict[str, Any]]:
    """The records, in evaluation order (a rule reads the ones above it, same timestamp)."""
    used = "sum by (namespace, pool, gpu_model) (namespace_node:gpu_used:sum)"
    allocated = "sum by (namespace, pool, gpu_model) (pod:gpu_allocated:sum)"
    return [
        {"record": "node:pool_info:max", "expr": node_info()},
        {"record": "node:gpus_per_device:ratio", "expr": gpus_per_device(pools)},
        {"record": "pod:gpu_devices_allocated:sum", "expr": devices_allocated()},
        {"record": "pod:gpu_allocated:sum", "expr": physical_allocated()},
        {"record": "namespace:gpu_allocated:sum", "expr": _with_tenant(allocated)},
        {"record": "namespace_node:gpu_used:sum", "expr": busy_by_namespace_and_node(pools)},
        {"record": "namespace:gpu_used:sum", "expr": _with_tenant(used)},
    ]


# CPU and memory chargeback (group substrate.compute.chargeback): the same per-minute
# "held now" records for CPU cores and memory GiB, per namespace and per Spark application.

SPARK_APP_LABEL = "sparkoperator.k8s.io/app-name"
"""Label the Spark Operator (v2.5.1, pkg/common/spark.go `LabelSparkAppName`) puts on a
SparkApplication's driver and executor pods: the SparkApplication's name."""
SPARK_ROLE_LABEL = "spark-role"
"""Label Spark puts on its pods: `driver` or `executor`."""
POD_LABELS = (SPARK_APP_LABEL, SPARK_ROLE_LABEL)
"""Pod labels the records read; kube-state-metrics must export them (metricLabelsAllowlist)."""
GIB = 1024**3
COMPUTE_PERIOD_QUERY = (
    "sum by (tenant) (sum_over_time(namespace:{resource}_allocated{unit}:sum[{period}])) / 60"
)
"""Core-hours (resource cpu, unit "") or GiB-hours (memory, unit "_gib") of a period."""


def compute_allocated(resource: str, unit: str) -> str:
    """Per pod: ``resource`` requested by its containers while bound and Pending or Running
    (kube-state-metrics v2.20.0 exports cpu in unit "core", memory in unit "byte")."""
    requests = (
        f'kube_pod_container_resource_requests{{resource="{resource}", unit="{unit}", node!=""}}'
    )
    return (
        "sum by (namespace, pod, uid, node) "
        f"(max by (namespace, pod, uid, container, node) ({requests})) "
        "and on (namespace, pod, uid) (max by (namespace, pod, uid) "
        '(kube_pod_status_phase{phase=~"Pending|Running"}) == 1)'
    )


def node_pools() -> str:
    """One series per node: its pool (absent when the node has no pool label)."""
    relabelled = _relabel("kube_node_labels", "pool", POOL_LABEL)
    return f"topk by (node) (1, max by (node, pool) ({relabelled}))"


def spark_pods() -> str:
    """One series per Spark pod: its SparkApplication and role."""
    relabelled = _relabel(
        _relabel(
            f'kube_pod_labels{{{kube_label(SPARK_APP_LABEL)}!=""}}',
            "spark_application",
            SPARK_APP_LABEL,
        ),
        "spark_role",
        SPARK_ROLE_LABEL,
    )
    return (
        "topk by (namespace, pod, uid) "
        f"(1, max by (namespace, pod, uid, spark_application, spark_role) ({relabelled}))"
    )


def _by_namespace(pod_record: str, scale: str) -> str:
    per_pool = (
        f"sum by (namespace, pool) ({pod_record} * on (node) group_left (pool) "
        f"{node_pools()} or on (namespace, pod, uid) {pod_record}){scale}"
    )
    return (
        f"({per_pool}) * on (namespace) group_left (tenant) {tenants()} "
        f"or on (namespace, pool) ({per_pool})"
    )


def _by_spark_application(pod_record: str, scale: str) -> str:
    keys = "namespace, spark_application, spark_role"
    per_app = (
        f"sum by ({keys}) ({pod_record} * on (namespace, pod, uid) "
        f"group_left (spark_application, spark_role) pod:spark_info:max){scale}"
    )
    return (
        f"({per_app}) * on (namespace) group_left (tenant) {tenants()} or on ({keys}) ({per_app})"
    )


def compute_chargeback_rules() -> list[dict[str, Any]]:
    """CPU cores and memory GiB held per minute, per namespace (with tenant and pool) and per
    Spark application and role, in evaluation order."""
    to_gib = f" / {GIB}"
    return [
        {"record": "pod:cpu_allocated:sum", "expr": compute_allocated("cpu", "core")},
        {"record": "pod:memory_allocated_bytes:sum", "expr": compute_allocated("memory", "byte")},
        {"record": "pod:spark_info:max", "expr": spark_pods()},
        {
            "record": "namespace:cpu_allocated:sum",
            "expr": _by_namespace("pod:cpu_allocated:sum", ""),
        },
        {
            "record": "namespace:memory_allocated_gib:sum",
            "expr": _by_namespace("pod:memory_allocated_bytes:sum", to_gib),
        },
        {
            "record": "spark_application:cpu_allocated:sum",
            "expr": _by_spark_application("pod:cpu_allocated:sum", ""),
        },
        {
            "record": "spark_application:memory_allocated_gib:sum",
            "expr": _by_spark_application("pod:memory_allocated_bytes:sum", to_gib),
        },
    ]
