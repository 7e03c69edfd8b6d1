"""The Amazon Bedrock and Amazon EKS documentation examples, evaluated with the calls
``substrate.engines.bedrock_calls`` builds: each test names the page its policy comes from and
asserts the outcome that page states."""

from __future__ import annotations

from substrate.components.bedrock.bedrock_models import ModelKind, ModelRef
from substrate.engines.bedrock_calls import Guardrail, call, routes
from substrate.engines.iam import Kind, Policies, Policy, Principal, Request, evaluate
from tests.engines.iam_helpers import doc

ACCOUNT = "123456789012"
SESSION = Principal.role_session(f"arn:aws:iam::{ACCOUNT}:role/app", "s")
INVOKE = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
GUARDRAIL = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:guardrail/guardrail-id"
NOVA = ModelRef("nova", ModelKind.FOUNDATION_MODEL, "amazon.nova-pro-v1:0")
CLAUDE = "anthropic.claude-sonnet-4-5-20250929-v1:0"
PRODUCTION = "arn:aws:eks:us-west-2:111122223333:cluster/ProductionCluster"
PROFILE = ModelRef("claude", ModelKind.INFERENCE_PROFILE, f"us.{CLAUDE}")


def _allowed(
    policy: Policy,
    operation: str,
    model: ModelRef,
    *,
    destination: str | None = None,
    guardrail: Guardrail | None = None,
) -> list[bool]:
    made = call(
        operation,
        model,
        partition="aws",
        region="us-east-1",
        account=ACCOUNT,
        destination=destination,
        guardrail=guardrail,
    )
    return [
        evaluate(
            Request(SESSION, a.action, a.resource, a.context), Policies(identity=[policy])
        ).allowed
        for a in made.authorizations
    ]


def _guardrail_policy(condition_allow: dict, condition_deny: dict) -> Policy:
    return Policy.parse(
        "guardrail",
        Kind.IDENTITY,
        doc(
            {
                "Sid": "InvokeFoundationModelStatement1",
                "Effect": "Allow",
                "Action": INVOKE,
                "Resource": ["arn:aws:bedrock:us-east-1::foundation-model/*"],
                "Condition": condition_allow,
            },
            {
                "Sid": "InvokeFoundationModelStatement2",
                "Effect": "Deny",
                "Action": INVOKE,
                "Resource": ["arn:aws:bedrock:us-east-1::foundation-model/*"],
                "Condition": condition_deny,
            },
            {
                "Sid": "ApplyGuardrail",
                "Effect": "Allow",
                "Action": ["bedrock:ApplyGuardrail"],
                "Resource": [GUARDRAIL],
            },
        ),
    )


def test_enforce_a_specific_guardrail_and_numeric_version() -> None:
    """Bedrock User Guide, "Enforce the use of specific guardrails in model inference requests",
    Example 1: only calls with guardrail-id version 1 are allowed; the explicit deny refuses any
    other GuardrailIdentifier or version, and a call without a guardrail."""
    versioned = {"bedrock:GuardrailIdentifier": f"{GUARDRAIL}:1"}
    policy = _guardrail_policy({"StringEquals": versioned}, {"StringNotEquals": versioned})
    assert _allowed(policy, "Converse", NOVA, guardrail=Guardrail("guardrail-id", "1")) == [
        True,
        True,
    ]
    assert _allowed(policy, "ConverseStream", NOVA, guardrail=Guardrail("guardrail-id", "1")) == [
        True,
        True,
    ]
    assert _allowed(policy, "Converse", NOVA, guardrail=Guardrail("guardrail-id", "2"))[0] is False
    assert _allowed(policy, "Converse", NOVA) == [False]
    made = call("Converse", NOVA, partition="aws", region="us-east-1", account=ACCOUNT)
    no_guardrail = made.authorizations[0]
    decision = evaluate(
        Request(SESSION, no_guardrail.action, no_guardrail.resource, no_guardrail.context),
        Policies(identity=[policy]),
    )
    assert decision.statements == ("guardrail#InvokeFoundationModelStatement2",)


