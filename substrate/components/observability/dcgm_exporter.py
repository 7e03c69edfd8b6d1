"""NVIDIA DCGM exporter on GPU nodes only, with Substrate's curated counters and a ServiceMonitor.

- Scheduling: required node affinity on `karpenter.k8s.aws/instance-gpu-manufacturer In
  [nvidia]` (Karpenter's AWS provider labels every node of a GPU instance type with it) and a
  toleration of the `nvidia.com/gpu` taint every GPU NodePool carries (R17).
- Counters: `substrate/components/observability/data/dcgm-counters.csv`, passed as the chart's
`customMetrics` (rendered
  into the `exporter-metrics-config-map` ConfigMap the chart mounts at
  /etc/dcgm-exporter/default-counters.csv) and read with `-f`.
- Namespace `dcgm-exporter` is PSA privileged (R27 exemption): the exporter mounts the kubelet's
  pod-resources socket (hostPath) to map GPUs to pods and needs SYS_ADMIN for the DCP
  (`DCGM_FI_PROF_*`) counters (NVIDIA/dcgm-exporter#165).
- Resources hold on 8-GPU nodes: the chart's default limit (200m CPU, 512Mi) OOM-kills the
  exporter on 8-GPU nodes (its native DCGM memory grows with the GPU count; pytorch/ci-infra#1011
  measured 48% of 8-GPU pods OOMKilled at 512Mi, none on 1- and 4-GPU nodes). `RESOURCES` gives
  1.5Gi and 1 CPU, and GOMEMLIMIT keeps the Go heap below the limit with room for DCGM's native
  allocations (the 4.5.3-4.8.2 image is built with Go 1.26, which also sizes GOMAXPROCS from the
  CPU limit).
- The chart's own ServiceMonitor is off; this component renders one whose relabelings drop the
  target's `namespace`/`pod`/`container` labels, so the exporter's labels (the pod using the GPU)
  arrive unrenamed, and add `node`. GPUs not allocated to a pod carry no `namespace` label.
"""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import pulumi
from pulumi_kubernetes.apiextensions import CustomResource
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from substrate.components.core._args import check_args
from substrate.components.core.addon import Addon, AddonArgs, AddonSpec
from substrate.components.core.labels import GPU_TAINT, INSTANCE_GPU_MANUFACTURER_LABEL

COUNTERS_CSV = Path(__file__).with_name("data") / "dcgm-counters.csv"
COUNTERS_PATH = "/etc/dcgm-exporter/default-counters.csv"
DCGM_NAMESPACE = "dcgm-exporter"
RELEASE_NAME = "dcgm-exporter"
# dcgm-exporter.selectorLabels with release name == chart name (deployment/templates/_helpers.tpl)
SELECTOR_LABELS = {
    "app.kubernetes.io/name": "dcgm-exporter",
    "app.kubernetes.io/instance": RELEASE_NAME,
}
GPU_NODE_TERMS: list[dict[str, Any]] = [
    {
        "matchExpressions": [
            {"key": INSTANCE_GPU_MANUFACTURER_LABEL, "operator": "In", "values": ["nvidia"]}
        ]
    }
]
RESOURCES: dict[str, dict[str, str]] = {
    "requests": {"cpu": "200m", "memory": "512Mi"},
    "limits": {"cpu": "1", "memory": "1536Mi"},
}
GO_MEMORY_LIMIT = "1200MiB"
"""GOMEMLIMIT: the Go heap's soft ceiling, ~80% of the memory limit."""
GPU_TOLERATIONS: list[dict[str, str]] = [
    {"key": GPU_TAINT["key"], "operator": "Exists", "effect": GPU_TAINT["effect"]}
]


