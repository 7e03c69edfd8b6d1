"""examples/bedrock-agent: one agent with Bedrock access on an existing cluster, planned
offline like the platform, and judged by the same policy pack."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from substrate.components.bedrock.bedrock_models import ModelKind, ModelRef
from substrate.engines.bedrock_calls import Guardrail, routes
from substrate.plan.command import PlanResult, plan_stack, render
from substrate.project import find_project
from tests.crds import validation_errors
from tests.engines.iam_helpers import assume, invoke, plan_of
from tests.helpers import ROOT, Resources

EXAMPLE = ROOT / "examples" / "bedrock-agent"


@pytest.fixture(scope="module")
def example() -> PlanResult:
    return plan_stack(find_project(EXAMPLE), "example")


@pytest.fixture(scope="module")
def resources(example: PlanResult) -> Resources:
    return Resources(example.records)


def test_plans_clean_with_kubernetes_objects_on_the_users_cluster(
    example: PlanResult, resources: Resources
) -> None:
    assert example.violations == []
    provider = resources.one("pulumi:providers:kubernetes", "cluster")
    kube = [r for r in resources.records if r.type.startswith("kubernetes:")]
    assert {r.provider_urn for r in kube} == {provider.urn}
    # No network or cluster of Substrate's: only the agent's role and the invocation logging.
    assert not [r for r in resources.records if r.type.startswith(("eks:", "aws:ec2"))]


def test_agent_role_invokes_only_its_models_through_the_pinned_guardrail(
    resources: Resources,
) -> None:
    """Judged by the IAM evaluator: the support pod calls Nova Pro through its US profile in
    every destination Region with guardrail version 3; without it, with another version, or on
    a model it was not given, it is denied; only support/support gets the role's session."""
    plan = plan_of(resources.records, "us-west-2")
    nova = ModelRef("nova", ModelKind.INFERENCE_PROFILE, "us.amazon.nova-pro-v1:0")
    pinned = Guardrail("gr4kx1z2abcd", "3")
    for region in routes(nova, "us-west-2"):
        for operation in ("Converse", "ConverseStream", "InvokeModel"):
            decisions = invoke(
                plan, "support", "support", operation, nova, destination=region, guardrail=pinned
            )
            assert all(decisions), (operation, region)
    for guardrail in (None, Guardrail("gr4kx1z2abcd", "4")):
        assert invoke(plan, "support", "support", "Converse", nova, guardrail=guardrail)[
            0
        ].explicit_deny
    claude = ModelRef(
        "claude", ModelKind.INFERENCE_PROFILE, "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    )
    assert not any(invoke(plan, "support", "support", "Converse", claude, guardrail=pinned)[:2])
    assert assume(plan, "support", "support") == ["allowed", "allowed"]
    assert assume(plan, "support", "support", kubernetes_namespace="default") == [
        "because no role trust policy allows the sts:AssumeRole action",
        "because no role trust policy allows the sts:TagSession action",
    ]


def test_agent_statefulset_keeps_its_memory_on_the_configured_class(
    example: PlanResult,
) -> None:
    by_kind = {(m["kind"], m["metadata"]["name"]): m for m in example.manifests.values()}
    spec = by_kind[("StatefulSet", "support")]["spec"]
    (claim,) = spec["volumeClaimTemplates"]
    assert claim["spec"]["storageClassName"] == "gp3-encrypted"
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert spec["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    assert {"name": "AWS_REGION", "value": "us-west-2"} in container["env"]
    # No SPIRE on this cluster: no SPIFFE CSI volume.
    assert not [v for v in pod.get("volumes", []) if "csi" in v]
    namespace = by_kind[("Namespace", "support")]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert by_kind[("ResourceQuota", "tenant-quota")]["spec"]["hard"] == {
        "requests.cpu": "4",
        "requests.memory": "16Gi",
        "limits.memory": "16Gi",
        "requests.nvidia.com/gpu": "0",
        "services.loadbalancers": "0",
        "services.nodeports": "0",
    }


def test_without_invocation_logging_the_pack_refuses_the_example(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copy(EXAMPLE / "__main__.py", tmp_path / "__main__.py")
    stack = yaml.safe_load((EXAMPLE / "Pulumi.example.yaml").read_text())
    stack["config"]["bedrock-agent:manageInvocationLogging"] = False
    (tmp_path / "Pulumi.nolog.yaml").write_text(yaml.safe_dump(stack))
    result = plan_stack(find_project(tmp_path), "nolog")
    assert [(v.policy, v.enforcement) for v in result.violations] == [
        ("r25-bedrock-invocation-logging", "mandatory")
    ]


@pytest.mark.crds
def test_example_custom_resources_match_the_crds(example: PlanResult, crds: Path) -> None:
    custom = [m for m in example.manifests.values() if "coreos.com" in m["apiVersion"]]
    assert sorted(m["kind"] for m in custom) == ["PrometheusRule", "ServiceMonitor"]
    for manifest in custom:
        assert validation_errors(crds, manifest) == [], manifest["metadata"]["name"]


def test_summary_names_each_component_and_what_is_outside_them(example: PlanResult) -> None:
    lines = render(example, "text").splitlines()
    assert lines[0] == (
        "substrate plan example: 26 resources in 4 components, 17 Kubernetes manifests, "
        "0 Helm releases"
    )
    # Each resource counts under its nearest component, the manifests directory it lands in.
    assert "  agent-support (substrate:index:AgentRuntime): 8" in lines
    assert "  agent-support-bedrock-identity (substrate:index:PodIdentityRole): 3" in lines
    assert "  bedrock-logging (substrate:index:BedrockInvocationLogging): 5" in lines
    # The program's own namespace, quota and policies belong to no component.
    assert "  stack (outside any component): 10" in lines
