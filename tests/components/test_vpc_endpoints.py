"""VPC endpoints: service names per Region/partition, 443 from nodes only, restrictive policies."""

from __future__ import annotations

from typing import cast

import pytest

from substrate.components.cluster.vpc_endpoints import (
    VpcEndpoints,
    VpcEndpointsArgs,
    endpoint_service_name,
)
from substrate.engines.iam import Kind, Policies, Policy, Principal, Request, evaluate
from substrate.plan.mocks import digest
from tests.components.test_network import mock_id
from tests.engines.iam_helpers import doc, plan_of
from tests.helpers import Resources, run_program

ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
ACCOUNT = "123456789012"


@pytest.mark.parametrize(
    ("service", "region", "name"),
    [
        ("bedrock-runtime", "us-east-1", "com.amazonaws.us-east-1.bedrock-runtime"),
        (
            "bedrock-agent-runtime",
            "eu-central-1",
            "com.amazonaws.eu-central-1.bedrock-agent-runtime",
        ),
        ("ecr.dkr", "us-west-2", "com.amazonaws.us-west-2.ecr.dkr"),
        ("s3", "ap-northeast-1", "com.amazonaws.ap-northeast-1.s3"),
        ("bedrock-runtime", "us-gov-west-1", "com.amazonaws.us-gov-west-1.bedrock-runtime"),
        ("sts", "us-gov-east-1", "com.amazonaws.us-gov-east-1.sts"),
    ],
)
def test_endpoint_service_names(service: str, region: str, name: str) -> None:
    assert endpoint_service_name(service, region) == name


def test_china_service_names_are_refused() -> None:
    with pytest.raises(ValueError, match=r"cn-north-1 \(aws-cn\) differ per service"):
        endpoint_service_name("ecr.api", "cn-north-1")


def test_prod_endpoints_accept_https_from_the_cluster_and_the_deploy_runners_only(
    prod: Resources,
) -> None:
    endpoints = {r.name: r for r in prod.of_type(ENDPOINT)}
    assert sorted(endpoints) == [
        "endpoints-bedrock-runtime",
        "endpoints-ecr-api",
        "endpoints-ecr-dkr",
        "endpoints-s3",
        "endpoints-ssm",
        "endpoints-sts",
    ]
    group = prod.named("endpoints-sg")
    cluster = prod.one("eks:index:Cluster")
    assert group.inputs["ingress"] == [
        {
            "description": "HTTPS from the cluster security group",
            "protocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
            "securityGroups": [f"sg-{digest('eks-cluster-sg', cluster.inputs['name'])}"],
        },
        {
            "description": "HTTPS from the deployer's runners",
            "protocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
            "cidrBlocks": ["10.100.0.0/24"],
        },
    ]
    assert "egress" not in group.inputs
    for name, endpoint in endpoints.items():
        if name == "endpoints-s3":
            assert endpoint.inputs["vpcEndpointType"] == "Gateway"
            assert len(endpoint.inputs["routeTableIds"]) == 3
            continue
        assert endpoint.inputs["vpcEndpointType"] == "Interface"
        assert endpoint.inputs["privateDnsEnabled"] is True
        assert len(endpoint.inputs["subnetIds"]) == 3
        assert endpoint.inputs["securityGroupIds"] == [mock_id(SECURITY_GROUP, "endpoints-sg")]


def test_baseline_endpoints_admit_only_this_account(prod: Resources) -> None:
    """Through the sts, ecr, ssm and s3 endpoints: any action by this account's principals;
    another account's principals and anonymous requests are refused by the endpoint policy
    (judged by the IAM evaluator, with an identity policy that allows everything)."""
    plan = plan_of(prod.records, "us-east-1")
    admin = [
        Policy.parse(
            "admin", Kind.IDENTITY, doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
        )
    ]
    ours = Principal.role_session(f"arn:aws:iam::{ACCOUNT}:role/ci", "s")
    theirs = Principal.role_session("arn:aws:iam::999999999999:role/ci", "s")
    for service in ("sts", "ecr.api", "ecr.dkr", "ssm", "s3"):
        endpoint = plan.endpoints[service].policy
        policies = Policies(identity=admin, endpoint=endpoint)
        request = Request(
            ours, "s3:GetObject", "arn:aws:s3:::public-bucket/k", resource_account=ACCOUNT
        )
        assert evaluate(request, policies), service
        for who in (theirs, Principal.anonymous()):
            stranger = Request(who, "s3:GetObject", "arn:aws:s3:::public-bucket/k")
            assert evaluate(stranger, Policies(endpoint=endpoint)).reason == (
                "because no VPC endpoint policy allows the s3:GetObject action"
            ), (service, who.kind)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            {"interface": [{"service": "s3", "policy": "{}"}]},
            "VpcEndpointsArgs.interface[0].service: 's3' is a gateway endpoint",
        ),
        (
            {"interface": [{"service": "sts", "policy": "{}"}, {"service": "sts", "policy": "{}"}]},
            "VpcEndpointsArgs.interface[1].service: 'sts' is listed twice",
        ),
        (
            {"interface": [], "gateway": [{"service": "s3", "policy": "{}"}]},
            "VpcEndpointsArgs.route_table_ids: required with gateway endpoints",
        ),
        (
            {"interface": [{"service": "Bad Name", "policy": "{}"}]},
            "VpcEndpointsArgs.interface[0].service: 'Bad Name' is not a service",
        ),
    ],
)
def test_invalid_arguments_name_the_input(args: dict, message: str) -> None:
    def program() -> None:
        VpcEndpoints(
            "endpoints",
            cast(
                VpcEndpointsArgs,
                {
                    "vpc_id": "vpc-1",
                    "subnet_ids": ["subnet-1"],
                    "source_security_group_id": "sg-1",
                    **args,
                },
            ),
        )

    with pytest.raises(ValueError, match="^" + message.replace("[", r"\[").replace("]", r"\]")):
        run_program(program)
