"""Execute every admission policy's own CEL on its fixtures (good and bad manifests)."""

from __future__ import annotations

from types import ModuleType

import pytest

from components.admission_policies import MODULES, PolicySettings
from components.labels import SYSTEM_NAMESPACES
from tests.admission.fixtures import Example, fixture_path, load
from tests.admission.kyverno_cel import Cluster, CompiledPolicy

SETTINGS = PolicySettings(
    validation_actions=("Deny",),
    excluded_namespaces=(*SYSTEM_NAMESPACES, "kyverno", "karpenter"),
    pod_security_exempt_namespaces=("dcgm-exporter",),
    allowed_registries=("123456789012.dkr.ecr.us-east-1.amazonaws.com", "public.ecr.aws"),
    long_running_classes=("training", "agent"),
)
"""The settings fixtures are written against (a production-like stack)."""


def _id(module: ModuleType) -> str:
    return module.__name__.rsplit(".", 1)[-1]


def compiled(module: ModuleType) -> tuple[CompiledPolicy, list[Example]]:
    fixtures = load(module)
    return CompiledPolicy(module.build(SETTINGS), Cluster(fixtures.cluster)), fixtures.examples


CASES = [(m, e) for m in MODULES for e in load(m).examples]


@pytest.mark.parametrize(
    ("module", "example"), CASES, ids=[f"{_id(m)}: {e.name}" for m, e in CASES]
)
def test_policy_gives_the_expected_verdict(module: ModuleType, example: Example) -> None:
    policy = CompiledPolicy(module.build(SETTINGS), Cluster(load(module).cluster))
    verdict = policy.evaluate(example.resource, example.namespace, example.operation)
    assert verdict.result == example.expect, verdict.messages
    if example.expect == "fail":
        assert any(example.message in m for m in verdict.messages), verdict.messages


@pytest.mark.parametrize("module", MODULES, ids=_id)
def test_every_validation_is_exercised_by_a_failing_fixture(module: ModuleType) -> None:
    policy, examples = compiled(module)
    assert fixture_path(module).exists()
    assert any(e.expect == "pass" for e in examples)
    failed: set[int] = set()
    for example in examples:
        failed.update(
            policy.evaluate(example.resource, example.namespace, example.operation).failed
        )
    assert failed == set(range(len(policy.spec["validations"])))
