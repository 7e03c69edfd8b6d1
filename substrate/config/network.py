"""``substrate:network``: a new VPC laid out per AZ, or an existing VPC and subnets."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Annotated, Literal

from substrate.components.core import validators
from substrate.config.checks import non_empty, rule, unique
from substrate.config.schema import ConfigError, Invalid, doc


def _aws_id(prefix: str) -> Callable[[str], None]:
    pattern = re.compile(rf"^{prefix}-[0-9a-f]{{8}}([0-9a-f]{{9}})?$")

    def check(value: str) -> None:
        if not pattern.match(value):
            raise Invalid(f"is not a {prefix} id", f'an id such as "{prefix}-0123456789abcdef0"')

    return check


VpcId = Annotated[str, _aws_id("vpc")]
SubnetId = Annotated[str, _aws_id("subnet")]
RouteTableId = Annotated[str, _aws_id("rtb")]
SecurityGroupId = Annotated[str, _aws_id("sg")]


@dataclass(frozen=True)
class ExistingNetworkConfig:
    """Bring your own VPC: Substrate tags nothing and creates no subnets, NAT or routes."""

    vpc_id: VpcId = doc("The VPC to place the cluster in.")
    private_subnet_ids: Annotated[list[SubnetId], non_empty("subnet id"), unique] = doc(
        "Private subnets for nodes, pods and the control-plane ENIs, one per AZ, in the order of "
        "`availabilityZones`. They must already carry `karpenter.sh/discovery: <cluster>` and "
        "`kubernetes.io/role/internal-elb: 1`."
    )
    public_subnet_ids: Annotated[list[SubnetId], unique] = doc(
        "Public subnets for internet-facing load balancers (may be empty).", factory=list
    )
    private_route_table_ids: Annotated[list[RouteTableId], unique] = doc(
        "Route tables of the private subnets: the S3 gateway endpoint is added to them when "
        "`endpoints.baseline` is true.",
        factory=list,
    )


@dataclass(frozen=True)
class FlowLogsConfig:
    """VPC flow logs to CloudWatch Logs, in a group encrypted with its own customer managed key,
    written by a role only VPC Flow Logs of this account can assume."""

    enabled: bool = doc("Capture flow logs for the VPC Substrate creates.", default=True)
    retention_days: Annotated[int, rule(validators.log_retention_days)] = doc(
        "How long CloudWatch keeps flow logs.", default=90
    )
    traffic_type: Literal["ALL", "ACCEPT", "REJECT"] = doc(
        "Which traffic is logged.", default="ALL"
    )


@dataclass(frozen=True)
class EndpointsConfig:
    """VPC endpoints for AWS APIs, reachable on 443 from the cluster's nodes only (R24)."""

    baseline: bool | None = doc(
        "Create the baseline endpoints: `sts`, `ecr.api`, `ecr.dkr`, `ssm` (interface) and "
        "`s3` (gateway), each with a policy admitting only this account's principals (the S3 "
        "gateway also admits anyone to read the Region's ECR layer bucket, for image pulls). "
        "Null: only when Substrate creates the VPC.",
        default=None,
    )
    additional: Annotated[list[Annotated[str, rule(validators.endpoint_service)]], unique] = doc(
        "More interface endpoints with the same policy, e.g. `logs`, `ec2`, `sqs`, `eks-auth`.",
        factory=list,
    )

    def creates(self, creates_vpc: bool) -> bool:
        return creates_vpc if self.baseline is None else self.baseline


