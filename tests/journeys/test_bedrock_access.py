"""Journeys: an agent's pod calls Amazon Bedrock, and the IAM evaluator decides each request.

Every call is the request an SDK sends (each operation the model supports: Converse,
ConverseStream, InvokeModel, InvokeModelWithResponseStream with the catalog's model or profile id,
the stack's guardrail when the model supports one), signed by the agent's EKS Pod Identity session
(role tags + the six session tags) and entering through the bedrock-runtime VPC endpoint. The role
policy and the endpoint policy come from the stack's plan.
"""

from __future__ import annotations

import pytest

from substrate.components.bedrock.bedrock_models import ModelKind
from substrate.engines import bedrock_calls
from substrate.engines.bedrock_calls import Guardrail
from substrate.engines.iam import Kind, Policies, Policy, Principal, evaluate
from tests.helpers import STACKS
from tests.journeys.bedrock_access import (
    StackAccess,
    access,
    allowed,
    first_denial,
    has_guardrail,
)
from tests.journeys.journey import journey

CALLING = "docs/agents.md#what-an-agent-may-call"
CATALOG = "docs/agents.md#the-model-catalog"
NETWORK = "docs/agents.md#the-network-path"
GUARDED = [s for s in STACKS if has_guardrail(s)]


@journey(
    user="an agent of the agents tenant (its pod, through the bedrock-runtime endpoint)",
    stack="dev, staging, prod",
    steps=[
        "the pod's SDK signs with the agent's Pod Identity session",
        "it calls each model its tenant granted it with every operation the model supports "
        "(Converse, ConverseStream, InvokeModel, InvokeModelWithResponseStream; an embedding "
        "model InvokeModel only), with the stack's guardrail (id and version) exactly when the "
        "model supports guardrails",
        "Bedrock routes a profile call to each of the profile's destination Regions, and a "
        "cross-Region guardrail to each of its guardrail profile's destination Regions "
        "(staging's and prod's claude-sonnet is Claude Sonnet 4.6 through "
        "us.anthropic.claude-sonnet-4-6: us-east-1, us-east-2, us-west-2; CountTokens on it in "
        "the stack's Region)",
    ],
    outcome="every authorization (profile, routed foundation model, ApplyGuardrail on the "
    "guardrail and on its guardrail profile) is allowed by the role policy and the endpoint "
    "policy",
    docs=[CALLING, NETWORK, CATALOG],
)
@pytest.mark.parametrize("stack", STACKS)
def test_agents_call_every_granted_model_in_every_destination_region(stack: str) -> None:
    s = access(stack)
    denied, calls = [], 0
    for agent in s.agents():
        for name in s.cfg.agents[agent].models:
            model = s.catalog[name]
            guardrail = s.sdk_guardrail(model)
            evaluated = (
                bedrock_calls.guardrail_routes(guardrail, s.plan.region) if guardrail else ()
            )
            for operation in bedrock_calls.operations(model):
                for region in bedrock_calls.routes(model, s.plan.region):
                    for where in evaluated or (None,):
                        call = s.call(
                            operation,
                            model,
                            destination=region,
                            guardrail=guardrail,
                            guardrail_region=where,
                            agent=agent,
                        )
                        calls += 1
                        refusal = first_denial(s.decide(s.pod(agent), call))
                        if refusal is not None:
                            denied.append(
                                f"{agent} {operation} {name} -> {region} (guardrail in {where}): "
                                f"{refusal.reason}"
                            )
    assert calls > 0
    assert denied == []


@journey(
    user="an agent of the agents tenant",
    stack="dev, staging, prod",
    steps=[
        "the agent calls a catalog model its tenant did not grant it",
        "it calls the foundation model behind a granted profile directly, around the profile",
    ],
    outcome="both are denied: the role policy allows neither",
    docs=[CALLING],
)
@pytest.mark.parametrize("stack", STACKS)
def test_ungranted_models_and_calls_around_a_profile_are_denied(stack: str) -> None:
    s = access(stack)
    let_through, tried = [], 0
    for agent in s.agents():
        granted = set(s.cfg.agents[agent].models)
        for name, model in sorted(s.catalog.items()):
            targets = []
            if name not in granted:
                targets.append(model)
            elif model.kind == "inference-profile":
                targets.append(
                    type(model)(name, ModelKind.FOUNDATION_MODEL, model.foundation_model_id)
                )
            for target in targets:
                call = s.call("Converse", target, guardrail=s.sdk_guardrail(target))
                tried += 1
                if allowed(s.decide(s.pod(agent), call)):
                    let_through.append(f"{agent}: {target.id}")
    assert tried > 0
    assert let_through == []


