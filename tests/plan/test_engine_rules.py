"""The plan refuses what `pulumi up` refuses: duplicate URNs, names pulumi-aws cannot auto-name;
and it names auto-named resources as the provider does."""

from __future__ import annotations

import importlib
import inspect
import json
import re
from pathlib import Path

import pulumi_aws as aws
import pytest

from substrate.config.agent_checks import AGENT_ROLE
from substrate.plan.engine_rules import AUTONAMED, EngineRefusalError, autoname
from substrate.plan.runner import run_under_mocks
from tests.conftest import planned
from tests.helpers import STACKS, run_cli, stack_yaml

ROLE = "aws:iam/role:Role"


def _run(program: object) -> list:
    return run_under_mocks(
        program,  # type: ignore[arg-type]
        project="p",
        stack="s",
        config={},
        region="us-east-1",
    )


def test_a_second_resource_with_the_same_urn_is_refused_as_the_engine_refuses_it() -> None:
    def program() -> None:
        aws.iam.Role("deployer", assume_role_policy="{}")
        aws.iam.Role("deployer", assume_role_policy="{}")

    with pytest.raises(EngineRefusalError) as refused:
        _run(program)
    assert str(refused.value) == (
        "Duplicate resource URN 'urn:pulumi:s::p::aws:iam/role:Role::deployer'; try giving it a "
        "unique name"
    )


def test_the_same_name_under_another_type_or_parent_is_a_different_urn() -> None:
    def program() -> None:
        aws.iam.Role("deployer", assume_role_policy="{}")
        aws.iam.Policy("deployer", policy="{}")

    assert len(_run(program)) == 2


