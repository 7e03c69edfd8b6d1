"""VPC endpoints: service names per Region/partition, 443 from nodes only, restrictive policies."""

from __future__ import annotations

from typing import cast

import pytest

from components.bedrock_policies import AGENT_TAG
from components.vpc_endpoints import VpcEndpoints, VpcEndpointsArgs, endpoint_service_name
from substrate.plan.mocks import digest
from tests.components.test_network import mock_id
from tests.helpers import Resources, policy_json, run_program

ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
ACCOUNT = "123456789012"
CLUSTER_ARN = f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/substrate-prod"
GUARDRAIL = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:guardrail/pr0dguard01x:3"


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


def test_prod_endpoints_accept_https_from_the_cluster_only(prod: Resources) -> None:
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
        }
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
    (stmt,) = policy_json(prod.named("endpoints-sts"))["Statement"]
    assert stmt["Principal"] == "*"
    assert stmt["Condition"] == {"StringEquals": {"aws:PrincipalAccount": "123456789012"}}


def test_bedrock_runtime_endpoint_admits_agent_roles_of_this_cluster(prod: Resources) -> None:
    stmts = policy_json(prod.named("endpoints-bedrock-runtime"))["Statement"]
    invoke = next(s for s in stmts if s["Sid"] == "AgentsInvokeCatalogModels")
    assert invoke["Condition"]["StringEquals"] == {
        "aws:PrincipalAccount": "123456789012",
        "aws:PrincipalTag/eks-cluster-arn": CLUSTER_ARN,
        f"aws:PrincipalTag/{AGENT_TAG}": "true",
        "bedrock:GuardrailIdentifier": GUARDRAIL,
    }
    assert len(invoke["Resource"]) == 9  # 2 profiles, their models in 3 Regions, 1 in-Region model
    assert [s["Effect"] for s in stmts] == ["Allow", "Deny", "Allow"]


def test_dev_has_no_guardrail_statements(dev: Resources) -> None:
    stmts = policy_json(dev.named("endpoints-bedrock-runtime"))["Statement"]
    assert [s["Sid"] for s in stmts] == ["AgentsInvokeCatalogModels"]


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
