"""Journeys: the CI runners of a stack reach its cluster, previews get read-only access, and a
deploy by anyone outside the admins is refused before it creates anything.

The network side is judged on the plan's own endpoint settings and security group rules
(substrate.engines.security_groups), the STS endpoint by the IAM evaluator, the deployer check
by running the program under the plan's mock engine with another caller identity.
"""

from __future__ import annotations

import pulumi
import pytest

from substrate.config import stack_file_config
from substrate.plan.command import program_of
from substrate.plan.runner import run_under_mocks
from substrate.project import find_project
from tests.conftest import planned
from tests.helpers import ROOT, STACKS, config_error
from tests.journeys.deploy_access import deployer
from tests.journeys.journey import journey

REACH = "docs/deploy.md#who-can-reach-the-api"
LOCKOUT = "docs/deploy.md#the-deploying-principal-must-be-an-admin"


@journey(
    user="the CI runner group of the stack (substrate:deploy)",
    stack="dev, staging, prod",
    steps=[
        "a runner exchanges its GitHub OIDC token for the deploy role, and for the preview "
        "role, through the VPC's STS endpoint",
        "it calls the Kubernetes API: through the public endpoint (dev, staging) or the private "
        "endpoint, whose cluster security group must admit it (prod)",
        "a runner in the VPC also reaches the interface endpoints (STS, ECR) on 443",
    ],
    outcome="each step is allowed: the STS endpoint admits the OIDC exchange for exactly the "
    "deploy and preview roles, and the runner's address is admitted by publicAccessCidrs or by "
    "an HTTPS rule on the cluster and endpoint security groups",
    docs=[REACH],
)
@pytest.mark.parametrize("stack", STACKS)
def test_the_runners_reach_the_cluster_they_deploy(stack: str) -> None:
    d = deployer(stack)
    deploy = d.cfg.deploy
    for role in filter(None, (deploy.role, deploy.preview_role)):
        assert d.oidc_exchange(role).allowed, role
    runner = d.runner_address()
    if deploy.api_access == "public":
        assert d.public_endpoint_admits(runner)
    else:
        assert not d.public_endpoint_admits(runner)
        assert d.cluster_group_admits(runner) != []
        assert d.endpoints_group_admits(runner) != []


@journey(
    user="someone else's runner, or a role the stack does not name",
    stack="dev, staging, prod",
    steps=[
        "an OIDC caller asks the STS endpoint for a role that is not the stack's deploy or "
        "preview role",
        "a machine outside the runner group's addresses calls the Kubernetes API",
    ],
    outcome="the STS endpoint refuses the exchange; the API endpoint (public CIDRs or cluster "
    "security group) admits no address outside the listed sources",
    docs=[REACH],
)
@pytest.mark.parametrize("stack", STACKS)
def test_strangers_do_not_reach_the_cluster(stack: str) -> None:
    d = deployer(stack)
    other = f"arn:aws:iam::{d.plan.account}:role/someone-elses-role"
    assert d.oidc_exchange(other).reason == (
        "because no VPC endpoint policy allows the sts:AssumeRoleWithWebIdentity action"
    )
    for address in ("192.0.2.77", "10.99.0.5"):
        assert not d.public_endpoint_admits(address), address
        assert d.cluster_group_admits(address) == [], address


def test_a_stack_its_deployer_could_never_reach_is_refused() -> None:
    assert config_error("prod", lambda c: c["substrate:deploy"].update(apiAccess="public")) == (
        'substrate:deploy.apiAccess = "public": but the cluster\'s public endpoint is off '
        "(cluster.endpoint.publicAccess), so the runners could never reach the API (allowed: "
        '"private" with runners inside or routed into the VPC, or a public endpoint)'
    )


def _deploy_as(stack: str, caller: str, *, preview: bool = False) -> list:
    project = find_project(ROOT)
    config = stack_file_config(project.stack_config(stack))
    return run_under_mocks(
        program_of(project),
        project=project.name,
        stack=stack,
        config=config,
        region=config["aws:region"],
        caller=caller,
        preview=preview,
    )


@journey(
    user="a platform engineer (or a CI job) running `pulumi up` with credentials that are not "
    "in substrate:cluster.admins",
    stack="dev, staging, prod",
    steps=[
        "the program starts and asks AWS who it runs as (sts:GetCallerIdentity, and for a role "
        "session the role behind it, aws.iam.getSessionContext)",
    ],
    outcome="the update stops before any resource is registered, with one line naming the "
    "principal and the deploy role to use; run as the stack's deploy role, the same program "
    "builds the whole platform",
    docs=[LOCKOUT],
)
@pytest.mark.parametrize("stack", STACKS)
def test_a_deploy_outside_the_admins_is_refused_before_it_creates_anything(stack: str) -> None:
    d = deployer(stack)
    account = d.cfg.deploy.role.split(":")[4]
    stranger = f"arn:aws:iam::{account}:role/someone-else"
    with pytest.raises(pulumi.RunError) as refused:
        _deploy_as(stack, stranger)
    assert str(refused.value) == (
        f"stacks/Pulumi.{stack}.yaml: refusing to deploy as {stranger}: it is not in "
        "substrate:cluster.admins, so it would have no access to the cluster (deploy as "
        f"{d.cfg.deploy.role}, or add it to the admins)"
    )
    assert len(planned(stack).records) > 100  # the plan runs as the deploy role


PREVIEWS = "docs/deploy.md#previews"


@journey(
    user="the pull-request preview job, running as the stack's previewRole",
    stack="dev, staging, prod",
    steps=[
        "`pulumi preview` starts and asks AWS who it runs as: the preview role",
        "the same role runs `pulumi up`",
    ],
    outcome="the preview runs (the role is allowed for previews only, and the cluster gives it "
    "read-only access); the update is refused before any resource is registered",
    docs=[PREVIEWS, LOCKOUT],
)
@pytest.mark.parametrize("stack", STACKS)
def test_the_preview_role_previews_but_never_deploys(stack: str) -> None:
    d = deployer(stack)
    role = d.cfg.deploy.preview_role
    assert role is not None
    assert len(_deploy_as(stack, role, preview=True)) > 100
    with pytest.raises(pulumi.RunError, match=f"refusing to deploy as {role}: "):
        _deploy_as(stack, role)
    entries = {
        str(r.inputs["principalArn"]): r.name
        for r in d.records
        if r.type == "aws:eks/accessEntry:AccessEntry"
    }
    policies = {
        str(r.inputs["principalArn"]): str(r.inputs["policyArn"])
        for r in d.records
        if r.type == "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
    }
    assert role in entries
    assert policies[role].endswith(":cluster-access-policy/AmazonEKSViewPolicy")


def test_another_admin_deploys_too() -> None:
    d = deployer("dev")
    other = next(a for a in d.cfg.cluster.admins if a != d.cfg.deploy.role)
    assert len(_deploy_as("dev", other)) == len(planned("dev").records)


def test_a_deploy_role_outside_the_admins_is_refused_in_the_stack_file() -> None:
    def remove_deployer(c: dict) -> None:
        c["substrate:cluster"]["admins"] = [
            a for a in c["substrate:cluster"]["admins"] if "deploy" not in a
        ]

    assert config_error("prod", remove_deployer) == (
        'substrate:deploy.role = "arn:aws:iam::210987654321:role/substrate-deploy-prod": is not '
        "in substrate:cluster.admins, so the deployer would have no access to the cluster it "
        "creates (the creator gets no implicit admin) (allowed: one of "
        "arn:aws:iam::210987654321:role/substrate-platform-admin)"
    )
