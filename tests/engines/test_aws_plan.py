"""The IAM side of a plan: what aws_plan reads, and what it refuses to judge."""

from __future__ import annotations

import pytest

from substrate.engines.aws_plan import UnresolvedPolicyError
from tests.conftest import planned
from tests.engines.iam_helpers import plan_of


def test_roles_with_aws_managed_policies_cannot_be_judged() -> None:
    """An attached AWS managed policy's statements (a Deny included) are not in the plan, so the
    role's identity policies are refused rather than judged on the inline policy alone."""
    plan = plan_of(planned("prod").records, "us-east-1")
    with_managed = [r for r in plan.roles.values() if r.managed]
    assert with_managed, "prod attaches AWS managed policies to some role"
    with pytest.raises(UnresolvedPolicyError, match="policies not in the plan"):
        plan.identity_policies(with_managed[0])
    agent = plan.role(plan.association("agents", "support").role_arn)
    assert [p.name for p in plan.identity_policies(agent)] == [
        "agent-support-bedrock-identity-policy"
    ]
