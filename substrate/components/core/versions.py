"""Every version Substrate pins, in one place.

Helm charts come from ../shared/crds/SOURCES.md (chart repository, chart name, chart version as
published); ``tests/test_versions.py`` cross-checks them against the upstream ``Chart.yaml`` files
when the CRD directory is present. Kubernetes versions follow the Amazon EKS release calendar.
Pure data: importing this module imports nothing from Pulumi.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Chart:
    """A pinned Helm chart."""

    name: str
    """Chart name inside the repository (for OCI charts, the last path element)."""
    repository: str
    """Chart repository URL, or the OCI reference without the chart name."""
    version: str
    """Published chart version."""
    app_version: str
    """The application version the chart deploys (for docs and image pinning)."""

    @property
    def is_oci(self) -> bool:
        return self.repository.startswith("oci://")

    @property
    def reference(self) -> str:
        """What `helm install` takes as the chart argument."""
        return f"{self.repository}/{self.name}" if self.is_oci else self.name


CHARTS: dict[str, Chart] = {
    "karpenter": Chart("karpenter", "oci://public.ecr.aws/karpenter", "1.14.1", "1.14.1"),
    "kueue": Chart("kueue", "oci://registry.k8s.io/kueue/charts", "0.19.2", "v0.19.2"),
    "keda": Chart("keda", "https://kedacore.github.io/charts", "2.20.2", "2.20.2"),
    "kyverno": Chart("kyverno", "https://kyverno.github.io/kyverno/", "3.9.0", "v1.19.0"),
    "spire-crds": Chart(
        "spire-crds", "https://spiffe.github.io/helm-charts-hardened/", "0.6.0", "0.6.0"
    ),
    "spire": Chart("spire", "https://spiffe.github.io/helm-charts-hardened/", "0.30.0", "1.14.5"),
    "dcgm-exporter": Chart(
        "dcgm-exporter", "https://nvidia.github.io/dcgm-exporter/helm-charts", "4.8.2", "4.8.2"
    ),
    "nvidia-device-plugin": Chart(
        "nvidia-device-plugin", "https://nvidia.github.io/k8s-device-plugin", "0.20.0", "0.20.0"
    ),
    "kube-prometheus-stack": Chart(
        "kube-prometheus-stack",
        "https://prometheus-community.github.io/helm-charts",
        "88.5.3",
        "v0.93.1",
    ),
    "prometheus-operator-crds": Chart(
        "prometheus-operator-crds",
        "https://prometheus-community.github.io/helm-charts",
        "31.0.1",
        "v0.93.1",
    ),
    "kuberay-operator": Chart(
        "kuberay-operator", "https://ray-project.github.io/kuberay-helm/", "1.7.0", "1.7.0"
    ),
    "lws": Chart("lws", "oci://registry.k8s.io/lws/charts", "0.10.0", "v0.10.0"),
    "jobset": Chart("jobset", "oci://registry.k8s.io/jobset/charts", "0.12.0", "v0.12.0"),
    # Kubeflow Spark Operator: the release Kueue v0.19.2's go.mod pins (its SparkApplication
    # integration is built against github.com/kubeflow/spark-operator/v2 v2.5.1).
    "spark-operator": Chart(
        "spark-operator", "https://kubeflow.github.io/spark-operator", "2.5.1", "2.5.1"
    ),
    # AWS's charts (github.com/aws/eks-charts, published at https://aws.github.io/eks-charts):
    # the versions its commit in GO_MODULE_CHARTS holds.
    "aws-load-balancer-controller": Chart(
        "aws-load-balancer-controller", "https://aws.github.io/eks-charts", "3.5.0", "v3.5.0"
    ),
    "aws-efa-k8s-device-plugin": Chart(
        "aws-efa-k8s-device-plugin",
        "https://aws.github.io/eks-charts",
        "v0.5.31",
        "v0.5.21-eksbuild.9",
    ),
}


@dataclass(frozen=True)
class GoModuleChart:
    """A chart that is not in ../shared/charts, fetched at build time from the Go module proxy
    (`go mod download`: the module zip holds the repository tree, chart and CRDs included) and
    packaged by the helm engine into build/charts/ (`make charts`; never committed)."""

    module: str
    version: str
    """Module version: the chart's git tag, or the pseudo-version of a commit (eks-charts tags
    no chart releases); the chart's own Chart.yaml must carry CHARTS[key].version."""
    sum: str
    """The module zip's go.sum hash (`h1:`), checked after download."""
    path: str
    """The chart's directory inside the module."""