def test_the_cli_reports_the_engines_refusal_in_one_line_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: team\nruntime: python\n")
    (tmp_path / "Pulumi.t.yaml").write_text("config:\n  aws:region: us-east-1\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi_aws as aws\n"
        "for _ in range(2):\n"
        "    aws.iam.Role('deployer', assume_role_policy='{}')\n"
    )
    run = run_cli("plan", "t", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.splitlines()[-1] == (
        "error: Duplicate resource URN 'urn:pulumi:t::team::aws:iam/role:Role::deployer'; try "
        "giving it a unique name"
    )


def test_auto_names_are_the_logical_name_a_dash_and_seven_hex_characters() -> None:
    def program() -> None:
        aws.iam.Role("r" * 56, assume_role_policy="{}")

    (role,) = _run(program)
    name = role.inputs["name"]
    assert re.fullmatch("r{56}-[0-9a-f]{7}", name) and len(name) == 64


def test_a_logical_name_too_long_for_the_auto_name_is_refused_as_the_provider_refuses_it() -> None:
    def program() -> None:
        aws.iam.Role("r" * 57, assume_role_policy="{}")

    with pytest.raises(EngineRefusalError) as refused:
        _run(program)
    assert str(refused.value) == (
        f"could not make instance of 'aws:iam/role:Role': name '{'r' * 57}-' plus 7 random chars "
        "is longer than maximum length 64"
    )


def test_explicit_names_are_kept_and_provider_specific_shapes_applied() -> None:
    assert autoname(ROLE, "x", {"name": "given"}) is None
    fifo = autoname("aws:sqs/queue:Queue", "jobs", {"fifoQueue": True})
    assert fifo is not None and re.fullmatch(r"jobs-[0-9a-f]{7}\.fifo", fifo[1])
    alias = autoname("aws:kms/alias:Alias", "key", {})
    assert alias is not None and re.fullmatch("alias/key-[0-9a-f]{7}", alias[1])
    assert autoname("aws:ec2/vpcEndpoint:VpcEndpoint", "x" * 300, {}) is None


def _sdk_inputs(type_: str) -> set[str]:
    """Input names of the pinned pulumi_aws class for ``type_``."""
    module, cls = type_.split(":")[1].split("/", maxsplit=1)[0], type_.rsplit(":", 1)[1]
    resource = getattr(importlib.import_module(f"pulumi_aws.{module}"), cls)
    return set(inspect.signature(resource._internal_init).parameters)


def test_every_aws_type_the_stacks_create_has_its_auto_naming_modelled() -> None:
    """pulumi-aws auto-names every resource with an input `name` (provider/autonaming.go); each
    such type the platform creates must be in AUTONAMED, and each AUTONAMED property must be an
    input of the pinned SDK's resource."""
    types = {r.type for s in STACKS for r in planned(s).records if r.type.startswith("aws:")}
    unmodelled = sorted(t for t in types if "name" in _sdk_inputs(t) and t not in AUTONAMED)
    assert unmodelled == []
    for type_ in types & set(AUTONAMED):
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", AUTONAMED[type_].property).lower()
        assert snake in _sdk_inputs(type_), type_


@pytest.mark.parametrize("stack", STACKS)
def test_auto_named_resources_carry_their_physical_name_in_the_plan(stack: str) -> None:
    for record in planned(stack).records:
        rule = AUTONAMED.get(record.type)
        if rule is not None:
            value = record.inputs.get(rule.property)
            assert isinstance(value, str) and len(value) <= rule.maxlen, record.urn


@pytest.mark.parametrize("stack", STACKS)
def test_agent_roles_have_the_logical_name_the_config_check_measures(stack: str) -> None:
    agents = stack_yaml(stack).get("substrate:agents", {})
    roles = {r.name for r in planned(stack).records if r.type == ROLE}
    with_models = [a for a, c in agents.items() if c.get("models")]
    assert with_models, f"{stack} has no agent that calls models"
    for agent in with_models:
        assert AGENT_ROLE.format(agent=agent) in roles, agent


DISABLED = {"pulumi:disable-default-providers": '["kubernetes"]'}


def test_a_kubernetes_object_without_an_explicit_provider_is_refused() -> None:
    import pulumi
    import pulumi_kubernetes as k8s

    def stray() -> None:
        k8s.core.v1.Namespace("stray", metadata={"name": "stray"})

    with pytest.raises(EngineRefusalError) as refused:
        run_under_mocks(stray, project="p", stack="s", config=DISABLED, region="us-east-1")
    assert str(refused.value) == (
        "Default provider for 'kubernetes' disabled. 'kubernetes:core/v1:Namespace' must use an "
        "explicit provider."
    )

    def explicit() -> None:
        cluster = k8s.Provider("cluster", kubeconfig="{}")
        k8s.core.v1.Namespace(
            "ns", metadata={"name": "ns"}, opts=pulumi.ResourceOptions(provider=cluster)
        )

    records = run_under_mocks(explicit, project="p", stack="s", config=DISABLED, region="us-east-1")
    assert len(records) == 2


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_disables_the_default_kubernetes_provider(stack: str) -> None:
    from substrate.config import stack_file_config

    config = stack_file_config(stack_yaml(stack) | {})
    assert "kubernetes" in json.loads(config["pulumi:disable-default-providers"])


def test_the_plan_shows_each_addons_version_pinned_or_how_eks_resolves_it() -> None:
    pins = stack_yaml("prod")["substrate:cluster"]["addonVersions"]
    assert dict(planned("prod").summary().addons) == pins
    dev = dict(planned("dev").summary().addons)
    assert set(dev) == set(pins)
    version = stack_yaml("dev")["substrate:cluster"]["version"]
    assert set(dev.values()) == {f"unpinned: EKS's default for {version}, resolved at deploy"}


def test_diff_shows_a_changed_addon_pin() -> None:
    import copy

    from substrate.diff.compare import compare
    from substrate.diff.render import text

    base = planned("prod").plan_json()
    head = copy.deepcopy(base)
    for resource in head["resources"]:
        if resource["inputs"].get("addonName") == "vpc-cni":
            resource["inputs"]["addonVersion"] = "v1.20.5-eksbuild.1"
    diff = compare(base, head)
    ((changed,),) = [[c for c in r.changes] for r in diff.changed]
    assert (changed.path, changed.old, changed.new) == (
        "addonVersion",
        "v1.20.4-eksbuild.1",
        "v1.20.5-eksbuild.1",
    )
    assert "v1.20.4-eksbuild.1" in text(diff, "main")
