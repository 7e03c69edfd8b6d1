"""What tenant NetworkPolicies name outside the tenants
(substrate.components.workloads.tenant_manifests.NetworkPeers),
resolved from the stack: the subnets of the interface endpoints, the Region's S3 prefix list,
the public subnets, the platform Prometheus and the KubeRay operator. Used by the workloads
layer."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from substrate.components.cluster.vpc_endpoints import endpoint_service_name
from substrate.components.observability.prometheus_stack import MONITORING_NAMESPACE
from substrate.components.workloads.kueue_integrations import KUBERAY, operators_for
from substrate.components.workloads.tenancy import TenantSpec
from substrate.components.workloads.tenant_manifests import NetworkPeers, PodPeer
from substrate.config import PlatformConfig

KUBERAY_OPERATOR = {
    "app.kubernetes.io/name": "kuberay-operator",
    "app.kubernetes.io/component": "kuberay-operator",
}
"""Pod labels of the kuberay-operator chart's Deployment (chart 1.7.0, templates)."""
PROMETHEUS = {"app.kubernetes.io/name": "prometheus"}
"""Label prometheus-operator puts on every Prometheus server pod (ApplicationNameLabelKey)."""


def s3_prefix_list_name(region: str) -> str:
    """The AWS-managed prefix list of S3 in ``region`` (what the gateway endpoint routes)."""
    return endpoint_service_name("s3", region)


def _cidrs(entries: Sequence[Any]) -> list[str]:
    """CIDRs of prefix-list entries (typed results at deploy time, dicts under some mocks)."""
    return sorted(str(e["cidr"] if isinstance(e, Mapping) else e.cidr) for e in entries)


def s3_cidrs(region: str) -> pulumi.Output[list[str]]:
    """The entries of the Region's S3 prefix list, looked up when the program runs."""
    found = aws.ec2.get_managed_prefix_list_output(name=s3_prefix_list_name(region))
    return found.entries.apply(_cidrs)


def _service_address(configs: Sequence[Any]) -> list[str]:
    """The `kubernetes` Service's address: the first of the cluster's Service range. Substrate
    creates IPv4 clusters only (the EKS cluster sets no `ipFamily`, EKS's default is ipv4, and
    `substrate:network` has no IPv6 settings); an IPv6 cluster has no IPv4 range and is refused
    here rather than given a rule for the wrong address."""
    (config,) = configs
    cidr = config["service_ipv4_cidr"] if isinstance(config, Mapping) else config.service_ipv4_cidr
    if not cidr:
        raise ValueError(
            "allow-spark-driver-to-api-server: the cluster has no IPv4 Service range "
            "(kubernetesNetworkConfig.serviceIpv4Cidr); Spark's driver rule supports IPv4 "
            "clusters only"
        )
    return [f"{ipaddress.ip_network(cidr).network_address + 1}/32"]


def kubernetes_service_cidrs(cluster_name: Any) -> pulumi.Output[list[str]]:
    """The `kubernetes` Service's cluster IP as a /32, from the cluster's Service range (EKS
    picks 10.100.0.0/16 or 172.20.0.0/16 when the cluster sets none), read at deploy time."""
    found = aws.eks.get_cluster_output(name=cluster_name)
    return found.kubernetes_network_configs.apply(_service_address)


def _subnet_cidrs(cfg: PlatformConfig, public: bool) -> Any:
    """CIDRs of the VPC's private (or public) subnets: from the stack file when Substrate
    creates the VPC, looked up by subnet id at deploy time in an existing one."""
    net = cfg.network
    if net.existing is None:
        return [str(c) for c in (net.public_subnet_cidrs if public else net.private_subnet_cidrs)]
    ids = net.existing.public_subnet_ids if public else net.existing.private_subnet_ids
    return pulumi.Output.all(*[aws.ec2.get_subnet_output(id=s).cidr_block for s in ids])


def _prometheus(cfg: PlatformConfig) -> PodPeer:
    namespace = (
        MONITORING_NAMESPACE
        if cfg.observability.managed
        else cfg.observability.external_settings.namespace
    )
    return PodPeer(namespace, PROMETHEUS)


def peers(
    cfg: PlatformConfig, specs: Sequence[TenantSpec], cluster_name: Any = None
) -> NetworkPeers:
    """Everything the tenants' policies need, looked up only when some tenant needs it. With
    ``cluster_name``, the Spark tenants' drivers get the `kubernetes` Service's address."""
    nets = [s.network for s in specs]
    spark = cfg.workloads.spark
    sparks = frozenset(spark.tenants) if spark is not None and cluster_name is not None else None
    kuberay = cfg.kueue is not None and KUBERAY in operators_for(cfg.kueue.integrations)
    balanced = any(n.load_balancer_ports and n.load_balancer_cidrs is None for n in nets)
    return NetworkPeers(
        # The interface endpoints live in the private subnets (substrate/layers/endpoints.py).
        endpoint_cidrs=_subnet_cidrs(cfg, False) if any(n.aws_endpoints for n in nets) else (),
        s3_cidrs=s3_cidrs(cfg.region) if any(n.s3 for n in nets) else (),
        public_subnet_cidrs=_subnet_cidrs(cfg, True) if balanced else (),
        kuberay_operator=PodPeer(KUBERAY.namespace, KUBERAY_OPERATOR) if kuberay else None,
        prometheus=_prometheus(cfg),
        tenants=tuple(specs),
        spark_tenants=tuple(sorted(sparks or ())),
        api_server_cidrs=kubernetes_service_cidrs(cluster_name) if sparks else (),
    )