def test_enforce_a_guardrail_and_any_numeric_version() -> None:
    """Same page, Example 3: ArnLike .../guardrail/guardrail-id:* allows any numeric version;
    ArnNotLike denies the unversioned (DRAFT) identifier."""
    like = {"bedrock:GuardrailIdentifier": f"{GUARDRAIL}:*"}
    policy = _guardrail_policy({"ArnLike": like}, {"ArnNotLike": like})
    assert all(_allowed(policy, "Converse", NOVA, guardrail=Guardrail("guardrail-id", "7")))
    draft = Request(
        SESSION,
        "bedrock:InvokeModel",
        "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
        {"bedrock:GuardrailIdentifier": GUARDRAIL},
    )
    assert evaluate(draft, Policies(identity=[policy])).explicit_deny


def test_geographic_cross_region_inference_policy() -> None:
    """Bedrock User Guide, "Geographic cross-Region inference", IAM policy requirements: the US
    profile from us-east-1 plus the model in us-east-1, us-east-2 and us-west-2 with
    bedrock:InferenceProfileArn; a call is allowed whichever destination Bedrock picks, and the
    model cannot be invoked directly."""
    profile = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.{CLAUDE}"
    policy = Policy.parse(
        "cris",
        Kind.IDENTITY,
        doc(
            {
                "Sid": "GrantGeoCrisInferenceProfileAccess",
                "Effect": "Allow",
                "Action": "bedrock:InvokeModel",
                "Resource": [profile],
            },
            {
                "Sid": "GrantGeoCrisModelAccess",
                "Effect": "Allow",
                "Action": "bedrock:InvokeModel",
                "Resource": [
                    f"arn:aws:bedrock:{r}::foundation-model/{CLAUDE}"
                    for r in ("us-east-1", "us-east-2", "us-west-2")
                ],
                "Condition": {"StringEquals": {"bedrock:InferenceProfileArn": profile}},
            },
        ),
    )
    assert routes(PROFILE, "us-east-1") == ("us-east-1", "us-east-2", "us-west-2")
    for region in routes(PROFILE, "us-east-1"):
        assert _allowed(policy, "Converse", PROFILE, destination=region) == [True, True], region
    assert _allowed(policy, "Converse", ModelRef("m", ModelKind.FOUNDATION_MODEL, CLAUDE)) == [
        False
    ]
    # ConverseStream needs InvokeModelWithResponseStream, which this example does not grant.
    assert _allowed(policy, "ConverseStream", PROFILE) == [False, False]


def test_pod_identity_trust_restricted_to_a_namespace_and_service_account() -> None:
    """EKS User Guide, "Create IAM role with trust policy required by EKS Pod Identity": the
    trust with aws:RequestTag/kubernetes-namespace and kubernetes-service-account conditions
    lets EKS assume the role for that service account only."""
    role = f"arn:aws:iam::{ACCOUNT}:role/pod"
    trust = Policy.parse(
        "trust",
        Kind.TRUST,
        doc(
            {
                "Sid": "AllowEksAuthToAssumeRoleForPodIdentity",
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {
                    "StringEquals": {
                        "aws:RequestTag/kubernetes-namespace": ["Namespace"],
                        "aws:RequestTag/kubernetes-service-account": ["ServiceAccount"],
                    }
                },
            }
        ),
    )
    eks = Principal.service("pods.eks.amazonaws.com")

    def assume(namespace: str, service_account: str) -> bool:
        tags = {
            "aws:RequestTag/kubernetes-namespace": namespace,
            "aws:RequestTag/kubernetes-service-account": service_account,
        }
        request = Request(eks, "sts:AssumeRole", role, tags)
        return evaluate(request, Policies(resource=trust, resource_must_allow=True)).allowed

    assert assume("Namespace", "ServiceAccount")
    assert not assume("Namespace", "other")
    assert not assume("other", "ServiceAccount")


