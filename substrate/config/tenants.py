"""``substrate:tenants``: the teams that share the cluster, keyed by tenant name.

Other sections (agents) reference a tenant by its key and place work in one of its namespaces;
``TenantConfig.spec(name)`` is the typed model (substrate.components.workloads.tenancy.TenantSpec)
every layer uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

from substrate.components.core import validators
from substrate.components.workloads.tenancy import (
    GpuShare,
    NetworkSpec,
    Share,
    TenantPorts,
    TenantSpec,
    memory_bytes,
    quantity,
    weight,
)
from substrate.components.workloads.tenant_quota import namespace_hard
from substrate.config.checks import Memory, Quantity, between, non_empty, object_name, rule, unique
from substrate.config.schema import ConfigError, Invalid, doc
from substrate.config.tenant_storage import (
    STORAGE_DOC,
    WEIGHTS_DOC,
    StorageClassName,
    StorageGrantConfig,
    Weight,
)

Namespace = Annotated[str, rule(validators.dns_label, 63)]
Cidr = Annotated[str, rule(validators.ipv4_cidr)]
IamPrincipalArn = Annotated[str, rule(validators.iam_principal_arn)]
Count = Annotated[int, between(0, 100000)]


def _weight(value: float) -> None:
    if not 0 <= value <= 1000:
        raise Invalid("is out of range", "0 (always last) to 1000")


@dataclass(frozen=True)
class LimitConfig:
    """A borrowing or lending limit on CPU and memory (unset: no limit)."""

    cpu: Count | None = doc("vCPUs.", default=None)
    memory: Memory | None = doc('Memory, e.g. "128Gi".', default=None)


@dataclass(frozen=True)
class ComputeQuotaConfig:
    """CPU and memory quota on Kueue's default flavor (counted for every admitted pod, GPU
    pods included)."""

    cpu: Count = doc("Nominal (guaranteed) vCPUs.")
    memory: Memory = doc('Nominal memory, e.g. "512Gi".')
    borrowing_limit: LimitConfig | None = doc(
        "Most the tenant may borrow above nominal from the cohort's unused quota "
        "(unset: everything the others lend).",
        default=None,
    )
    lending_limit: LimitConfig | None = doc(
        "Most of its unused nominal quota others may borrow (unset: all of it).", default=None
    )


@dataclass(frozen=True)
class GpuQuotaConfig:
    """GPU quota on one GPU pool's ResourceFlavor, in the pool's unit: `nvidia.com/gpu` (whole
    GPUs) or, on a time-sliced pool, `nvidia.com/gpu.shared` (slices)."""

    nominal: Count = doc("Guaranteed GPUs on the pool (0: borrow only).")
    borrowing_limit: Count | None = doc(
        "Most GPUs it may borrow above nominal (unset: all the others lend).", default=None
    )
    lending_limit: Count | None = doc(
        "Most of its idle nominal GPUs others may borrow (unset: all of them).", default=None
    )


@dataclass(frozen=True)
class GangConfig:
    """The largest job the tenant runs as one gang: one Kueue pod set of identical pods that is
    admitted whole or not at all (a Job's pods, one JobSet replicated job). The plan refuses a
    gang Kueue could never admit."""

    pods: Annotated[int, between(1, 10000)] = doc("Pods in the pod set.")
    cpu: Quantity = doc('CPU request per pod, e.g. "32".')
    memory: Memory = doc('Memory request per pod, e.g. "256Gi".')
    gpus: Count = doc("`nvidia.com/gpu` per pod (0: a CPU-only gang).", default=0)

    def totals(self) -> tuple[Decimal, int, int]:
        """CPU cores, memory bytes and GPUs of the whole pod set."""
        return (
            quantity(self.cpu) * self.pods,
            memory_bytes(self.memory) * self.pods,
            self.gpus * self.pods,
        )


@dataclass(frozen=True)
class ContainerDefaultsConfig:
    """LimitRange defaults for containers that set no requests (memory limit = request, R28)."""

    cpu: Quantity = doc("Default CPU request.", default="250m")
    memory: Memory = doc("Default memory request and limit.", default="512Mi")


Port = Annotated[int, between(1, 65535)]
Ports = Annotated[list[Port], non_empty("port"), unique]
TenantName = Annotated[
    str, object_name("is not a valid tenant name (it names the tenant's queues and labels)")
]


@dataclass(frozen=True)
class LoadBalancerIngressConfig:
    """Traffic from load balancers to the tenant's pods."""

    ports: Ports = doc("TCP ports of the tenant's pods that load balancers may open.")
    cidrs: Annotated[list[Cidr], non_empty("CIDR"), unique] | None = doc(
        "Where the load balancers' traffic comes from (their addresses in their subnets); "
        "unset: the VPC's public subnets (internet-facing load balancers). Never the private "
        "subnets, which hold every pod's address.",
        default=None,
    )
    services: Annotated[int, between(1, 100)] = doc(
        "Services of type LoadBalancer each of the tenant's namespaces may hold (ResourceQuota "
        "`services.loadbalancers`; tenants without load-balancer ingress may hold none). Each "
        "must set `allocateLoadBalancerNodePorts: false`: tenants get no node ports.",
        default=1,
    )


@dataclass(frozen=True)
class TenantIngressConfig:
    """Who outside the tenant may open connections to its pods (default: nobody)."""

    monitoring: Annotated[list[Port], unique] = doc(
        "TCP ports on which the platform Prometheus may scrape every pod of the tenant.",
        factory=list,
    )
    tenants: dict[TenantName, Ports] = doc(
        "Other tenant -> TCP ports its pods may open on this tenant's pods (the other tenant "
        "gets the matching egress).",
        factory=dict,
    )
    load_balancers: LoadBalancerIngressConfig | None = doc(
        "Ports load balancers may reach (Services of type LoadBalancer).", default=None
    )


@dataclass(frozen=True)
class TenantNetworkConfig:
    """What the tenant's pods may reach, and who may reach them, beyond default-deny and DNS
    (R30)."""

    allow_within_tenant: bool = doc(
        "Pods in the tenant's namespaces reach each other (distributed training, services).",
        default=True,
    )
    pod_identity_agent: bool = doc(
        "Egress to the EKS Pod Identity agent (169.254.170.23, TCP 80) so pods get AWS "
        "credentials.",
        default=False,
    )
    aws_endpoints: bool = doc(
        "Egress on TCP 443 to the subnets that hold the VPC's interface endpoints (sts, ecr, "
        "ssm, bedrock-runtime, `network.endpoints.additional`) and to no other VPC address.",
        default=False,
    )
    s3: bool = doc(
        "Egress on TCP 443 to the Region's S3 addresses: the AWS-managed prefix list "
        "`com.amazonaws.<region>.s3` (what the S3 gateway endpoint routes), resolved at deploy "
        "time.",
        default=False,
    )
    https_egress_cidrs: Annotated[list[Cidr], unique] = doc(
        "Further egress on TCP 443 (e.g. a partner API through NAT). Never a public subnet or "
        "the whole VPC: `awsEndpoints` reaches the endpoints.",
        factory=list,
    )
    ingress: TenantIngressConfig = doc(
        "Declared ingress from monitoring, other tenants and load balancers.",
        factory=TenantIngressConfig,
    )


@dataclass(frozen=True)
class TenantConfig:
    """A team: its namespaces, admins, quota and priority."""

    namespaces: Annotated[list[Namespace], non_empty("namespace"), unique] = doc(
        "Namespaces Substrate creates for the tenant (PSA restricted, quota, default-deny, a "
        "LocalQueue each)."
    )
    quota: ComputeQuotaConfig = doc("CPU and memory quota.")
    admins: Annotated[list[IamPrincipalArn], unique] = doc(
        "IAM roles or users that administer the tenant's namespaces (EKS access entry -> "
        "Kubernetes group -> RoleBinding of the `substrate:tenant-admin` ClusterRole). Cluster-"
        "wide, only reading the tenant's own ClusterQueue and the ResourceFlavors and Cohorts.",
        factory=list,
    )
    gpu: bool = doc(
        'May run GPU work: namespaces labelled `substrate.io/gpu: "true"`; without it the '
        "tenant gets no GPU quota anywhere (R32).",
        default=False,
    )
    gpus: dict[str, GpuQuotaConfig] = doc(
        "GPU pool (a `substrate:nodePools` key) -> GPU quota; Kueue tries the pools in this order.",
        factory=dict,
    )
    tier: Namespace = doc(
        "Priority tier (a `substrate:kueue.priorityClasses` key): the highest "
        "WorkloadPriorityClass the tenant's work is meant to use.",
        default="batch",
    )
    fair_share_weight: Annotated[float, _weight] = doc(
        "Fair-sharing weight of the tenant's ClusterQueue: its share of borrowable capacity "
        "relative to the others.",
        default=1.0,
    )
    largest_gang: GangConfig | None = doc(
        "The largest gang the tenant's users are told they can run (one pod set). Checked "
        "against what Kueue can admit for the tenant on one flavor.",
        default=None,
    )
    container_defaults: ContainerDefaultsConfig = doc(
        "LimitRange defaults.", factory=ContainerDefaultsConfig
    )
    network: TenantNetworkConfig = doc("NetworkPolicy allowances.", factory=TenantNetworkConfig)
    storage: dict[StorageClassName, StorageGrantConfig] = doc(STORAGE_DOC, factory=dict)
    namespace_weights: dict[Namespace, Weight] = doc(WEIGHTS_DOC, factory=dict)
    models: Annotated[list[Namespace], unique] = doc(
        "Bedrock models (`substrate:bedrock.models` names) the tenant's agents may call; an "
        "agent naming any other model is refused (`ModelNotGrantedError`).",
        factory=list,
    )

    def check(self, path: str) -> None:
        self._check_weights(path)
        if self.gpus and not self.gpu:
            raise ConfigError(
                f"{path}.gpus",
                sorted(self.gpus),
                "grants GPU quota to a tenant without GPU rights",
                "no gpus unless gpu is true",
            )
        q = self.quota
        for key, nominal, lend in (
            ("cpu", q.cpu, q.lending_limit.cpu if q.lending_limit else None),
            ("memory", q.memory, q.lending_limit.memory if q.lending_limit else None),
        ):
            if lend is not None and _amount(key, lend) > _amount(key, nominal):
                raise ConfigError(
                    f"{path}.quota.lendingLimit.{key}",
                    lend,
                    f"is above the nominal quota ({nominal})",
                    "at most the nominal quota (Kueue lends only what the tenant holds)",
                )
        for pool, gpu in self.gpus.items():
            if gpu.lending_limit is not None and gpu.lending_limit > gpu.nominal:
                raise ConfigError(
                    f"{path}.gpus.{pool}.lendingLimit",
                    gpu.lending_limit,
                    f"is above the nominal quota ({gpu.nominal})",
                    "at most the nominal quota (Kueue lends only what the tenant holds)",
                )
        if self.largest_gang is not None and self.largest_gang.gpus and not self.gpu:
            raise ConfigError(
                f"{path}.largestGang.gpus",
                self.largest_gang.gpus,
                "asks for GPUs in a tenant without GPU rights",
                "0 unless gpu is true",
            )
        if self.gpu and not self.gpus:
            raise ConfigError(
                f"{path}.gpus",
                {},
                "is empty while gpu is true, so the tenant could never run GPU work",
                "a GPU quota (nominal or borrowing) on at least one GPU pool, or gpu: false",
            )

    def _check_weights(self, path: str) -> None:
        for ns in self.namespace_weights:
            if ns not in self.namespaces:
                raise ConfigError(
                    f"{path}.namespaceWeights.{ns}",
                    self.namespace_weights[ns],
                    "names a namespace the tenant does not have",
                    f"one of {', '.join(self.namespaces)}",
                )
        if not any(self.namespace_weights.get(ns, 1) for ns in self.namespaces):
            raise ConfigError(
                f"{path}.namespaceWeights",
                self.namespace_weights,
                "weighs every namespace 0, so none could hold anything",
                "at least one namespace with a positive weight",
            )

    def _network_spec(self) -> NetworkSpec:
        net, ingress = self.network, self.network.ingress
        lb = ingress.load_balancers
        return NetworkSpec(
            within_tenant=net.allow_within_tenant,
            pod_identity_agent=net.pod_identity_agent,
            https_cidrs=tuple(net.https_egress_cidrs),
            aws_endpoints=net.aws_endpoints,
            s3=net.s3,
            monitoring_ports=tuple(ingress.monitoring),
            from_tenants=tuple(
                TenantPorts(t, tuple(p)) for t, p in sorted(ingress.tenants.items())
            ),
            load_balancer_ports=tuple(lb.ports) if lb else (),
            load_balancer_cidrs=tuple(lb.cidrs) if lb and lb.cidrs is not None else None,
            load_balancer_services=lb.services if lb else 0,
        )

    def quota_by_namespace(
        self, spec: TenantSpec, everyone: Sequence[TenantSpec], units: Mapping[str, str]
    ) -> dict[str, dict[str, str]]:
        """Each namespace's ResourceQuota `hard`: the tenant's ceiling split by weight
        (substrate.components.workloads.tenant_quota)."""
        grants = {c: g.grant() for c, g in self.storage.items()}
        return namespace_hard(spec, everyone, units, grants, self.namespace_weights)

    def spec(self, name: str) -> TenantSpec:
        """The typed tenant model the layers and components use."""
        q = self.quota
        borrow = q.borrowing_limit or LimitConfig()
        lend = q.lending_limit or LimitConfig()
        return TenantSpec(
            name=name,
            namespaces=tuple(self.namespaces),
            admins=tuple(self.admins),
            gpu=self.gpu,
            tier=self.tier,
            fair_share_weight=weight(self.fair_share_weight),
            cpu=Share(q.cpu, borrow.cpu, lend.cpu),
            memory=Share(
                memory_bytes(q.memory),
                None if borrow.memory is None else memory_bytes(borrow.memory),
                None if lend.memory is None else memory_bytes(lend.memory),
            ),
            gpus=tuple(
                GpuShare(pool, Share(g.nominal, g.borrowing_limit, g.lending_limit))
                for pool, g in self.gpus.items()
            ),
            container_cpu=self.container_defaults.cpu,
            container_memory=self.container_defaults.memory,
            network=self._network_spec(),
        )


def _amount(key: str, value: int | str | None) -> int:
    if value is None:
        return 0
    return memory_bytes(str(value)) if key == "memory" else int(value)


Tenants = dict[TenantName, TenantConfig]