@dataclass(frozen=True)
class NetworkConfig:
    """Network layout. Either the CIDR keys (Substrate creates the VPC) or `existing`."""

    availability_zones: Annotated[list[str], non_empty("Availability Zone"), unique] = doc(
        "Availability Zones to span, e.g. [us-west-2a, us-west-2b, us-west-2c]."
    )
    vpc_cidr: IPv4Network | None = doc("CIDR of the VPC Substrate creates.", default=None)
    private_subnet_cidrs: list[IPv4Network] = doc(
        "One private subnet per AZ (nodes and pods; size them for VPC CNI pod IPs).", factory=list
    )
    public_subnet_cidrs: list[IPv4Network] = doc(
        "One public subnet per AZ (load balancers and NAT gateways only).", factory=list
    )
    nat_gateways: Literal["single", "perAz"] = doc(
        "`single` shares one NAT gateway (cheaper, one AZ of failure); `perAz` puts one in each "
        "AZ so losing an AZ does not cut egress for the others.",
        default="perAz",
    )
    flow_logs: FlowLogsConfig = doc("VPC flow logs.", factory=FlowLogsConfig)
    existing: ExistingNetworkConfig | None = doc(
        "Use an existing VPC and subnets instead of creating them.", default=None
    )
    endpoints: EndpointsConfig = doc("VPC endpoints for AWS APIs.", factory=EndpointsConfig)

    @property
    def creates_vpc(self) -> bool:
        return self.existing is None

    def check(self, path: str) -> None:
        zones = len(self.availability_zones)
        if self.existing is not None:
            self._check_existing(path, zones)
            return
        if self.vpc_cidr is None:
            raise ConfigError(
                f"{path}.vpcCidr",
                None,
                "is required when `existing` is not set",
                'an IPv4 CIDR such as "10.40.0.0/16"',
            )
        for key, cidrs in (
            ("privateSubnetCidrs", self.private_subnet_cidrs),
            ("publicSubnetCidrs", self.public_subnet_cidrs),
        ):
            if len(cidrs) != zones:
                raise ConfigError(
                    f"{path}.{key}",
                    [str(c) for c in cidrs],
                    f"has {len(cidrs)} entries for {zones} availability zones",
                    f"exactly one CIDR per zone ({zones})",
                )
            for i, cidr in enumerate(cidrs):
                if not cidr.subnet_of(self.vpc_cidr):
                    raise ConfigError(
                        f"{path}.{key}[{i}]",
                        str(cidr),
                        f"is outside the VPC CIDR {self.vpc_cidr}",
                        f"subnets of {self.vpc_cidr}",
                    )
        named = [
            (f"{path}.privateSubnetCidrs[{i}]", c) for i, c in enumerate(self.private_subnet_cidrs)
        ]
        named += [
            (f"{path}.publicSubnetCidrs[{i}]", c) for i, c in enumerate(self.public_subnet_cidrs)
        ]
        clash = validators.overlapping(named)
        if clash is not None:
            first, second = clash
            cidrs = dict(named)
            raise ConfigError(
                second,
                str(cidrs[second]),
                f"overlaps {first} ({cidrs[first]})",
                "subnets that do not overlap",
            )

    def _check_existing(self, path: str, zones: int) -> None:
        assert self.existing is not None
        for key, value in (
            ("vpcCidr", self.vpc_cidr),
            ("privateSubnetCidrs", self.private_subnet_cidrs),
            ("publicSubnetCidrs", self.public_subnet_cidrs),
        ):
            if value:
                shown = [str(v) for v in value] if isinstance(value, list) else str(value)
                raise ConfigError(
                    f"{path}.{key}",
                    shown,
                    "cannot be combined with `existing` (the VPC already exists)",
                    "either the CIDR keys or `existing`, not both",
                )
        if self.endpoints.baseline and not self.existing.private_route_table_ids:
            raise ConfigError(
                f"{path}.existing.privateRouteTableIds",
                [],
                "is empty while endpoints.baseline is true (the S3 gateway endpoint needs them)",
                "the private subnets' route table ids, or endpoints.baseline: false",
            )
        subnets = self.existing.private_subnet_ids
        if len(subnets) != zones:
            raise ConfigError(
                f"{path}.existing.privateSubnetIds",
                subnets,
                f"has {len(subnets)} subnets for {zones} availability zones",
                f"one private subnet per zone ({zones})",
            )
