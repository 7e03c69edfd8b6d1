"""A stack's Bedrock access as the IAM evaluator sees it: the agents' pod sessions, their role
policies and the bedrock-runtime endpoint policy from the plan, and the calls an SDK sends."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from substrate.components.bedrock.bedrock_models import ModelRef
from substrate.components.core.validators import partition_of
from substrate.config.agent_checks import agent_namespace
from substrate.config.platform import PlatformConfig
from substrate.engines import aws_plan, bedrock_calls
from substrate.engines.bedrock_calls import Call, Guardrail
from substrate.engines.iam import Decision, Policies, Principal, Request, evaluate
from substrate.plan.mocks import ACCOUNT_ID
from tests.conftest import planned
from tests.helpers import stack_yaml, typed_config

ENDPOINT = "bedrock-runtime"


@dataclass(frozen=True)
class StackAccess:
    name: str
    cfg: PlatformConfig
    plan: aws_plan.AwsPlan
    catalog: Mapping[str, ModelRef]
    guardrail: Guardrail | None

    @property
    def partition(self) -> str:
        return self.plan.partition

    def agents(self) -> list[str]:
        return sorted(n for n, a in self.cfg.agents.items() if a.models)

    def association(self, agent: str) -> aws_plan.Association:
        config = self.cfg.agents[agent]
        return self.plan.association(agent_namespace(self.cfg, config), agent)

    def pod(self, agent: str) -> Principal:
        """The session of the agent's first replica (StatefulSet pod ``<agent>-0``)."""
        return self.plan.pod_principal(self.association(agent), f"{agent}-0", f"uid-{agent}-0")

    def sent_ids(self, agent: str) -> dict[str, str]:
        """What the agent is told to send per model (`SUBSTRATE_BEDROCK_MODELS` of its pods)."""
        config = self.cfg.agents[agent]
        ns = agent_namespace(self.cfg, config)
        for obj in planned(self.name).manifests.values():
            meta = obj.get("metadata", {})
            if obj.get("kind") in ("StatefulSet", "ScaledJob") and (
                meta.get("name"),
                meta.get("namespace"),
            ) == (agent, ns):
                spec = obj["spec"]
                template = (
                    spec["jobTargetRef"]["template"] if "jobTargetRef" in spec else spec["template"]
                )
                env = {e["name"]: e.get("value") for e in template["spec"]["containers"][0]["env"]}
                return json.loads(env.get("SUBSTRATE_BEDROCK_MODELS", "{}"))
        raise LookupError(f"{self.name}: no workload of agent {agent}")

    def application_profile(self, agent: str, model: ModelRef) -> str | None:
        """The application inference profile ARN ``agent`` sends for ``model``, if it has one."""
        sent = self.sent_ids(agent).get(model.name)
        return sent if sent and ":application-inference-profile/" in sent else None

    def call(
        self,
        operation: str,
        model: ModelRef,
        *,
        destination: str | None = None,
        guardrail: Guardrail | None = None,
        guardrail_region: str | None = None,
        agent: str | None = None,
    ) -> Call:
        """``operation`` on ``model`` as an SDK sends it; with ``agent``, the way that agent is
        configured to (its application profile's ARN when it has one)."""
        app = self.application_profile(agent, model) if agent else None
        return bedrock_calls.call(
            operation,
            model,
            partition=self.partition,
            region=self.plan.region,
            account=self.plan.account,
            destination=destination,
            guardrail=guardrail,
            guardrail_region=guardrail_region,
            application_profile=app,
        )

    def sdk_guardrail(self, model: ModelRef) -> Guardrail | None:
        """What the agent sends: the stack's guardrail, unless the model refuses guardrails."""
        return self.guardrail if bedrock_calls.supports_guardrails(model) else None

    def decide(
        self,
        principal: Principal,
        call: Call,
        identity: list | None = None,
        *,
        through_endpoint: bool = True,
    ) -> list[Decision]:
        """Each authorization of ``call`` by ``principal`` through the bedrock-runtime endpoint
        (``through_endpoint=False``: the role's policies alone). ``identity``: the principal's
        policies (default: the pod's role's)."""
        if identity is None:
            assert principal.role_arn is not None
            identity = self.plan.identity_policies(self.plan.role(principal.role_arn))
        endpoint = self.plan.endpoints[ENDPOINT]
        policies = Policies(
            identity=identity, endpoint=endpoint.policy if through_endpoint else None
        )
        network = {"aws:SourceVpc": endpoint.vpc_id, "aws:SecureTransport": "true"}
        return [
            evaluate(Request(principal, a.action, a.resource, {**network, **a.context}), policies)
            for a in call.authorizations
        ]


def allowed(decisions: list[Decision]) -> bool:
    return all(decisions)


def first_denial(decisions: list[Decision]) -> Decision | None:
    return next((d for d in decisions if not d), None)


@cache
def access(stack: str) -> StackAccess:
    cfg = typed_config(stack_yaml(stack))
    assert cfg.bedrock is not None, f"{stack} has no substrate:bedrock"
    plan = aws_plan.from_records(
        planned(stack).records,
        partition=partition_of(cfg.region),
        region=cfg.region,
        account=ACCOUNT_ID,
    )
    guard = cfg.bedrock.guardrail
    guardrail = Guardrail(guard.id, guard.version, guard.cross_region_profile) if guard else None
    return StackAccess(stack, cfg, plan, cfg.bedrock.catalog(cfg.region), guardrail)


def has_guardrail(stack: str) -> bool:
    """From the stack file alone (used at collection time, before any plan runs)."""
    return bool(stack_yaml(stack).get("substrate:bedrock", {}).get("guardrail"))