class DcgmExporterArgs(AddonArgs, TypedDict, total=False):
    """Where the exporter runs and how it is scraped."""

    node_selector_terms: NotRequired[Sequence[Mapping[str, Any]]]
    """Required node-affinity terms (ORed); default: NVIDIA GPU instances launched by Karpenter."""
    tolerations: NotRequired[Sequence[Mapping[str, str]]]
    """Tolerations; default: the `nvidia.com/gpu` taint."""
    counters_csv: NotRequired[str]
    """Counter list in dcgm-exporter's CSV format; default: the package's
    `observability/data/dcgm-counters.csv`."""
    scrape_interval: NotRequired[str]
    """ServiceMonitor scrape interval."""
    monitor_labels: NotRequired[Mapping[str, str]]
    """Extra ServiceMonitor labels (what a bring-your-own Prometheus selects)."""


def read_counters(text: str) -> list[tuple[str, str, str]]:
    """(field, type, help) for every non-comment line of a dcgm-exporter counters CSV."""
    rows = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        field, kind, help_text = (part.strip() for part in line.split(",", 2))
        rows.append((field, kind, help_text))
    return rows


def _check(args: DcgmExporterArgs, counters: str) -> None:
    rows = read_counters(counters)
    if not rows:
        raise ValueError("DcgmExporterArgs.counters_csv: lists no counters")
    for field, kind, _ in rows:
        if not field.startswith(("DCGM_FI_", "DCGM_EXP_")) or kind not in (
            "gauge",
            "counter",
            "label",
        ):
            raise ValueError(
                f"DcgmExporterArgs.counters_csv: {field!r} ({kind}) is not "
                "'DCGM_FI_<field>|DCGM_EXP_<field>, gauge|counter|label, <help>'"
            )
    if not args.get("tolerations", GPU_TOLERATIONS):
        raise ValueError("DcgmExporterArgs.tolerations: empty; GPU nodes are tainted")


def exporter_values(args: DcgmExporterArgs, counters: str) -> dict[str, Any]:
    terms = [dict(t) for t in args.get("node_selector_terms", GPU_NODE_TERMS)]
    return {
        "arguments": ["-f", COUNTERS_PATH],
        "customMetrics": counters,
        "serviceMonitor": {"enabled": False},
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}
            }
        },
        "tolerations": [dict(t) for t in args.get("tolerations", GPU_TOLERATIONS)],
        "resources": {kind: dict(amounts) for kind, amounts in RESOURCES.items()},
        "extraEnv": [{"name": "GOMEMLIMIT", "value": GO_MEMORY_LIMIT}],
    }


def service_monitor_spec(interval: str) -> dict[str, Any]:
    return {
        "selector": {"matchLabels": dict(SELECTOR_LABELS)},
        "namespaceSelector": {"matchNames": [DCGM_NAMESPACE]},
        "endpoints": [
            {
                "port": "metrics",
                "path": "/metrics",
                "interval": interval,
                "honorLabels": False,
                "relabelings": [
                    {"action": "labeldrop", "regex": "namespace|pod|container"},
                    {
                        "action": "replace",
                        "sourceLabels": ["__meta_kubernetes_pod_node_name"],
                        "targetLabel": "node",
                    },
                ],
            }
        ],
    }


class DcgmExporter(Addon):
    """DCGM exporter DaemonSet (privileged namespace) and its ServiceMonitor."""

    def __init__(
        self, name: str, args: DcgmExporterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__("substrate:observability:DcgmExporter", name, None, opts)
        counters = args.get("counters_csv", COUNTERS_CSV.read_text())
        _check(args, counters)
        release = self._install(
            name,
            args,
            AddonSpec(
                chart="dcgm-exporter",
                namespace=DCGM_NAMESPACE,
                release_name=RELEASE_NAME,
                pod_security="privileged",
                values=exporter_values(args, counters),
            ),
        )
        CustomResource(
            f"{name}-service-monitor",
            api_version="monitoring.coreos.com/v1",
            kind="ServiceMonitor",
            metadata=ObjectMetaArgs(
                name="dcgm-exporter",
                namespace=DCGM_NAMESPACE,
                labels={**SELECTOR_LABELS, **dict(args.get("monitor_labels", {}))},
            ),
            spec=service_monitor_spec(args.get("scrape_interval", "15s")),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[release]),
        )
        self._finish({"counters": [row[0] for row in read_counters(counters)]})
