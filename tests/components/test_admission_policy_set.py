"""AdmissionPolicySet: one ValidatingPolicy CR per policy module, settings validated."""

from __future__ import annotations

from typing import Any

import pytest

from substrate.components.admission.admission_policies import MODULES
from substrate.components.admission.admission_policy_set import (
    AdmissionPolicySet,
    AdmissionPolicySetArgs,
)
from tests.helpers import Resources, run_program

ARGS: AdmissionPolicySetArgs = {
    "validation_actions": ["Deny"],
    "excluded_namespaces": ["kube-node-lease", "kube-public", "kube-system", "kyverno"],
    "allowed_registries": ["public.ecr.aws/docker/library"],
}


def test_one_validating_policy_per_module() -> None:
    resources = Resources(run_program(lambda: AdmissionPolicySet("admission-policies", ARGS)))
    policies = resources.of_type("kubernetes:policies.kyverno.io/v1:ValidatingPolicy")
    assert len(policies) == len(MODULES)
    names = sorted(p.inputs["metadata"]["name"] for p in policies)
    assert names == sorted(f"substrate-{m.NAME}" for m in MODULES)
    for policy in policies:
        assert policy.inputs["spec"]["validationActions"] == ["Deny"]
        assert policy.inputs["spec"]["failurePolicy"] == "Fail"
        assert policy.name == "admission-policies-" + policy.inputs["metadata"][
            "name"
        ].removeprefix("substrate-")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"validation_actions": ["Deny", "Warn"]},
            r"AdmissionPolicySetArgs.validation_actions: \['Deny', 'Warn'\] is not a valid set",
        ),
        (
            {"excluded_namespaces": ["kyverno"]},
            r"AdmissionPolicySetArgs.excluded_namespaces: \['kube-node-lease', 'kube-public', "
            r"'kube-system'\] missing",
        ),
        (
            {"allowed_registries": ["docker.io/"]},
            "AdmissionPolicySetArgs.allowed_registries: 'docker.io/' is not a registry host",
        ),
    ],
)
def test_invalid_settings_are_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}"):
        AdmissionPolicySet("admission-policies", {**ARGS, **change})  # type: ignore[typeddict-item]
