"""VPC for an EKS cluster: private node subnets, public LB subnets, NAT, flow logs.

Or, with ``existing``, a pass-through of a VPC the user already has (nothing is created).
"""

import ipaddress
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import NotRequired, Required, TypedDict

import pulumi
import pulumi_aws as aws

from substrate.components.core import iam, validators
from substrate.components.core._args import check_args
from substrate.components.core.aws_context import aws_context
from substrate.components.core.kms_key import customer_key
from substrate.components.core.kms_policies import log_group_key_policy


class NatGateways(StrEnum):
    """How many NAT gateways the VPC gets."""

    SINGLE = "single"
    """One NAT gateway for every AZ (cheaper, one AZ's outage cuts egress)."""
    PER_AZ = "perAz"
    """One NAT gateway per AZ."""


class FlowLogTraffic(StrEnum):
    """Which traffic VPC flow logs record."""

    ALL = "ALL"
    ACCEPT = "ACCEPT"
    REJECT = "REJECT"


class FlowLogsArgs(TypedDict, total=False):
    retention_days: Required[int]
    """CloudWatch Logs retention for the flow-log group."""
    traffic_type: NotRequired[FlowLogTraffic]
    """Traffic to capture (default ALL)."""


class ExistingNetworkArgs(TypedDict, total=False):
    vpc_id: Required[str]
    """The VPC to use."""
    private_subnet_ids: Required[Sequence[str]]
    """Private subnets (nodes, pods, control-plane ENIs), one per AZ."""
    public_subnet_ids: NotRequired[Sequence[str]]
    """Public subnets for internet-facing load balancers."""


class NetworkArgs(TypedDict, total=False):
    cluster_name: Required[str]
    """Cluster the subnets serve: written into the `karpenter.sh/discovery` subnet tag."""
    availability_zones: Required[Sequence[str]]
    """Availability Zones, one private and one public subnet in each."""
    vpc_cidr: NotRequired[str]
    """CIDR of the new VPC (omit with `existing`)."""
    private_subnet_cidrs: NotRequired[Sequence[str]]
    """One private subnet CIDR per AZ, in AZ order."""
    public_subnet_cidrs: NotRequired[Sequence[str]]
    """One public subnet CIDR per AZ, in AZ order."""
    nat_gateways: NotRequired[NatGateways]
    """One NAT gateway per AZ (default) or a single shared one."""
    flow_logs: NotRequired[FlowLogsArgs | None]
    """VPC flow logs to CloudWatch Logs; None disables them."""
    existing: NotRequired[ExistingNetworkArgs]
    """Use an existing VPC instead of creating one."""
    tags: NotRequired[Mapping[str, str]]
    """Tags for every AWS resource created."""
    protect: NotRequired[bool]
    """Protect what cannot be recreated (the VPC, the flow-log group and its key): `protect` and
    `retainOnDelete`, so a destroy or a replacement fails instead of cascading (default false)."""


def _validate(args: NetworkArgs) -> None:
    zones = list(args["availability_zones"])
    if not zones:
        raise ValueError("NetworkArgs.availability_zones: empty; give at least one AZ")
    if "existing" in args:
        if len(args["existing"]["private_subnet_ids"]) != len(zones):
            raise ValueError("NetworkArgs.existing.private_subnet_ids: need one subnet per AZ")
        return
    if "vpc_cidr" not in args:
        raise ValueError("NetworkArgs.vpc_cidr: required unless `existing` is given")
    vpc = ipaddress.IPv4Network(args["vpc_cidr"])
    named: list[tuple[str, ipaddress.IPv4Network]] = []
    for key in ("private_subnet_cidrs", "public_subnet_cidrs"):
        cidrs = list(args.get(key, []))  # type: ignore[arg-type]
        if len(cidrs) != len(zones):
            raise ValueError(f"NetworkArgs.{key}: {len(cidrs)} CIDRs for {len(zones)} AZs")
        for i, cidr in enumerate(cidrs):
            net = ipaddress.IPv4Network(cidr)
            if not net.subnet_of(vpc):
                raise ValueError(f"NetworkArgs.{key}[{i}]: {cidr} is outside {vpc}")
            named.append((f"{key}[{i}]", net))
    clash = validators.overlapping(named)
    if clash:
        raise ValueError(f"NetworkArgs.{clash[1]}: overlaps {clash[0]}")


