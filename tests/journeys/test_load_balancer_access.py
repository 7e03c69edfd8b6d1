"""Journeys: the AWS Load Balancer Controller's AWS access, as the IAM evaluator judges its Pod
Identity session (the plan's role, the controller's reference policy) on the stacks that turn
the controller on (substrate:cluster.optionalAddons)."""

from __future__ import annotations

from functools import cache

import pytest

from substrate.components.cluster.load_balancer_controller import (
    CLUSTER_TAG,
    NAMESPACE,
    SERVICE_ACCOUNT,
)
from substrate.components.core.validators import partition_of
from substrate.engines import aws_plan
from substrate.engines.iam import Decision, Policies, Principal, Request, evaluate
from substrate.plan.mocks import ACCOUNT_ID
from tests.conftest import planned
from tests.helpers import STACKS, stack_yaml, typed_config
from tests.journeys.journey import journey

DOC = "docs/deploy.md#load-balancers-the-aws-load-balancer-controller"


def _enabled(stack: str) -> bool:
    addons = typed_config(stack_yaml(stack)).cluster.optional_addons
    return "aws-load-balancer-controller" in addons


ENABLED = [s for s in STACKS if _enabled(s)]


@cache
def _plan(stack: str) -> aws_plan.AwsPlan:
    cfg = typed_config(stack_yaml(stack))
    return aws_plan.from_records(
        planned(stack).records,
        partition=partition_of(cfg.region),
        region=cfg.region,
        account=ACCOUNT_ID,
    )


def _controller(stack: str) -> Principal:
    plan = _plan(stack)
    association = plan.association(NAMESPACE, SERVICE_ACCOUNT)
    return plan.pod_principal(association, "aws-load-balancer-controller-0", "uid-lbc-0")


def _decide(stack: str, action: str, resource: str, **context: str) -> Decision:
    plan = _plan(stack)
    who = _controller(stack)
    assert who.role_arn is not None
    policies = Policies(identity=plan.identity_policies(plan.role(who.role_arn)))
    return evaluate(Request(who, action, resource, context), policies)


def _arn(stack: str, kind: str) -> str:
    plan = _plan(stack)
    prefix = f"arn:{plan.partition}:elasticloadbalancing:{plan.region}:{plan.account}"
    return {
        "alb": f"{prefix}:loadbalancer/app/k8s-web/50dc6c495c0c9188",
        "tg": f"{prefix}:targetgroup/k8s-web-80/73e2d6bc24d8a067",
        "sg": f"arn:{plan.partition}:ec2:{plan.region}:{plan.account}:security-group/sg-0abc",
    }[kind]


def _other_account(stack: str) -> str:
    return _arn(stack, "alb").replace(f":{_plan(stack).account}:", ":999999999999:")


def test_stacks_choose_the_controller() -> None:
    assert ENABLED and set(ENABLED) < set(STACKS)
    for stack in STACKS:
        roles = [
            r
            for r in planned(stack).records
            if r.type == "aws:eks/podIdentityAssociation:PodIdentityAssociation"
            and r.inputs.get("serviceAccount") == SERVICE_ACCOUNT
        ]
        assert bool(roles) == (stack in ENABLED), stack


@journey(
    user="the AWS Load Balancer Controller, reconciling an Ingress of class alb",
    stack="staging, prod",
    steps=[
        "it creates an ALB and a target group tagged with its cluster tag, and tags them",
        "it registers targets, changes and deletes the load balancer it created",
        "it opens a port on a security group it created, then deletes that group",
    ],
    outcome="allowed through its Pod Identity role: every call of the controller's reference "
    "IAM policy (v3.5.0) it needs",
    docs=[DOC],
)
@pytest.mark.parametrize("stack", ENABLED)
def test_the_controller_manages_the_load_balancers_it_creates(stack: str) -> None:
    tagged = {f"aws:RequestTag/{CLUSTER_TAG}": "substrate", "aws:TagKeys": CLUSTER_TAG}
    own = {f"aws:ResourceTag/{CLUSTER_TAG}": "substrate"}
    create = {"elasticloadbalancing:CreateAction": "CreateLoadBalancer", **tagged}
    calls = [
        ("elasticloadbalancing:CreateLoadBalancer", _arn(stack, "alb"), tagged),
        ("elasticloadbalancing:CreateTargetGroup", _arn(stack, "tg"), tagged),
        ("elasticloadbalancing:AddTags", _arn(stack, "alb"), create),
        ("elasticloadbalancing:RegisterTargets", _arn(stack, "tg"), {}),
        ("elasticloadbalancing:ModifyLoadBalancerAttributes", _arn(stack, "alb"), own),
        ("elasticloadbalancing:DeleteLoadBalancer", _arn(stack, "alb"), own),
        ("ec2:AuthorizeSecurityGroupIngress", _arn(stack, "sg"), own),
        ("ec2:DeleteSecurityGroup", _arn(stack, "sg"), own),
        ("elasticloadbalancing:DescribeLoadBalancers", "*", {}),
    ]
    refused = [
        f"{action}: {decision.reason}"
        for action, resource, context in calls
        if not (decision := _decide(stack, action, resource, **context))
    ]
    assert refused == []


@journey(
    user="the AWS Load Balancer Controller (or whoever holds its credentials)",
    stack="staging, prod",
    steps=[
        "it creates a load balancer without its cluster tag",
        "it deletes or changes a load balancer, and deletes a security group, it did not "
        "create (no elbv2.k8s.aws/cluster tag), or one of another account",
        "it tags a load balancer it did not create, or launches an instance",
    ],
    outcome="refused: its write access is limited to what carries its cluster tag",
    docs=[DOC],
)
@pytest.mark.parametrize("stack", ENABLED)
def test_the_controller_cannot_touch_what_it_did_not_create(stack: str) -> None:
    own = {f"aws:ResourceTag/{CLUSTER_TAG}": "substrate"}
    calls = [
        ("elasticloadbalancing:CreateLoadBalancer", _arn(stack, "alb"), {}),
        ("elasticloadbalancing:DeleteLoadBalancer", _other_account(stack), own),
        ("elasticloadbalancing:DeleteLoadBalancer", _arn(stack, "alb"), {}),
        ("elasticloadbalancing:ModifyTargetGroup", _arn(stack, "tg"), {}),
        ("ec2:DeleteSecurityGroup", _arn(stack, "sg"), {}),
        ("elasticloadbalancing:AddTags", _arn(stack, "alb"), {"aws:TagKeys": "team"}),
        ("ec2:RunInstances", "*", {}),
    ]
    allowed = [a for a, resource, context in calls if _decide(stack, a, resource, **context)]
    assert allowed == []
