"""The IAM side of a plan: what aws_plan reads, and what it refuses to judge."""

from __future__ import annotations

import pytest

from substrate.engines.aws_plan import UnresolvedPolicyError
from tests.conftest import planned
from tests.engines.iam_helpers import plan_of


def test_roles_with_unpublished_aws_managed_policies_cannot_be_judged() -> None:
    """An attached AWS managed policy whose document substrate.engines.aws_managed does not
    carry (a Deny included) is not in the plan, so the role's identity policies are refused
    rather than judged on the rest alone; the documented ones resolve to AWS's statements."""
    records = planned("prod").records
    plan = plan_of(records, "us-east-1")
    unknown = [r for r in plan.roles.values() if set(r.managed) - set(plan.managed)]
    assert unknown, "prod attaches undocumented AWS managed policies to some role"
    with pytest.raises(UnresolvedPolicyError, match="policies not in the plan"):
        plan.identity_policies(unknown[0])
    group = next(r for r in records if r.type == "aws:eks/nodeGroup:NodeGroup")
    nodes = plan.role(group.inputs["nodeRoleArn"])
    assert sorted(p.name for p in plan.identity_policies(nodes)) == [
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonEKSWorkerNodePolicy",
    ]
    agent = plan.role(plan.association("agents", "support").role_arn)
    assert [p.name for p in plan.identity_policies(agent)] == [
        "agent-support-bedrock-identity-policy"
    ]