class Network(pulumi.ComponentResource):
    """Subnets are tagged for the AWS Load Balancer Controller (`kubernetes.io/role/elb`,
    `kubernetes.io/role/internal-elb`) and for Karpenter discovery (private subnets only)."""

    vpc_id: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list[str]]
    public_subnet_ids: pulumi.Output[list[str]]
    private_route_table_ids: pulumi.Output[list[str]]

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__("substrate:network:Network", name, None, opts)
        _validate(args)
        self._name = name
        self._tags = dict(args.get("tags", {}))
        self._child = pulumi.ResourceOptions(parent=self)
        self._kept = pulumi.ResourceOptions(
            parent=self, protect=args.get("protect", False), retain_on_delete=args.get("protect")
        )
        if "existing" in args:
            existing = args["existing"]
            self.vpc_id = pulumi.Output.from_input(existing["vpc_id"])
            self.private_subnet_ids = pulumi.Output.from_input(list(existing["private_subnet_ids"]))
            self.public_subnet_ids = pulumi.Output.from_input(
                list(existing.get("public_subnet_ids", []))
            )
            self.private_route_table_ids = pulumi.Output.from_input([])
        else:
            self._create(
                args,
                args.get("vpc_cidr", ""),
                list(args.get("private_subnet_cidrs", [])),
                list(args.get("public_subnet_cidrs", [])),
            )
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "privateSubnetIds": self.private_subnet_ids,
                "publicSubnetIds": self.public_subnet_ids,
                "privateRouteTableIds": self.private_route_table_ids,
            }
        )

    def _tagged(self, name: str, **extra: str) -> dict[str, str]:
        return {**self._tags, "Name": name, **extra}

    def _create(
        self, args: NetworkArgs, vpc_cidr: str, private_cidrs: list[str], public_cidrs: list[str]
    ) -> None:
        name, child, cluster = self._name, self._child, args["cluster_name"]
        zones = list(args["availability_zones"])
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=self._tagged(f"{cluster}-vpc"),
            opts=self._kept,
        )
        # Adopting the default security group strips all its rules (CIS AWS 5.4).
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=vpc.id,
            tags=self._tagged(f"{cluster}-default-deny"),
            opts=child,
        )
        igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags=self._tagged(f"{cluster}-igw"), opts=child
        )
        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt", vpc_id=vpc.id, tags=self._tagged(f"{cluster}-public"), opts=child
        )
        aws.ec2.Route(
            f"{name}-public-default-route",
            route_table_id=public_rt.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=child,
        )

        public, private, private_rts, nats = [], [], [], []
        per_az = args.get("nat_gateways", "perAz") == "perAz"
        for i, zone in enumerate(zones):
            pub = aws.ec2.Subnet(
                f"{name}-public-{zone}",
                vpc_id=vpc.id,
                availability_zone=zone,
                cidr_block=public_cidrs[i],
                map_public_ip_on_launch=False,
                tags=self._tagged(f"{cluster}-public-{zone}", **{"kubernetes.io/role/elb": "1"}),
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{zone}-rta",
                subnet_id=pub.id,
                route_table_id=public_rt.id,
                opts=child,
            )
            public.append(pub)
            if per_az or i == 0:
                eip = aws.ec2.Eip(
                    f"{name}-nat-{zone}-eip",
                    domain="vpc",
                    tags=self._tagged(f"{cluster}-nat-{zone}"),
                    opts=child,
                )
                nats.append(
                    aws.ec2.NatGateway(
                        f"{name}-nat-{zone}",
                        allocation_id=eip.id,
                        subnet_id=pub.id,
                        tags=self._tagged(f"{cluster}-nat-{zone}"),
                        opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                    )
                )
            priv = aws.ec2.Subnet(
                f"{name}-private-{zone}",
                vpc_id=vpc.id,
                availability_zone=zone,
                cidr_block=private_cidrs[i],
                map_public_ip_on_launch=False,
                tags=self._tagged(
                    f"{cluster}-private-{zone}",
                    **{
                        "kubernetes.io/role/internal-elb": "1",
                        validators.KARPENTER_DISCOVERY_TAG: cluster,
                    },
                ),
                opts=child,
            )
            rt = aws.ec2.RouteTable(
                f"{name}-private-{zone}-rt",
                vpc_id=vpc.id,
                tags=self._tagged(f"{cluster}-private-{zone}"),
                opts=child,
            )
            aws.ec2.Route(
                f"{name}-private-{zone}-default-route",
                route_table_id=rt.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nats[-1].id,
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{zone}-rta", subnet_id=priv.id, route_table_id=rt.id, opts=child
            )
            private.append(priv)
            private_rts.append(rt)

        flow_logs = args.get("flow_logs")
        if flow_logs:
            self._flow_logs(vpc, cluster, flow_logs)
        self.vpc_id = vpc.id
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in private])
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in public])
        self.private_route_table_ids = pulumi.Output.all(*[rt.id for rt in private_rts])

    def _flow_logs(self, vpc: aws.ec2.Vpc, cluster: str, flow_logs: FlowLogsArgs) -> None:
        name, child = self._name, self._child
        ctx = aws_context(self)
        log_group = f"/aws/vpc/{cluster}/flow-logs"
        key = customer_key(
            f"{name}-flow-logs-key",
            description=f"VPC flow logs of {cluster}",
            policy=pulumi.Output.all(ctx.account_id, ctx.partition, ctx.region).apply(
                lambda v: log_group_key_policy(v[0], v[1], v[2], log_group)
            ),
            tags=self._tags,
            opts=self._kept,
        )
        group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=log_group,
            retention_in_days=flow_logs["retention_days"],
            kms_key_id=key.arn,
            tags=self._tags,
            opts=self._kept,
        )
        # aws:SourceAccount and aws:SourceArn (the flow log; its id is not known before the role
        # exists, so a wildcard) against the confused deputy (VPC User Guide, "IAM role for
        # publishing flow logs to CloudWatch Logs").
        role = aws.iam.Role(
            f"{name}-flow-logs-role",
            assume_role_policy=pulumi.Output.all(ctx.account_id, ctx.partition, ctx.region).apply(
                lambda v: iam.service_trust(
                    "vpc-flow-logs.amazonaws.com",
                    v[0],
                    source_arn=f"arn:{v[1]}:ec2:{v[2]}:{v[0]}:vpc-flow-log/*",
                )
            ),
            description=f"VPC flow logs for {cluster}",
            tags=self._tags,
            opts=child,
        )
        policy = pulumi.Output.all(group.arn, ctx.partition, ctx.region, ctx.account_id).apply(
            lambda v: iam.to_json(
                [
                    iam.allow(
                        ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                        [v[0], f"{v[0]}:*"],
                    ),
                    iam.allow(
                        ["logs:DescribeLogGroups"], f"arn:{v[1]}:logs:{v[2]}:{v[3]}:log-group:*"
                    ),
                ]
            )
        )
        aws.iam.RolePolicy(f"{name}-flow-logs-policy", role=role.name, policy=policy, opts=child)
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=vpc.id,
            traffic_type=flow_logs.get("traffic_type", "ALL"),
            log_destination=group.arn,
            log_destination_type="cloud-watch-logs",
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags=self._tagged(f"{cluster}-flow-log"),
            opts=child,
        )
