"""Federated callers (AssumeRoleWithWebIdentity), on the IAM User Guide's OIDC trust policy for
GitHub ("Create a role for OpenID Connect federation"; GitHub's "Configuring OpenID Connect in
Amazon Web Services") and the STS endpoint policy rule ("Control access to AWS STS with VPC
endpoint policies": federated callers carry no principal-based condition keys)."""

from __future__ import annotations

import pytest

from substrate.engines.iam import (
    Kind,
    Policies,
    Policy,
    Principal,
    Request,
    UndocumentedError,
    evaluate,
    through_endpoint,
)

ACCOUNT = "111122223333"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/deploy"
GITHUB = Principal.web_identity(PROVIDER)
TRUST = Policy.parse(
    "deploy-trust",
    Kind.TRUST,
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"
                    },
                    "StringLike": {
                        "token.actions.githubusercontent.com:sub": "repo:octo-org/octo-repo:*"
                    },
                },
            }
        ],
    },
)


def _claims(sub: str, aud: str = "sts.amazonaws.com") -> dict[str, str]:
    return {
        "token.actions.githubusercontent.com:sub": sub,
        "token.actions.githubusercontent.com:aud": aud,
    }


def _assume(who: Principal, claims: dict[str, str]) -> str:
    request = Request(who, "sts:AssumeRoleWithWebIdentity", ROLE, claims)
    return evaluate(request, Policies(resource=TRUST, resource_must_allow=True)).reason


def test_the_trust_policy_admits_the_repository_named_by_the_token() -> None:
    assert _assume(GITHUB, _claims("repo:octo-org/octo-repo:ref:refs/heads/main")) == "allowed"


def test_another_repository_audience_or_provider_is_refused() -> None:
    refused = "because no role trust policy allows the sts:AssumeRoleWithWebIdentity action"
    assert _assume(GITHUB, _claims("repo:octo-org/other-repo:ref:refs/heads/main")) == refused
    assert _assume(GITHUB, _claims("repo:octo-org/octo-repo:ref:refs/heads/main", "x")) == refused
    other = Principal.web_identity(PROVIDER.replace("token.actions", "gitlab"))
    assert _assume(other, _claims("repo:octo-org/octo-repo:ref:refs/heads/main")) == refused
    account = Principal.role_session(f"arn:aws:iam::{ACCOUNT}:role/ci", "s")
    assert _assume(account, _claims("repo:octo-org/octo-repo:ref:refs/heads/main")) == refused


def test_a_federated_caller_carries_no_principal_keys_so_an_account_condition_refuses_it() -> None:
    account_only = Policy.parse(
        "sts-endpoint",
        Kind.ENDPOINT,
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}},
                }
            ]
        },
    )
    request = Request(GITHUB, "sts:AssumeRoleWithWebIdentity", ROLE, _claims("repo:o/r:x"))
    assert through_endpoint(request, account_only).reason == (
        "because no VPC endpoint policy allows the sts:AssumeRoleWithWebIdentity action"
    )


def test_scps_on_a_federated_caller_are_not_guessed() -> None:
    scp = Policy.parse(
        "scp", Kind.SCP, {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    )
    request = Request(GITHUB, "sts:AssumeRoleWithWebIdentity", ROLE, _claims("repo:o/r:x"))
    with pytest.raises(UndocumentedError):
        evaluate(request, Policies(resource=TRUST, resource_must_allow=True, scps=[scp]))