def test_abac_on_pod_identity_session_tags() -> None:
    """EKS Best Practices Guide, "ABAC and EKS Pod Identity": the bucket policy allowing
    account 111122223333 only when aws:PrincipalTag kubernetes-service-account, eks-cluster-arn
    and kubernetes-namespace all match; the session tags come from Pod Identity."""
    bucket = Policy.parse(
        "bucket",
        Kind.RESOURCE,
        doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::ExampleBucket/*"],
                "Condition": {
                    "StringEquals": {
                        "aws:PrincipalTag/kubernetes-service-account": "s3objectservice",
                        "aws:PrincipalTag/eks-cluster-arn": PRODUCTION,
                        "aws:PrincipalTag/kubernetes-namespace": "s3datanamespace",
                    }
                },
            }
        ),
    )
    identity = [
        Policy.parse(
            "id", Kind.IDENTITY, doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
        )
    ]

    def get(namespace: str) -> bool:
        session = Principal.role_session(
            "arn:aws:iam::111122223333:role/shared",
            "pod",
            session_tags={
                "kubernetes-service-account": "s3objectservice",
                "kubernetes-namespace": namespace,
                "eks-cluster-arn": PRODUCTION,
            },
        )
        request = Request(
            session, "s3:GetObject", "arn:aws:s3:::ExampleBucket/o", resource_account="222222222222"
        )
        return evaluate(request, Policies(identity=identity, resource=bucket)).allowed

    assert get("s3datanamespace")
    assert not get("other")


def test_session_tags_override_role_tags_of_the_same_key() -> None:
    """IAM User Guide, "Passing session tags in AWS STS": new session tags override role tags
    with the same key, regardless of case."""
    session = Principal.role_session(
        f"arn:aws:iam::{ACCOUNT}:role/r",
        "s",
        role_tags={"Team": "blue", "Owner": "a"},
        session_tags={"team": "red"},
    )
    assert session.principal_tags == {"Owner": "a", "team": "red"}


APP = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/abcdef123456"


def _allowed_via(policy: Policy, model: ModelRef, app: str, destination: str) -> list[bool]:
    made = call(
        "Converse",
        model,
        partition="aws",
        region="us-east-1",
        account=ACCOUNT,
        destination=destination,
        application_profile=app,
    )
    return [
        evaluate(
            Request(SESSION, a.action, a.resource, a.context), Policies(identity=[policy])
        ).allowed
        for a in made.authorizations
    ]


def test_prerequisites_policy_allows_calls_through_application_profiles() -> None:
    """Bedrock User Guide, "Prerequisites for inference profiles": the first statement of its
    policy (bedrock:InvokeModel* on every foundation model, inference profile and application
    inference profile) lets a role call an application profile whichever Region it routes to."""
    policy = Policy.parse(
        "prereq",
        Kind.IDENTITY,
        doc(
            {
                "Effect": "Allow",
                "Action": ["bedrock:InvokeModel*", "bedrock:CreateInferenceProfile"],
                "Resource": [
                    "arn:aws:bedrock:*::foundation-model/*",
                    "arn:aws:bedrock:*:*:inference-profile/*",
                    "arn:aws:bedrock:*:*:application-inference-profile/*",
                ],
            }
        ),
    )
    for region in routes(PROFILE, "us-east-1"):
        assert _allowed_via(policy, PROFILE, APP, region) == [True, True], region


def test_foundation_model_only_through_an_application_profile() -> None:
    """Same page, restricted as it describes: the application profile in Resource, the
    foundation model "in each Region associated with it", and bedrock:InferenceProfileArn naming
    the profile on the foundation-model statement. A call through the profile is allowed in each
    Region; the model directly, the system-defined profile it copies and another application
    profile are not."""
    fms = [f"arn:aws:bedrock:{r}::foundation-model/{CLAUDE}" for r in routes(PROFILE, "us-east-1")]
    policy = Policy.parse(
        "app",
        Kind.IDENTITY,
        doc(
            {"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": [APP]},
            {
                "Effect": "Allow",
                "Action": "bedrock:InvokeModel",
                "Resource": fms,
                "Condition": {"StringEquals": {"bedrock:InferenceProfileArn": APP}},
            },
        ),
    )
    for region in routes(PROFILE, "us-east-1"):
        assert _allowed_via(policy, PROFILE, APP, region) == [True, True], region
    assert _allowed(policy, "Converse", ModelRef("m", ModelKind.FOUNDATION_MODEL, CLAUDE)) == [
        False
    ]
    assert _allowed(policy, "Converse", PROFILE) == [False, False]
    other = APP.replace("abcdef123456", "zzzzzz999999")
    assert _allowed_via(policy, PROFILE, other, "us-east-2") == [False, False]
