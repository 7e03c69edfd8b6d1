"""Network: subnets per AZ, tags for load balancers and Karpenter, NAT layout, flow logs."""

from __future__ import annotations

from typing import cast

import pytest

from substrate.components.cluster.network import Network, NetworkArgs
from substrate.plan.mocks import EC2_ID_PREFIX, digest
from tests.helpers import Resources, policy_json, run_program

SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"
ROUTE = "aws:ec2/route:Route"


def test_private_subnets_carry_karpenter_discovery_and_internal_elb_tags(prod: Resources) -> None:
    private = [s for s in prod.of_type(SUBNET) if "-private-" in s.name]
    assert [s.inputs["availabilityZone"] for s in private] == [
        "us-east-1a",
        "us-east-1b",
        "us-east-1c",
    ]
    for subnet in private:
        assert subnet.inputs["tags"]["karpenter.sh/discovery"] == "substrate-prod"
        assert subnet.inputs["tags"]["kubernetes.io/role/internal-elb"] == "1"
        assert subnet.inputs["mapPublicIpOnLaunch"] is False
    assert [s.inputs["cidrBlock"] for s in private] == [
        "10.60.0.0/18",
        "10.60.64.0/18",
        "10.60.128.0/18",
    ]


def test_public_subnets_are_for_load_balancers_only(prod: Resources) -> None:
    public = [s for s in prod.of_type(SUBNET) if "-public-" in s.name]
    assert len(public) == 3
    for subnet in public:
        assert subnet.inputs["tags"]["kubernetes.io/role/elb"] == "1"
        assert "karpenter.sh/discovery" not in subnet.inputs["tags"]
        assert subnet.inputs["mapPublicIpOnLaunch"] is False


def test_prod_has_a_nat_gateway_per_az_and_each_zone_routes_to_its_own(prod: Resources) -> None:
    nats = {n.name: n for n in prod.of_type(NAT)}
    assert sorted(nats) == [
        "network-nat-us-east-1a",
        "network-nat-us-east-1b",
        "network-nat-us-east-1c",
    ]
    for zone in ("us-east-1a", "us-east-1b", "us-east-1c"):
        nat = nats[f"network-nat-{zone}"]
        assert nat.inputs["subnetId"] == mock_id(SUBNET, f"network-public-{zone}")
        route = prod.named(f"network-private-{zone}-default-route")
        assert route.inputs["destinationCidrBlock"] == "0.0.0.0/0"
        assert route.inputs["natGatewayId"] == mock_id(NAT, nat.name)


def test_dev_shares_one_nat_gateway(dev: Resources) -> None:
    nats = dev.of_type(NAT)
    assert [n.name for n in nats] == ["network-nat-us-west-2a"]
    routes = [r for r in dev.of_type(ROUTE) if "-private-" in r.name]
    assert len(routes) == 2
    assert len({r.inputs["natGatewayId"] for r in routes}) == 1


def test_default_security_group_is_adopted_with_no_rules(prod: Resources) -> None:
    sg = prod.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert "ingress" not in sg.inputs and "egress" not in sg.inputs


def test_flow_logs_go_to_a_retained_group_with_a_scoped_role(prod: Resources) -> None:
    group = prod.named("network-flow-logs")
    assert group.inputs["name"] == "/aws/vpc/substrate-prod/flow-logs"
    assert group.inputs["retentionInDays"] == 365
    flow = prod.one("aws:ec2/flowLog:FlowLog")
    assert flow.inputs["trafficType"] == "ALL"
    doc = policy_json(prod.named("network-flow-logs-policy"))
    resources = [
        r
        for s in doc["Statement"]
        for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
    ]
    assert "*" not in resources
    trust = policy_json(prod.named("network-flow-logs-role"), "assumeRolePolicy")
    assert trust["Statement"][0]["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    # VPC User Guide, "IAM role for publishing flow logs to CloudWatch Logs": aws:SourceAccount
    # and aws:SourceArn (the flow log; a wildcard id, since the role exists first).
    assert trust["Statement"][0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": "arn:aws:ec2:us-east-1:123456789012:vpc-flow-log/*"},
    }
    # The group is encrypted with its own customer managed key, usable by CloudWatch Logs for
    # this one group only.
    key = prod.named("network-flow-logs-key")
    assert group.inputs["kmsKeyId"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    assert key.inputs["enableKeyRotation"] is True
    (logs,) = [
        s
        for s in policy_json(key)["Statement"]
        if s.get("Principal") == {"Service": "logs.us-east-1.amazonaws.com"}
    ]
    assert logs["Condition"] == {
        "ArnEquals": {
            "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:123456789012:"
            "log-group:/aws/vpc/substrate-prod/flow-logs"
        }
    }


def test_existing_vpc_creates_nothing() -> None:
    def program() -> None:
        Network(
            "net",
            {
                "cluster_name": "c",
                "availability_zones": ["us-west-2a"],
                "existing": {
                    "vpc_id": "vpc-0123456789abcdef0",
                    "private_subnet_ids": ["subnet-0123456789abcdef0"],
                },
            },
        )

    records = Resources(run_program(program))
    assert [r.type for r in records.records] == ["substrate:index:Network"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            {"private_subnet_cidrs": ["10.0.0.0/24"], "public_subnet_cidrs": ["10.0.0.128/25"]},
            "NetworkArgs.public_subnet_cidrs[0]: overlaps private_subnet_cidrs[0]",
        ),
        (
            {"private_subnet_cidrs": ["10.1.0.0/24"], "public_subnet_cidrs": ["10.0.1.0/24"]},
            "NetworkArgs.private_subnet_cidrs[0]: 10.1.0.0/24 is outside 10.0.0.0/16",
        ),
        (
            {"private_subnet_cidrs": [], "public_subnet_cidrs": ["10.0.1.0/24"]},
            "NetworkArgs.private_subnet_cidrs: 0 CIDRs for 1 AZs",
        ),
    ],
)
def test_invalid_arguments_name_the_input(args: dict, message: str) -> None:
    def program() -> None:
        Network(
            "net",
            cast(
                NetworkArgs,
                {
                    "cluster_name": "c",
                    "availability_zones": ["us-west-2a"],
                    "vpc_cidr": "10.0.0.0/16",
                    **args,
                },
            ),
        )

    with pytest.raises(ValueError, match="^" + message.replace("[", r"\[").replace("]", r"\]")):
        run_program(program)


def mock_id(typ: str, name: str) -> str:
    """The physical id the plan's mocks give a resource (what other inputs refer to)."""
    return f"{EC2_ID_PREFIX[typ]}-{digest(typ, name)}"
