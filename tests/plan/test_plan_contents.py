"""Properties every plan must have, whatever the stack."""

from __future__ import annotations

import importlib

from substrate.plan.command import PlanResult
from tests.helpers import ROOT, Resources


def _accepts_tags(resource_type: str) -> bool:
    package, module_path, name = resource_type.split(":")
    module = module_path.split("/")[0]
    mod = importlib.import_module(
        f"pulumi_{package}" if module == "index" else f"pulumi_{package}.{module}"
    )
    args = getattr(mod, f"{name}Args", None)
    return args is not None and hasattr(args, "tags")


def test_stack_tags_reach_every_taggable_aws_resource(any_plan: PlanResult) -> None:
    expected = {
        "substrate:stack": any_plan.stack,
        "managed-by": "pulumi",
        "cost-center": "ai-platform",
        "owner": "platform-team",
    }
    taggable = [
        r for r in any_plan.records if r.type.startswith(("aws:", "eks:")) and _accepts_tags(r.type)
    ]
    assert len(taggable) > 20
    for record in taggable:
        tags = record.inputs.get("tags", {})
        assert expected.items() <= tags.items(), f"{record.type} {record.name}: {tags}"


def test_plan_has_no_mandatory_violations(any_plan: PlanResult) -> None:
    assert any_plan.violations == []


def test_every_child_is_parented_to_a_substrate_component(any_plan: PlanResult) -> None:
    resources = Resources(any_plan.records)
    for record in any_plan.records:
        parent = resources.by_urn.get(record.parent or "")
        if record.type.startswith("substrate:") and parent is None:
            continue  # top-level components hang off the stack
        assert parent is not None, f"{record.urn} has no component parent"
        prefix = parent.name
        assert record.name.startswith(f"{prefix}-"), f"{record.name} not named {prefix}-<suffix>"


def test_every_kubernetes_object_uses_the_cluster_provider(any_plan: PlanResult) -> None:
    kube = [r for r in any_plan.records if r.type.startswith("kubernetes:")]
    assert {r.provider_urn for r in kube} == {
        f"urn:pulumi:{any_plan.stack}::substrate::substrate:cluster:EksCluster$"
        "pulumi:providers:kubernetes::cluster-k8s"
    }


def test_no_python_file_is_longer_than_400_lines() -> None:
    long = [
        f"{p.relative_to(ROOT)}: {n}"
        for p in ROOT.rglob("*.py")
        if ".venv" not in p.parts
        and "node_modules" not in p.parts  # npm packages (examples/typescript) ship Python too
        and "out" not in p.parts
        and (n := len(p.read_text().splitlines())) > 400
    ]
    assert long == []
