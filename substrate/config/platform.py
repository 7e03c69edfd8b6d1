"""The root of a stack's configuration and the one entry point that parses it.

``load_config(raw)`` takes the stack's config exactly as Pulumi hands it to a program: a flat
mapping of ``namespace:key`` to strings, structured values JSON-encoded. ``substrate plan``
converts the stack file to that shape first (``stack_file_config``), so both paths parse the same
strings with the same code.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, get_type_hints

from substrate.components.cluster import image_cache
from substrate.components.core import validators
from substrate.config.admission import AdmissionConfig
from substrate.config.agent_checks import check_agents
from substrate.config.agent_simulation import AgentSimulationConfig, check_agent_simulation
from substrate.config.agents import Agents
from substrate.config.bedrock import BedrockConfig, check_bedrock
from substrate.config.capacity_checks import check_capacity
from substrate.config.cluster import ClusterConfig, SystemNodeGroupConfig
from substrate.config.deploy import DeployConfig, ProtectionConfig, check_deploy
from substrate.config.environment import EnvironmentConfig, Tags
from substrate.config.environment_checks import check_environment
from substrate.config.identity import IdentityConfig
from substrate.config.karpenter import KarpenterConfig
from substrate.config.keda import KedaConfig
from substrate.config.kueue import KueueConfig
from substrate.config.network import NetworkConfig
from substrate.config.network_checks import check_tenant_network
from substrate.config.node_pools import NodePools
from substrate.config.observability import ObservabilityConfig
from substrate.config.schema import (
    MISSING_VALUE,
    ConfigError,
    describe,
    doc,
    parse,
    section_keys,
    suggest,
)
from substrate.config.spark_checks import check_spark
from substrate.config.storage import StorageConfig
from substrate.config.storage_checks import check_storage
from substrate.config.tenant_quota_checks import check_namespace_quotas
from substrate.config.tenants import Tenants
from substrate.config.workload_checks import check_workloads
from substrate.config.workloads import SPARK_INTEGRATION, WorkloadsConfig
from substrate.jsonvalues import decode_json_string

NAMESPACE = "substrate"
# Other namespaces a stack file may carry: provider configuration passed through untouched.
PASSTHROUGH_NAMESPACES = ("aws", "kubernetes", "pulumi")


@dataclass(frozen=True)
class PlatformConfig:
    """Everything a stack file says, typed. Built once, at the edge; read-only afterwards."""

    environment: EnvironmentConfig = doc("Environment name and tier.")
    network: NetworkConfig = doc("VPC and subnets, or an existing VPC.")
    cluster: ClusterConfig = doc("EKS control plane.")
    identity: IdentityConfig = doc("Workload identity (SPIRE); the trust domain is required.")
    deploy: DeployConfig = doc(
        "Who deploys the stack (CI runners, deploy and preview roles) and how they reach the "
        "cluster's API."
    )
    system_node_group: SystemNodeGroupConfig = doc(
        "Managed node group for platform controllers.", factory=SystemNodeGroupConfig
    )
    storage: StorageConfig = doc("StorageClasses.", factory=StorageConfig)
    protection: ProtectionConfig = doc(
        "Protection of what cannot be recreated.", factory=ProtectionConfig
    )
    tags: Tags = doc(
        "Tags added to every AWS resource (merged over Substrate's own).", factory=dict
    )
    observability: ObservabilityConfig = doc(
        "GPU telemetry, monitoring stack, alerts.", factory=ObservabilityConfig
    )
    region: str = doc("From `aws:region`.", default="")
    admission: AdmissionConfig = doc(
        "Kyverno admission control and the Substrate policy set.", factory=AdmissionConfig
    )
    karpenter: KarpenterConfig | None = doc(
        "Karpenter controller and EC2NodeClasses (absent: no Karpenter).", default=None
    )
    node_pools: NodePools = doc("Karpenter NodePools by name.", factory=dict)
    bedrock: BedrockConfig | None = doc(
        "Amazon Bedrock model catalog, guardrail, endpoints and invocation logging (absent: "
        "no Bedrock access).",
        default=None,
    )
    kueue: KueueConfig | None = doc(
        "Kueue: job queueing, GPU quota and fair sharing (absent: no Kueue, no tenants).",
        default=None,
    )
    keda: KedaConfig | None = doc("KEDA: event-driven autoscaling (absent: no KEDA).", default=None)
    tenants: Tenants = doc("Tenants (teams) by name.", factory=dict)
    agents: Agents = doc(
        "Long-running stateful agents by name (StatefulSets in their tenant's namespace).",
        factory=dict,
    )
    agent_simulation: AgentSimulationConfig | None = doc(
        "A namespace where a tenant's CI runs its agents on injected memory with the agents' "
        "own model grants (absent: none).",
        default=None,
    )
    workloads: WorkloadsConfig = doc(
        "Optional workload operators (the Spark Operator).", factory=WorkloadsConfig
    )

    @property
    def integrations(self) -> tuple[str, ...]:
        """The Kueue integrations Kueue runs with: `substrate:kueue.integrations`, plus the
        SparkApplication integration when `substrate:workloads.spark` is set."""
        if self.kueue is None:
            return ()
        listed = tuple(self.kueue.integrations)
        if self.workloads.spark is not None and SPARK_INTEGRATION not in listed:
            return (*listed, SPARK_INTEGRATION)
        return listed

    @property
    def cluster_name(self) -> str:
        return self.cluster.name or f"substrate-{self.environment.name}"

    def _check_image_cache(self) -> None:
        registries = self.admission.allowed_registries
        longest = image_cache.longest_environment()
        name = self.environment.name
        registry = image_cache.account_registry(registries, self.region)
        # Without the account registry there is no cache: the secrets go unused.
        for host, arn in sorted(self.admission.pull_through_credentials.items()):
            problem = (
                image_cache.credential_problem(arn, registry, self.region) if registry else None
            )
            if problem:
                raise ConfigError(
                    f"substrate:admission.pullThroughCredentials.{host}",
                    arn,
                    problem,
                    f"arn:<partition>:secretsmanager:{self.region}:<account>:secret:"
                    f"{image_cache.SECRET_PREFIX}<name>",
                )
        if registry and len(name) > longest:
            raise ConfigError(
                "substrate:environment.name",
                name,
                f"is too long for the ECR pull-through cache prefixes of the platform images "
                f'("{name}/ecr-public" exceeds ECR\'s 30 characters)',
                f"at most {longest} characters",
            )

    def check(self, path: str) -> None:
        """Rules spanning sections: production guardrails and zones in the stack's Region."""
        del path
        for i, zone in enumerate(self.network.availability_zones):
            problem = validators.availability_zone(zone, self.region)
            if problem:
                raise ConfigError(
                    f"substrate:network.availabilityZones[{i}]",
                    zone,
                    problem.problem,
                    problem.allowed,
                )
        check_deploy(self)
        self._check_image_cache()
        check_capacity(self)
        check_bedrock(self)
        check_workloads(self)
        check_tenant_network(self)
        check_spark(self)
        check_agents(self)
        check_namespace_quotas(self)
        check_agent_simulation(self)
        check_storage(self)
        if not self.environment.production:
            return
        zones = self.network.availability_zones
        if len(zones) < 3:
            raise ConfigError(
                "substrate:network.availabilityZones",
                zones,
                f"has {len(zones)} zones in a production environment",
                "at least 3 Availability Zones when environment.tier is production",
            )
        if self.cluster.endpoint.public_access:
            raise ConfigError(
                "substrate:cluster.endpoint.publicAccess",
                True,
                "exposes the API endpoint publicly in a production environment",
                "false (private endpoint only) when environment.tier is production",
            )
        if self.system_node_group.capacity_type != "ON_DEMAND":
            raise ConfigError(
                "substrate:systemNodeGroup.capacityType",
                self.system_node_group.capacity_type,
                "runs platform controllers on interruptible capacity in production",
                '"ON_DEMAND" when environment.tier is production',
            )
        if self.system_node_group.min_size < 2:
            raise ConfigError(
                "substrate:systemNodeGroup.minSize",
                self.system_node_group.min_size,
                "leaves platform controllers on a single node in production",
                "at least 2 when environment.tier is production",
            )
        self.admission.check_production("substrate:admission")
        unpinned = [a for a in self.cluster.addons if a not in self.cluster.addon_versions]
        if unpinned:
            raise ConfigError(
                "substrate:cluster.addonVersions",
                dict(self.cluster.addon_versions),
                f"leaves {', '.join(unpinned)} unpinned in a production environment (EKS would "
                "install its current default, which a later deploy can silently change)",
                "a version for every EKS managed add-on, from `aws eks describe-addon-versions "
                f"--kubernetes-version {self.cluster.version} --addon-name <name>`",
            )


