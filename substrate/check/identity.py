"""Which Bedrock models a workload's pods may call: the IAM evaluator (substrate.engines.iam) on
the session EKS Pod Identity gives the pod's service account, through the stack's
bedrock-runtime endpoint, for an InvokeModel call (which every model, embeddings
included, serves) to each model of the stack's catalog, with the
guardrail the stack enforces (what the agent SDK sends). A workload states the models it needs
with the annotation ``substrate.io/bedrock-models: a,b``; a needed model it may not call is a
failure, the rest is information. A role that grants a model only through an application
inference profile of its own (an agent with `applicationProfiles`) is asked through that profile,
as the agent's SDK calls it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from substrate.components.bedrock.bedrock_models import (
    PROFILE_KEY,
    ModelRef,
    foundation_model_arn,
)
from substrate.components.core.validators import partition_of
from substrate.config.platform import PlatformConfig
from substrate.engines import aws_plan, bedrock_calls
from substrate.engines.bedrock_calls import Guardrail
from substrate.engines.iam import Decision, Policies, Request, evaluate
from substrate.plan.mocks import ACCOUNT_ID

MODELS_ANNOTATION = "substrate.io/bedrock-models"
OPERATION = "InvokeModel"
ENDPOINT = "bedrock-runtime"


@dataclass(frozen=True)
class Access:
    """A stack's IAM side and Bedrock catalog."""

    plan: aws_plan.AwsPlan
    catalog: Mapping[str, ModelRef]
    guardrail: Guardrail | None

    def decide(self, association: aws_plan.Association, pod: str, model: ModelRef) -> Decision:
        """The first refusal among the call's authorizations, or the last allow."""
        principal = self.plan.pod_principal(association, pod, f"uid-{pod}")
        role = self.plan.role(association.role_arn)
        guardrail = self.guardrail if bedrock_calls.supports_guardrails(model) else None
        identity = self.plan.identity_policies(role)
        call = bedrock_calls.call(
            OPERATION,
            model,
            partition=self.plan.partition,
            region=self.plan.region,
            account=self.plan.account,
            guardrail=guardrail,
            application_profile=self._application_profile(identity, model),
        )
        endpoint = self.plan.endpoints.get(ENDPOINT)
        policies = Policies(
            identity=identity,
            endpoint=endpoint.policy if endpoint is not None else None,
        )
        network = {"aws:SecureTransport": "true"}
        if endpoint is not None:
            network["aws:SourceVpc"] = endpoint.vpc_id
        decisions = [
            evaluate(Request(principal, a.action, a.resource, {**network, **a.context}), policies)
            for a in call.authorizations
        ]
        return next((d for d in decisions if not d), decisions[-1])

    def _application_profile(self, identity: list[Any], model: ModelRef) -> str | None:
        """The application profile the role reaches ``model`` through: the
        `bedrock:InferenceProfileArn` its Allow of the model's foundation model names, when that
        is an application inference profile."""
        if model.is_global:
            return None
        here = foundation_model_arn(
            self.plan.partition, self.plan.region, model.foundation_model_id
        )
        for policy in identity:
            for stmt in policy.statements:
                if stmt.effect != "Allow" or here not in (stmt.resources or ()):
                    continue
                for arn in stmt.condition.get("StringEquals", {}).get(PROFILE_KEY, ()):
                    if ":application-inference-profile/" in arn:
                        return arn
        return None


def access(config: PlatformConfig, records: Any) -> Access | None:
    """The stack's Access, or None when it declares no Bedrock catalog."""
    if config.bedrock is None:
        return None
    plan = aws_plan.from_records(
        records, partition=partition_of(config.region), region=config.region, account=ACCOUNT_ID
    )
    guard = config.bedrock.guardrail
    guardrail = Guardrail(guard.id, guard.version) if guard else None
    return Access(plan, config.bedrock.catalog(config.region), guardrail)


def needed_models(obj: Mapping[str, Any]) -> list[str]:
    raw = ((obj.get("metadata") or {}).get("annotations") or {}).get(MODELS_ANNOTATION, "")
    return [m.strip() for m in str(raw).split(",") if m.strip()]


def association_of(
    access: Access, namespace: str, service_account: str
) -> aws_plan.Association | None:
    try:
        return access.plan.association(namespace, service_account)
    except LookupError:
        return None


def pod_spec(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The first pod spec in ``obj`` (a Pod's spec, or its controller's pod template)."""
    if isinstance(obj, Mapping):
        if "containers" in obj:
            return obj
        for key in ("spec", "template", "jobTemplate", "replicatedJobs", "leaderWorkerTemplate"):
            found = pod_spec_in(obj.get(key))
            if found is not None:
                return found
        for key in ("rayClusterSpec", "headGroupSpec", "workerTemplate"):
            found = pod_spec_in(obj.get(key))
            if found is not None:
                return found
    return None


def pod_spec_in(value: Any) -> Mapping[str, Any] | None:
    if isinstance(value, list):
        return next((f for v in value if (f := pod_spec_in(v)) is not None), None)
    if isinstance(value, Mapping):
        return pod_spec(value)
    return None


def finding_parts(
    access: Access | None, namespace: str, spec: Mapping[str, Any] | None, needed: list[str]
) -> tuple[str, str, tuple[str, ...]] | None:
    """(status, summary, details) of the identity question, or None when nothing is asked and
    the pods have no AWS role."""
    account = str((spec or {}).get("serviceAccountName") or "default")
    association = None if access is None else association_of(access, namespace, account)
    if access is None or association is None:
        if not needed:
            return None
        why = "the stack has no Bedrock catalog" if access is None else "no Pod Identity"
        return (
            "fail",
            f"needs {', '.join(needed)} but service account {account} has no AWS role ({why})",
            (),
        )
    unknown = [m for m in needed if m not in access.catalog]
    decisions = {name: access.decide(association, "pod-0", m) for name, m in access.catalog.items()}
    allowed = sorted(n for n, d in decisions.items() if d)
    denied = [n for n in needed if n in decisions and not decisions[n]]
    # the role's logical name: its physical name ends in the suffix Pulumi draws at `pulumi up`
    role = access.plan.role(association.role_arn).logical
    details = [
        f"{n}: AccessDenied {decisions[n].reason}" for n in sorted(decisions) if not decisions[n]
    ]
    details += [
        f"{n}: not in the stack's Bedrock catalog ({', '.join(access.catalog)})" for n in unknown
    ]
    if denied or unknown:
        return (
            "fail",
            f"AccessDenied on {', '.join(denied + unknown)} for role {role} "
            f"(service account {account})",
            tuple(details),
        )
    may = ", ".join(allowed) or "no model"
    return ("ok", f"service account {account} -> role {role}: may call {may}", tuple(details))
