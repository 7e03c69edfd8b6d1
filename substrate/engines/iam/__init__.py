"""AWS IAM policy evaluation: the one place the project models it.

No AWS engine runs offline, so this package is a faithful model of AWS's documented logic
(IAM User Guide: "Policy evaluation logic", "IAM JSON policy elements reference", "Conditions
with multiple context keys or values", "IAM policy elements: Variables and tags"; PrivateLink
Guide: "Control access to VPC endpoints using endpoint policies"), tested against the examples
in those pages (tests/engines/test_iam_*.py). Where AWS documents no outcome, it raises
``UndocumentedError`` instead of guessing.

    decision = evaluate(Request(principal, "bedrock:InvokeModel", arn, context),
                        Policies(identity=[...], endpoint=...))
    decision.allowed, decision.reason, decision.statements
"""

from __future__ import annotations

from substrate.engines.iam.evaluate import Decision, Policies, evaluate, through_endpoint
from substrate.engines.iam.model import (
    Kind,
    Policy,
    PolicyError,
    Principal,
    Request,
    Statement,
    UndocumentedError,
    Value,
)

__all__ = [
    "Decision",
    "Kind",
    "Policies",
    "Policy",
    "PolicyError",
    "Principal",
    "Request",
    "Statement",
    "UndocumentedError",
    "Value",
    "evaluate",
    "through_endpoint",
]