def sections() -> dict[str, dataclasses.Field[Any]]:
    """``substrate:<key>`` sections a stack file may set (everything but the Region)."""
    return {k: f for k, f in section_keys(PlatformConfig).items() if k != "region"}


def load_config(
    raw: Mapping[str, Any], *, stack: str | None = None, stacks: Sequence[str] = ()
) -> PlatformConfig:
    """Parse a stack's config (Pulumi's flat ``ns:key -> string`` form) into PlatformConfig.
    Given the stack's name and the project's ``stacks``, also refuse values that name another
    environment (substrate.config.environment_checks)."""
    keys = sections()
    known = [f"{NAMESPACE}:{k}" for k in keys]
    values: dict[str, Any] = {}
    for full_key in sorted(raw):
        namespace, _, key = full_key.partition(":")
        if namespace in PASSTHROUGH_NAMESPACES:
            continue
        value = section_value(raw[full_key])
        if namespace != NAMESPACE or not key:
            hint = suggest(full_key, known)
            raise ConfigError(
                full_key,
                value,
                "is in an unknown config namespace"
                + (hint.removeprefix("unknown key") if "did you mean" in hint else ""),
                "substrate:<section>, aws:region and other provider keys",
            )
        if key not in keys:
            raise ConfigError(
                full_key,
                value,
                suggest(full_key, known),
                "keys " + ", ".join(f"substrate:{k}" for k in sorted(keys)),
            )
        values[key] = value
    region = raw.get("aws:region")
    if region is None:
        raise ConfigError(
            "aws:region", MISSING_VALUE, "is required", 'a Region such as "us-west-2"'
        )
    problem = validators.region(str(region))
    if problem:
        raise ConfigError("aws:region", region, problem.problem, problem.allowed)

    hints = get_type_hints(PlatformConfig, include_extras=True)
    parsed: dict[str, Any] = {"region": str(region)}
    for key, field in keys.items():
        path = f"{NAMESPACE}:{key}"
        if key in values:
            parsed[field.name] = parse(hints[field.name], values[key], path)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ConfigError(path, MISSING_VALUE, "is required", describe(hints[field.name]))
    config = PlatformConfig(**parsed)
    config.check(NAMESPACE)
    if stack is not None:
        check_environment(config, stack, stacks)
    return config


def section_value(value: Any) -> Any:
    """A `substrate:<section>` value as the stack file wrote it. Pulumi hands the program every
    value as a string (objects and lists as JSON); sections are structured, so a scalar written
    for one is read back as the JSON scalar it was (`false` is a boolean, `3` a number)."""
    decoded = decode_json_string(value)
    if isinstance(decoded, str):
        try:
            scalar = json.loads(decoded)
        except json.JSONDecodeError:
            return decoded
        if scalar is None or isinstance(scalar, bool | int | float):
            return scalar
    return decoded


def stack_file_config(config: Mapping[str, Any]) -> dict[str, str]:
    """The ``config:`` block of a stack file as the Pulumi CLI passes it to the program."""
    out: dict[str, str] = {}
    for key, value in config.items():
        if isinstance(value, dict | list):
            out[str(key)] = json.dumps(value)
        elif isinstance(value, bool):
            out[str(key)] = "true" if value else "false"
        else:
            out[str(key)] = str(value)
    return out