GO_MODULE_CHARTS: dict[str, GoModuleChart] = {
    "spark-operator": GoModuleChart(
        "github.com/kubeflow/spark-operator/v2",
        "v2.5.1",
        "h1:7E1iz79b5p8fEcn2zr/yJ/T3kuZtJJqj+DPvvGV3WjA=",
        "charts/spark-operator-chart",
    ),
    **{
        name: GoModuleChart(
            "github.com/aws/eks-charts",
            # master at 2026-08-21 (the proxy's @latest on 2026-12-02).
            "v0.0.243-0.20260821194545-743f98a89b5b",
            "h1:ZgB85AeVHImIIK40RM7Hf2CGQzNeDkfAWAdpB61wL98=",
            f"stable/{name}",
        )
        for name in ("aws-load-balancer-controller", "aws-efa-k8s-device-plugin")
    },
}
"""Key: as in CHARTS."""


@dataclass(frozen=True)
class KubernetesVersion:
    """A Kubernetes minor version on Amazon EKS and its standard-support window."""

    version: str
    eks_release: str
    """Month (or day) Amazon EKS made the version available."""
    end_of_standard_support: str
    """Day standard support ends; after it the cluster runs on paid extended support."""


# Amazon EKS release calendar (docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html),
# as of 2026-11-22. 1.36 is offered by EKS (Karpenter v1.14 runs its end-to-end suite on EKS 1.36
# clusters); its end of standard support is 14 months after its EKS release.
EKS_STANDARD_SUPPORT: tuple[KubernetesVersion, ...] = (
    KubernetesVersion("1.34", "2025-10-02", "2026-12-02"),
    KubernetesVersion("1.35", "2026-01", "2027-03-27"),
    KubernetesVersion("1.36", "2026", "14 months after its EKS release"),
)

# Versions EKS still offers, but only on extended support (extra cost per cluster hour).
EKS_EXTENDED_SUPPORT: tuple[str, ...] = ("1.31", "1.32", "1.33")

SUPPORTED_KUBERNETES_VERSIONS: tuple[str, ...] = tuple(v.version for v in EKS_STANDARD_SUPPORT)

# EKS managed add-ons the platform installs. Versions resolve to EKS's default for the cluster's
# Kubernetes version at deploy time unless the stack pins one.
EKS_MANAGED_ADDONS: tuple[str, ...] = (
    "vpc-cni",
    "coredns",
    "kube-proxy",
    "eks-pod-identity-agent",
    "aws-ebs-csi-driver",
    "metrics-server",
    "eks-node-monitoring-agent",
    # CSI snapshot controller and the snapshot.storage.k8s.io CRDs (no AWS permissions): the
    # VolumeSnapshotClass of the EBS CSI driver needs them.
    "snapshot-controller",
)
# Optional per stack (substrate:cluster.optionalAddons). EKS User Guide:
# "eks-node-monitoring-agent" (node health issues for node auto repair) needs no IAM
# permissions ("Amazon EKS add-ons"); "metrics-server" is an EKS community add-on ("Community
# add-ons": Kubernetes Metrics Server), no IAM permissions.
OPTIONAL_EKS_ADDONS: tuple[str, ...] = (
    "metrics-server",
    "eks-node-monitoring-agent",
)


@dataclass(frozen=True)
class Engine:
    """A real engine the tests and `substrate check` run, built at the version the platform
    deploys (or, for tools the platform does not deploy, the version named here and why)."""

    module: str
    """Go module that provides it."""
    version: str
    """Module version, as tools/engines/<name>/go.mod requires it."""
    deploys: str
    """What the platform runs that this version matches."""


_KYVERNO = Engine(
    "github.com/kyverno/kyverno",
    CHARTS["kyverno"].app_version,
    f"the Kyverno chart {CHARTS['kyverno'].version} (admission controller "
    f"{CHARTS['kyverno'].app_version})",
)

PULUMI_SDK_VERSION = "3.272.0"
"""The pulumi Python SDK the platform pins (requirements.lock) and the CLI the workflows install."""

_PULUMI_CLI = Engine(
    "github.com/pulumi/pulumi/pkg/v3",
    "v3.274.0",
    f"the Pulumi CLI that runs the stacks (workflows: {PULUMI_SDK_VERSION}); the Go module proxy "
    f"does not serve pkg/v3 v{PULUMI_SDK_VERSION}, so the engine is the nearest newer release "
    "(a CLI newer than the SDK is the supported direction)",
)

