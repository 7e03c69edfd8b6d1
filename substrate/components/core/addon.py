"""The one shape every Helm add-on follows.

An add-on component subclasses :class:`Addon`, builds its Helm values from its typed args, and
calls ``self._install(AddonSpec(...))`` once, which creates, in this order:

1. the namespace, labelled for Pod Security Admission (`restricted` unless the add-on documents
   why it needs less, R27);
2. the IAM role for its service account through EKS Pod Identity, when it calls AWS APIs;
3. the Helm release of the chart pinned in :mod:`substrate.components.core.versions`.

and then ``self._finish({...})`` registers the standard outputs (namespace, releaseName, chart,
chartVersion, roleArn) plus the add-on's own. Nothing else about installing a chart varies
between add-ons.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from substrate.components.cluster.image_cache import CacheTarget, chart_values, merged
from substrate.components.core.versions import CHARTS, Chart
from substrate.components.identity.pod_identity import PodIdentityRole, PodIdentityRoleArgs

PodSecurityLevel = Literal["restricted", "baseline", "privileged"]


class AddonArgs(TypedDict, total=False):
    """Arguments every add-on takes; add-on specific args extend this TypedDict."""

    cluster_name: Required[pulumi.Input[str]]
    """EKS cluster the add-on runs in (Pod Identity associations are per cluster)."""
    tags: NotRequired[Mapping[str, str]]
    """Tags for every AWS resource the add-on creates."""
    image_cache: NotRequired[CacheTarget | None]
    """Pull the chart's images through the account's ECR pull-through
    cache (substrate.components.cluster.image_cache) instead of their public registries."""


def pod_security_labels(level: PodSecurityLevel) -> dict[str, str]:
    """PSA labels: enforce, audit and warn at one level (R27)."""
    labels = {}
    for mode in ("enforce", "audit", "warn"):
        labels[f"pod-security.kubernetes.io/{mode}"] = level
        labels[f"pod-security.kubernetes.io/{mode}-version"] = "latest"
    return labels


@dataclass(frozen=True)
class AddonSpec:
    chart: str
    """Key in substrate.components.core.versions.CHARTS."""
    namespace: str
    """Namespace the release goes into."""
    values: Mapping[str, Any]
    """Helm values (may contain Pulumi outputs)."""
    release_name: str | None = None
    """Helm release name (defaults to the chart name)."""
    create_namespace: bool = True
    """False when the namespace is shared (e.g. kube-system) or made by another add-on."""
    pod_security: PodSecurityLevel = "restricted"
    """PSA level of the namespace; anything but restricted must be documented (R27)."""
    namespace_labels: Mapping[str, str] = field(default_factory=dict)
    """Extra namespace labels."""
    service_account: str | None = None
    """Service account that gets a Pod Identity role (None: no AWS access)."""
    policy_json: pulumi.Input[str] | None = None
    """Inline policy for that role."""
    managed_policies: Sequence[str] = ()
    """AWS managed policies for that role."""
    timeout_seconds: int = 600
    """How long Helm waits for the release to become ready."""
    depends_on: Sequence[pulumi.Resource] = ()
    """Resources the release must wait for (e.g. CRD charts)."""
    container_defaults: Mapping[str, Mapping[str, str]] | None = None
    """A LimitRange `Container` item (`defaultRequest` and `default`, both required) in the
    release's namespace, created before the release: the API server's LimitRanger sizes
    containers a chart offers no resources key for (None: no LimitRange)."""
    extra_namespaces: Mapping[str, PodSecurityLevel] = field(default_factory=dict)
    """Further namespaces the chart deploys into, with their PSA level (e.g. a node agent's
    privileged namespace next to a restricted server namespace; document anything but
    restricted, R27)."""


class Addon(pulumi.ComponentResource):
    """Base class: see the module docstring for the shape."""

    namespace: pulumi.Output[str]
    release_name: pulumi.Output[str]
    chart: Chart
    role_arn: pulumi.Output[str] | None
    release: k8s.helm.v3.Release
    namespace_name: str
    """The release's namespace as a plain string (for wiring at composition time)."""
    created_namespaces: Sequence[str] = ()
    """Namespaces this add-on creates: platform namespaces admission control stays out of."""

    def _install(self, name: str, args: AddonArgs, spec: AddonSpec) -> k8s.helm.v3.Release:
        if spec.chart not in CHARTS:
            raise ValueError(
                f"AddonSpec.chart: {spec.chart!r} is not pinned in "
                f"substrate.components.core.versions.CHARTS; allowed: {sorted(CHARTS)}"
            )
        if spec.service_account is None and (spec.policy_json or spec.managed_policies):
            raise ValueError(
                "AddonSpec.service_account: required when the add-on gets IAM permissions"
            )
        chart = CHARTS[spec.chart]
        depends: list[pulumi.Resource] = list(spec.depends_on)
        created: list[str] = []
        if spec.create_namespace:
            ns = k8s.core.v1.Namespace(
                f"{name}-namespace",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=spec.namespace,
                    labels={**pod_security_labels(spec.pod_security), **spec.namespace_labels},
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            depends.append(ns)
            created.append(spec.namespace)
        if spec.container_defaults is not None:
            depends.append(
                k8s.core.v1.LimitRange(
                    f"{name}-container-defaults",
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        name="container-defaults", namespace=spec.namespace
                    ),
                    spec=k8s.core.v1.LimitRangeSpecArgs(
                        limits=[
                            k8s.core.v1.LimitRangeItemArgs(
                                type="Container",
                                default_request=dict(spec.container_defaults["defaultRequest"]),
                                default=dict(spec.container_defaults["default"]),
                            )
                        ]
                    ),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=depends[-1:]),
                )
            )
        for extra, level in sorted(spec.extra_namespaces.items()):
            depends.append(
                k8s.core.v1.Namespace(
                    f"{name}-{extra}-namespace",
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        name=extra, labels=pod_security_labels(level)
                    ),
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
            created.append(extra)
        self.created_namespaces = tuple(created)
        self.role_arn = None
        if spec.service_account is not None:
            role_args: PodIdentityRoleArgs = {
                "cluster_name": args["cluster_name"],
                "namespace": spec.namespace,
                "service_account": spec.service_account,
                "managed_policies": list(spec.managed_policies),
                "tags": dict(args.get("tags", {})),
            }
            if spec.policy_json is not None:
                role_args["policy_json"] = spec.policy_json
            role = PodIdentityRole(
                f"{name}-pod-identity", role_args, opts=pulumi.ResourceOptions(parent=self)
            )
            self.role_arn = role.role_arn
            depends.append(role)
        release_name = spec.release_name or chart.name
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name=release_name,
            chart=chart.reference,
            version=chart.version,
            repository_opts=None
            if chart.is_oci
            else k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository),
            namespace=spec.namespace,
            create_namespace=False,
            values=merged(spec.values, chart_values(spec.chart, cache))
            if (cache := args.get("image_cache"))
            else dict(spec.values),
            atomic=True,
            cleanup_on_fail=True,
            max_history=10,
            timeout=spec.timeout_seconds,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
        )
        self.chart = chart
        self.namespace = pulumi.Output.from_input(spec.namespace)
        self.namespace_name = spec.namespace
        self.release_name = pulumi.Output.from_input(release_name)
        return self.release

    def _finish(self, extra: Mapping[str, Any] | None = None) -> None:
        self.register_outputs(
            {
                "namespace": self.namespace,
                "releaseName": self.release_name,
                "chart": self.chart.name,
                "chartVersion": self.chart.version,
                "roleArn": self.role_arn,
                **dict(extra or {}),
            }
        )
