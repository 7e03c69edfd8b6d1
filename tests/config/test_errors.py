"""Every class of invalid stack file fails with one exact line: key path, value, allowed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import config_error, stack_yaml, typed_config

Mutation = Callable[[dict[str, Any]], None]


def _set(section: str, **values: Any) -> Mutation:
    return lambda c: c[f"substrate:{section}"].update(values)


def _three_to_two_zones(c: dict[str, Any]) -> None:
    net = c["substrate:network"]
    for key in ("availabilityZones", "privateSubnetCidrs", "publicSubnetCidrs"):
        net[key] = net[key][:2]


CASES: list[tuple[str, str, Mutation, str]] = [
    (
        "unknown key suggests the closest",
        "prod",
        _set("cluster", verison="1.35"),
        'substrate:cluster.verison = "1.35": unknown key; did you mean "version"? (allowed: keys '
        "addonVersions, admins, deletionProtection, endpoint, logRetentionDays, name, "
        "optionalAddons, supportType, version)",
    ),
    (
        "unknown section suggests the closest",
        "prod",
        lambda c: c.update({"substrate:netwrok": {}}),
        'substrate:netwrok = {}: unknown key; did you mean "substrate:network"? (allowed: keys '
        "substrate:admission, substrate:agentSimulation, substrate:agents, substrate:bedrock, "
        "substrate:cluster, substrate:deploy, substrate:environment, substrate:identity, "
        "substrate:karpenter, substrate:keda, "
        "substrate:kueue, substrate:network, substrate:nodePools, substrate:observability, "
        "substrate:protection, substrate:storage, substrate:systemNodeGroup, substrate:tags, "
        "substrate:tenants, substrate:workloads)",
    ),
    (
        "unknown namespace",
        "prod",
        lambda c: c.update({"substrat:cluster": {}}),
        "substrat:cluster = {}: is in an unknown config namespace; did you mean "
        '"substrate:cluster"? (allowed: substrate:<section>, aws:region and other provider keys)',
    ),
    (
        "wrong type: unquoted version",
        "prod",
        _set("cluster", version=1.30),
        "substrate:cluster.version = 1.3: is a number, and YAML reads unquoted numbers as numbers "
        "(quote it) (allowed: a string)",
    ),
    (
        "wrong type: boolean",
        "prod",
        _set("cluster", deletionProtection="yes"),
        'substrate:cluster.deletionProtection = "yes": is a string (allowed: true or false)',
    ),
    (
        "version EKS does not offer",
        "prod",
        _set("cluster", version="1.29"),
        'substrate:cluster.version = "1.29": is not a Kubernetes version Amazon EKS offers in '
        'standard support (allowed: "1.34", "1.35", "1.36")',
    ),
    (
        "CIDR that does not parse",
        "prod",
        _set("network", vpcCidr="10.60.0.0/33"),
        "substrate:network.vpcCidr = \"10.60.0.0/33\": does not parse as an IPv4 CIDR ('33' is not "
        'a valid netmask) (allowed: a network address with prefix length, such as "10.0.0.0/16")',
    ),
    (
        "overlapping subnets",
        "prod",
        lambda c: c["substrate:network"]["publicSubnetCidrs"].__setitem__(0, "10.60.1.0/24"),
        'substrate:network.publicSubnetCidrs[0] = "10.60.1.0/24": overlaps '
        "substrate:network.privateSubnetCidrs[0] (10.60.0.0/18) (allowed: subnets that do not "
        "overlap)",
    ),
    (
        "subnet outside the VPC",
        "prod",
        lambda c: c["substrate:network"]["publicSubnetCidrs"].__setitem__(2, "10.61.0.0/24"),
        'substrate:network.publicSubnetCidrs[2] = "10.61.0.0/24": is outside the VPC CIDR '
        "10.60.0.0/16 (allowed: subnets of 10.60.0.0/16)",
    ),
    (
        "production with a public endpoint",
        "prod",
        _set("cluster", endpoint={"publicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}),
        "substrate:cluster.endpoint.publicAccess = true: exposes the API endpoint publicly in a "
        "production environment (allowed: false (private endpoint only) when environment.tier is "
        "production)",
    ),
    (
        "production with fewer than 3 AZs",
        "prod",
        _three_to_two_zones,
        'substrate:network.availabilityZones = ["us-east-1a", "us-east-1b"]: has 2 zones in a '
        "production environment (allowed: at least 3 Availability Zones when environment.tier is "
        "production)",
    ),
    (
        "public access from 0.0.0.0/0",
        "dev",
        lambda c: c["substrate:cluster"]["endpoint"].update(publicAccessCidrs=["0.0.0.0/0"]),
        'substrate:cluster.endpoint.publicAccessCidrs[0] = "0.0.0.0/0": opens the Kubernetes API '
        "endpoint to the whole internet (allowed: specific office/VPN/CI CIDRs such as "
        '"203.0.113.0/24")',
    ),
    (
        "public endpoint without CIDRs",
        "dev",
        lambda c: c["substrate:cluster"]["endpoint"].update(publicAccessCidrs=[]),
        "substrate:cluster.endpoint.publicAccessCidrs = []: is empty while publicAccess is true "
        "(EKS would default to 0.0.0.0/0) (allowed: at least one specific CIDR)",
    ),
    (
        "empty admin list",
        "prod",
        _set("cluster", admins=[]),
        "substrate:cluster.admins = []: is empty (allowed: at least one IAM role or user ARN)",
    ),
    (
        "admin that is not an IAM ARN",
        "prod",
        _set("cluster", admins=["platform-admin"]),
        'substrate:cluster.admins[0] = "platform-admin": is not an IAM role or user ARN (allowed: '
        'an ARN such as "arn:aws:iam::123456789012:role/platform-admin")',
    ),
    (
        "AZ of another Region",
        "prod",
        lambda c: c["substrate:network"]["availabilityZones"].__setitem__(2, "us-west-2c"),
        'substrate:network.availabilityZones[2] = "us-west-2c": is not an Availability Zone of '
        'us-east-1 (allowed: zone names such as "us-east-1a")',
    ),
    (
        "missing Region",
        "prod",
        lambda c: c.pop("aws:region"),
        'aws:region = <missing>: is required (allowed: a Region such as "us-west-2")',
    ),
    (
        "missing required section",
        "prod",
        lambda c: c.pop("substrate:cluster"),
        "substrate:cluster = <missing>: is required (allowed: a mapping with keys version, admins, "
        "name, endpoint, logRetentionDays, deletionProtection, supportType, optionalAddons, "
        "addonVersions)",
    ),
    (
        "value outside an enum",
        "prod",
        _set("network", natGateways="one"),
        'substrate:network.natGateways = "one": is not one of the allowed values (allowed: '
        '"single", "perAz")',
    ),
    (
        "retention CloudWatch rejects",
        "prod",
        _set("cluster", logRetentionDays=100),
        "substrate:cluster.logRetentionDays = 100: is not a retention period CloudWatch Logs "
        "accepts (allowed: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, "
        "1827, 2192, 2557, 2922, 3288, 3653)",
    ),
    (
        "instance type of the wrong architecture",
        "prod",
        _set("systemNodeGroup", instanceTypes=["m7g.large"]),
        'substrate:systemNodeGroup.instanceTypes[0] = "m7g.large": does not match the '
        "AL2023_x86_64_STANDARD architecture (allowed: Graviton types (m7g, c7gn, ...) for ARM_64 "
        "AMIs, x86_64 types otherwise)",
    ),
    (
        "spot system nodes in production",
        "prod",
        _set("systemNodeGroup", capacityType="SPOT"),
        'substrate:systemNodeGroup.capacityType = "SPOT": runs platform controllers on '
        'interruptible capacity in production (allowed: "ON_DEMAND" when environment.tier is '
        "production)",
    ),
    (
        "CIDRs together with an existing VPC",
        "prod",
        _set(
            "network",
            existing={
                "vpcId": "vpc-0123456789abcdef0",
                "privateSubnetIds": ["subnet-0123456789abcdef0"],
            },
        ),
        'substrate:network.vpcCidr = "10.60.0.0/16": cannot be combined with `existing` (the VPC '
        "already exists) (allowed: either the CIDR keys or `existing`, not both)",
    ),
    (
        "desired size outside min..max",
        "dev",
        _set("systemNodeGroup", desiredSize=5),
        "substrate:systemNodeGroup.desiredSize = 5: is outside minSize..maxSize (2..3) (allowed: "
        "minSize <= desiredSize <= maxSize)",
    ),
    (
        "tag key AWS reserves",
        "dev",
        lambda c: c["substrate:tags"].update({"aws:team": "x"}),
        'substrate:tags = {"aws:team": "x", "cost-center": "ai-platform", "owner": '
        "\"platform-team\"}: has tag key 'aws:team' that AWS rejects (allowed: keys of 1-128 "
        "characters not starting with 'aws:')",
    ),
    (
        "too few Kyverno admission controllers in production",
        "prod",
        _set("admission", admissionReplicas=2),
        "substrate:admission.admissionReplicas = 2: leaves admission control without zone "
        "redundancy in production (allowed: at least 3 when environment.tier is production)",
    ),
    (
        "webhook timeout at the API server's maximum",
        "dev",
        _set("admission", webhookTimeoutSeconds=30),
        "substrate:admission.webhookTimeoutSeconds = 30: is out of range (allowed: 1 to 29)",
    ),
    (
        "registry written as a URL",
        "dev",
        _set("admission", allowedRegistries=["https://registry.example.com/team"]),
        'substrate:admission.allowedRegistries[0] = "https://registry.example.com/team": is not '
        'a registry host or repository prefix (allowed: a prefix such as "123456789012.dkr.ecr.'
        'us-east-1.amazonaws.com" or "public.ecr.aws/karpenter" (no scheme, tag or trailing '
        "slash))",
    ),
    (
        "no allowed registry",
        "dev",
        _set("admission", allowedRegistries=[]),
        "substrate:admission.allowedRegistries = []: is empty (allowed: at least one registry)",
    ),
    (
        "system namespace listed as a platform exclusion",
        "dev",
        _set("admission", excludedNamespaces=["karpenter", "kube-system"]),
        'substrate:admission.excludedNamespaces = ["karpenter", "kube-system"]: lists '
        "'kube-system', which is always excluded (allowed: platform namespaces other than "
        "kube-system, kube-node-lease, kube-public)",
    ),
    (
        "Kyverno's namespace listed as a platform exclusion",
        "dev",
        _set("admission", excludedNamespaces=["kyverno"]),
        'substrate:admission.excludedNamespaces[0] = "kyverno": is Kyverno\'s own namespace, '
        "which is always excluded (allowed: other platform namespaces)",
    ),
    (
        "Kyverno in a system namespace",
        "dev",
        _set("admission", namespace="kube-system"),
        'substrate:admission.namespace = "kube-system": is a system namespace (allowed: a '
        'namespace of Kyverno\'s own, such as "kyverno")',
    ),
    (
        "a whole shared public registry",
        "prod",
        _set("admission", allowedRegistries=["public.ecr.aws"]),
        'substrate:admission.allowedRegistries[0] = "public.ecr.aws": is a public registry '
        "anyone can publish to: allowing it allows every image on it (allowed: a repository "
        'namespace on it, such as "public.ecr.aws/<namespace>")',
    ),
    (
        "unknown admission mode",
        "prod",
        _set("admission", mode="Block"),
        'substrate:admission.mode = "Block": is not one of the allowed values (allowed: '
        '"Audit", "Enforce")',
    ),
]


@pytest.mark.parametrize(
    ("stack", "mutate", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_invalid_stack_file_gives_exact_one_line_error(
    stack: str, mutate: Mutation, message: str
) -> None:
    assert config_error(stack, mutate) == message


def test_bring_your_own_vpc_is_accepted_without_cidrs() -> None:
    raw = stack_yaml("prod")
    net = raw["substrate:network"]
    for key in ("vpcCidr", "privateSubnetCidrs", "publicSubnetCidrs"):
        net.pop(key)
    net["existing"] = {
        "vpcId": "vpc-0123456789abcdef0",
        "privateSubnetIds": [
            "subnet-0000000000000000a",
            "subnet-0000000000000000b",
            "subnet-0000000000000000c",
        ],
        # prod's inference tenant takes load-balancer traffic from the public subnets
        "publicSubnetIds": ["subnet-0000000000000000d"],
    }
    cfg = typed_config(raw)
    assert cfg.network.existing is not None
    assert not cfg.network.creates_vpc