ENGINES: dict[str, Engine] = {
    "kyverno": _KYVERNO,
    "kyverno-server": Engine(
        _KYVERNO.module,
        _KYVERNO.version,
        f"{_KYVERNO.deploys}: the Kyverno CLI's own packages, kept running to answer many "
        "admission questions (tools/engines/kyverno-server)",
    ),
    "helm": Engine(
        "helm.sh/helm/v3",
        "v3.20.2",
        "the Helm v3 library inside pulumi-kubernetes' provider (kubernetes:helm.sh/v3:Release)",
    ),
    "apiserver": Engine(
        "k8s.io/kubernetes",
        "v1.36.0",
        "the API server of Amazon EKS 1.36, run as the stack's cluster version (1.34 to 1.36 by "
        "--emulated-version), with the webhooks of the Kueue chart "
        f"{CHARTS['kueue'].version} (sigs.k8s.io/kueue {CHARTS['kueue'].app_version}, which pins "
        "this k8s.io/kubernetes)",
    ),
    "promtool": Engine(
        "github.com/prometheus/prometheus",
        "v0.314.0",
        "Prometheus v3.14.0, the server image of the kube-prometheus-stack chart "
        f"{CHARTS['kube-prometheus-stack'].version} (Go module v0.314.0 is release v3.14.0)",
    ),
    "netpol": Engine(
        "github.com/np-guard/netpol-analyzer",
        "v1.4.4",
        "nothing deployed: the VPC CNI's network policy agent enforces upstream NetworkPolicy "
        "semantics, which this analyzer (its newest release) evaluates offline",
    ),
    "kueue": Engine(
        "sigs.k8s.io/kueue",
        CHARTS["kueue"].app_version,
        f"the Kueue chart {CHARTS['kueue'].version} (controller {CHARTS['kueue'].app_version})",
    ),
    "pod-security": Engine(
        "k8s.io/pod-security-admission",
        "v0.36.2",
        "the Pod Security Admission built into kube-apiserver 1.36, the newest minor the stacks "
        "run; it evaluates older clusters at their own version (the checks emulate it)",
    ),
    "hpa": Engine(
        "k8s.io/kubernetes",
        "v1.36.0",
        "the HorizontalPodAutoscaler and StatefulSet controllers of kube-controller-manager 1.36 "
        "(the apiserver engine's k8s.io/kubernetes), driving the HPA that KEDA "
        f"{CHARTS['keda'].app_version} creates from a ScaledObject (tools/engines/hpa)",
    ),
    "pulumi": _PULUMI_CLI,
    "pulumi-nodejs-codegen": Engine(
        _PULUMI_CLI.module,
        _PULUMI_CLI.version,
        "nothing deployed: Pulumi's Node.js SDK generator (pkg/codegen/nodejs) of that CLI, "
        "served as the language host's GeneratePackage for `pulumi package gen-sdk` "
        "(tools/engines/pulumi-nodejs-codegen)",
    ),
    "pulumi-language-yaml": Engine(
        "github.com/pulumi/pulumi-yaml",
        "v1.25.0",
        "nothing deployed: the Pulumi YAML language host that runs YAML programs using Substrate's "
        "components (the newest pulumi-yaml release the Go module proxy serves)",
    ),
    "pulumi-kubernetes": Engine(
        "github.com/pulumi/pulumi-kubernetes/provider/v4",
        "v4.0.0-20260115033456-f47bc2d6f199",
        "nothing deployed: Pulumi's Kubernetes resource provider plugin "
        "(pulumi-resource-kubernetes) at the v4.25.0 release commit, the one version of its module "
        "the Go module proxy serves; "
        "the Python SDK the project pins (requirements.lock) is newer, inside the same major "
        "(tools/engines/pulumi-kubernetes)",
    ),
    "workload-pods": Engine(
        "sigs.k8s.io/jobset",
        CHARTS["jobset"].app_version,
        f"the JobSet chart {CHARTS['jobset'].version}'s webhook defaulting and job construction; "
        "the pod building of KubeRay ray-operator v1.6.2 and the StatefulSets and pod webhook of "
        "LWS v0.9.0 (the versions the Kueue engine links: the module proxy here serves no source "
        f"of the kuberay-operator chart's {CHARTS['kuberay-operator'].app_version} nor of the lws "
        f"chart's {CHARTS['lws'].app_version}), over the StatefulSet controller's pod construction "
        "of the apiserver engine's Kubernetes (tools/engines/workload-pods)",
    ),
    "spire-entries": Engine(
        "k8s.io/apimachinery",
        "v0.36.2",
        "our model of the ClusterSPIFFEID reconciler of spire-controller-manager 0.7.0 (the "
        f"controller manager image of the spire chart {CHARTS['spire'].version}), whose Go module "
        "the module proxy here does not serve: Kubernetes' label selectors and pod types, Go's "
        "text/template (tools/engines/spire-entries)",
    ),
}

# Optional per stack too (substrate:cluster.optionalAddons), installed from their charts:
# substrate.components.cluster.load_balancer_controller.
OPTIONAL_CHART_ADDONS: tuple[str, ...] = ("aws-load-balancer-controller",)