@journey(
    user="an agent of the agents tenant",
    stack="staging, prod",
    steps=[
        "the agent calls a granted model without a guardrail",
        "then with the right guardrail id but another version",
    ],
    outcome="both are explicitly denied, by the role's DenyInvokeWithoutGuardrail statement "
    "among others, whatever else the role allows",
    docs=[CALLING],
)
@pytest.mark.parametrize("stack", GUARDED)
def test_calls_without_the_stacks_guardrail_are_denied(stack: str) -> None:
    s = access(stack)
    assert s.guardrail is not None
    other = Guardrail(s.guardrail.id, str(int(s.guardrail.version) + 1))
    tried = 0
    for agent in s.agents():
        (deny,) = [p.name for p in s.plan.role(s.association(agent).role_arn).inline]
        for name in s.cfg.agents[agent].models:
            model = s.catalog[name]
            if not bedrock_calls.supports_guardrails(model):
                continue
            for guardrail in (None, other):
                call = s.call("Converse", model, guardrail=guardrail, agent=agent)
                refusal = first_denial(s.decide(s.pod(agent), call))
                tried += 1
                assert refusal is not None, f"{agent} called {name} with {guardrail}"
                assert refusal.explicit_deny
                assert f"{deny}#DenyInvokeWithoutGuardrail" in refusal.statements


@journey(
    user="EKS Pod Identity, for a pod of this cluster",
    stack="dev, staging, prod",
    steps=[
        "EKS assumes an agent's role (sts:AssumeRole + sts:TagSession) for the agent's own pod",
        "then for a pod of another namespace, another service account, another cluster",
    ],
    outcome="only the agent's own namespace and service account in this cluster get a session; "
    "the others are refused by the role trust policy",
    docs=[CALLING],
)
@pytest.mark.parametrize("stack", STACKS)
def test_only_the_agents_own_service_account_assumes_its_role(stack: str) -> None:
    s = access(stack)
    refused = [
        "because no role trust policy allows the sts:AssumeRole action",
        "because no role trust policy allows the sts:TagSession action",
    ]
    for agent in s.agents():
        assert _assume(s, agent) == ["allowed", "allowed"], agent
        assert _assume(s, agent, namespace="intruder") == refused, agent
        assert _assume(s, agent, service_account="default") == refused, agent
        assert _assume(s, agent, cluster="someone-elses-cluster") == refused, agent
        for other in s.agents():
            if other != agent:
                assert _assume(s, agent, service_account=other) == refused, (agent, other)


def _assume(s: StackAccess, agent: str, cluster: str | None = None, **other: str) -> list[str]:
    """EKS Pod Identity assuming ``agent``'s role for a pod with these session tags."""
    association = s.association(agent)
    role = s.plan.role(association.role_arn)
    tags = s.plan.pod_session_tags(association, f"{agent}-0", "uid", **other)
    if cluster:
        tags["eks-cluster-name"] = cluster
        tags["eks-cluster-arn"] = s.plan.cluster_arn(cluster)
    trust = Policies(resource=role.trust, resource_must_allow=True)
    return [evaluate(r, trust).reason for r in s.plan.assume_role_requests(role, tags)]


@journey(
    user="a non-agent principal of this account or this cluster, an agent role of another cluster",
    stack="dev, staging, prod",
    steps=[
        "an administrator role (identity policy allowing every action) calls a catalog model "
        "through the bedrock-runtime endpoint",
        "a pod of this cluster whose role is not an agent role does the same",
        "an agent-tagged role session whose eks-cluster-arn names another cluster does the same",
    ],
    outcome="all are refused by the endpoint policy (because no VPC endpoint policy allows "
    "the bedrock:InvokeModel action)",
    docs=[NETWORK],
)
@pytest.mark.parametrize("stack", STACKS)
def test_the_endpoint_admits_only_agent_roles_of_this_cluster(stack: str) -> None:
    s = access(stack)
    admin = [
        Policy.parse(
            "admin",
            Kind.IDENTITY,
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            },
        )
    ]
    role = f"arn:{s.partition}:iam::{s.plan.account}:role/"
    agent = s.agents()[0]
    pod = s.pod(agent)
    workload = next(
        a
        for a in s.plan.associations
        if a.role_arn != pod.role_arn and a.service_account not in s.agents()
    )
    strangers = {
        "admin": Principal.role_session(f"{role}platform-admin", "x"),
        f"pod of {workload.namespace}/{workload.service_account}": s.plan.pod_principal(
            workload, "pod-0", "uid"
        ),
        "other cluster": Principal.role_session(
            pod.role_arn or "",
            "x",
            role_tags=pod.tags,
            session_tags={
                **pod.session_tags,
                "eks-cluster-arn": s.plan.cluster_arn("someone-elses-cluster"),
            },
        ),
    }
    model = s.catalog[s.cfg.agents[agent].models[0]]
    call = s.call("Converse", model, guardrail=s.sdk_guardrail(model), agent=agent)
    assert allowed(s.decide(pod, call, admin))  # the endpoint admits the agent's own session
    for who, principal in strangers.items():
        refusal = first_denial(s.decide(principal, call, admin))
        assert refusal is not None, who
        assert (
            refusal.reason == "because no VPC endpoint policy allows the bedrock:InvokeModel action"
        ), who


@journey(
    user="an agent granted an embedding model (Titan Text Embeddings V2)",
    stack="dev, staging, prod",
    steps=[
        "the agent calls InvokeModel on the granted embedding model",
        "without a guardrail: AWS does not support guardrails on embedding models, so the SDK "
        "cannot send one, even in a stack that enforces a guardrail",
        "it tries InvokeModelWithResponseStream, which embedding models do not support",
    ],
    outcome="InvokeModel is allowed, so a granted embedding model is usable; the streaming "
    "call is refused by the endpoint policy and, on its own, by the role (no identity-based "
    "policy allows it): both grant only the operations the model supports",
    docs=[CALLING],
)
@pytest.mark.parametrize("stack", STACKS)
def test_granted_embedding_models_are_usable(stack: str) -> None:
    s = access(stack)
    refused, calls = [], 0
    action = "bedrock:InvokeModelWithResponseStream action"
    for agent in s.agents():
        for name in s.cfg.agents[agent].models:
            model = s.catalog[name]
            if bedrock_calls.supports_guardrails(model):
                continue
            calls += 1
            refusal = first_denial(
                s.decide(s.pod(agent), s.call("InvokeModel", model, agent=agent))
            )
            if refusal is not None:
                refused.append(f"{agent} {name}: {refusal.reason} {refusal.statements}")
            stream = s.call("InvokeModelWithResponseStream", model, agent=agent)
            # Every authorization's refusals: through an application profile the endpoint admits
            # the profile (it cannot tell the model) and refuses the routed foundation model.
            by_endpoint = {d.reason for d in s.decide(s.pod(agent), stream) if not d}
            by_role = first_denial(s.decide(s.pod(agent), stream, through_endpoint=False))
            assert by_endpoint and by_role is not None, (agent, name)
            assert f"because no VPC endpoint policy allows the {action}" in by_endpoint
            assert by_role.reason == f"because no identity-based policy allows the {action}"
    assert calls > 0, f"no agent of {stack} holds an embedding model"
    assert refused == []


@journey(
    user="an agent of a stack whose guardrail evaluates across Regions (Standard tier)",
    stack="staging, prod",
    steps=[
        "the agent calls a granted model with the guardrail; Bedrock evaluates the guardrail "
        "through its guardrail profile us.guardrail.v1:0 in a Region the profile does not "
        "route to from the stack's Region",
    ],
    outcome="that ApplyGuardrail authorization is refused by the endpoint policy and, on its "
    "own, by the role: both name the guardrail profile only in the profile's own destination "
    "Regions",
    docs=[CALLING],
)
@pytest.mark.parametrize("stack", GUARDED)
def test_guardrail_profile_is_granted_only_in_its_destination_regions(stack: str) -> None:
    s = access(stack)
    assert s.guardrail is not None and s.guardrail.profile is not None
    destinations = bedrock_calls.guardrail_routes(s.guardrail, s.plan.region)
    outside = [
        r for r in ("us-east-1", "us-east-2", "us-west-1", "us-west-2") if r not in destinations
    ]
    assert outside, "the profile routes to every US Region from here"
    for agent in s.agents():
        model = next(
            s.catalog[n] for n in s.cfg.agents[agent].models if s.catalog[n].capabilities.guardrails
        )
        for region in outside:
            call = s.call(
                "Converse", model, guardrail=s.guardrail, guardrail_region=region, agent=agent
            )
            by_endpoint = first_denial(s.decide(s.pod(agent), call))
            by_role = first_denial(s.decide(s.pod(agent), call, through_endpoint=False))
            assert by_endpoint is not None and by_role is not None, (agent, region)
            assert by_endpoint.reason == (
                "because no VPC endpoint policy allows the bedrock:ApplyGuardrail action"
            ), (agent, region)
            assert by_role.reason == (
                "because no identity-based policy allows the bedrock:ApplyGuardrail action"
            ), (agent, region)
