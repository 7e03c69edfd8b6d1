"""The stack's own admission policies, applied by the Kyverno CLI to what the charts create: the
platform's add-ons are admitted. Every namespace they run in is a platform namespace, which the
policies' namespaceSelector leaves out, so Kyverno reports nothing for them: that silence is
asserted as Kyverno states it, and a chart workload moved into a tenant namespace shows the same
policies do judge it there."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from substrate.engines import kyverno
from tests.conftest import planned
from tests.helm.rendered import STACKS, StackRender, pod_spec, rendered
from tests.helpers import require_engine


def _matched_resources(policies: Sequence[Mapping[str, Any]]) -> set[str]:
    return {
        resource
        for policy in policies
        for rule in policy["spec"]["matchConstraints"]["resourceRules"]
        for resource in rule["resources"]
    }


def _candidates(render: StackRender, policies: Sequence[Mapping[str, Any]]) -> list[dict]:
    """The chart objects a policy can match: the kinds its resourceRules name and, for pod
    policies, every kind with a pod template (Kyverno's autogen covers the pod controllers).
    Only these are sent: the CLI spends ~20 ms per object and policy, matched or not."""
    matched = _matched_resources(policies)
    return [
        o
        for r in render.releases
        for o in render.installed(r)
        if f"{o['kind'].lower()}s" in matched or ("pods" in matched and pod_spec(o) is not None)
    ]


_VERDICTS: dict[str, list[kyverno.Verdict]] = {}


def _verdicts(stack: str) -> list[kyverno.Verdict]:
    """Kyverno's results for every chart workload, all stacks at once (one CLI run each, in
    parallel)."""
    if stack not in _VERDICTS:
        require_engine("kyverno")

        def judge(name: str) -> list[kyverno.Verdict]:
            render = rendered(name)
            policies = kyverno.policies_of(planned(name).manifests.values())
            return kyverno.apply(
                policies,
                _candidates(render, policies),
                namespaces=kyverno.namespaces_of(render.objects),
            )

        names = [s for s in STACKS if s not in _VERDICTS]
        for name in names:
            rendered(name)  # render first: Helm runs are parallel inside
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            _VERDICTS.update(zip(names, pool.map(judge, names), strict=True))
    return _VERDICTS[stack]


@pytest.mark.parametrize("stack", STACKS)
def test_kyverno_admits_every_chart_workload(stack: str) -> None:
    policies = kyverno.policies_of(planned(stack).manifests.values())
    assert _matched_resources(policies) >= {"pods", "jobs", "statefulsets"}
    # every matched resource is a plain plural of its kind (how _candidates finds them)
    assert {r for r in _matched_resources(policies) if not r.endswith("s")} == set()
    candidates = _candidates(rendered(stack), policies)
    assert {o["kind"] for o in candidates} >= {"Deployment", "DaemonSet", "StatefulSet", "Job"}
    verdicts = _verdicts(stack)
    assert kyverno.denials(verdicts) == []
    # The policies leave every platform namespace out: Kyverno has nothing to say about them.
    assert verdicts == []


def test_the_same_policies_judge_a_chart_workload_in_a_tenant_namespace() -> None:
    """Kyverno's admission controller in a namespace the policies govern: its memory limit is
    three times its request (R28 wants non-CPU limits equal to requests)."""
    require_engine("kyverno")
    render = rendered("prod")
    (release,) = render.of_chart("kyverno")
    (controller,) = [
        o
        for o in render.installed(release)
        if o["kind"] == "Deployment" and o["metadata"]["name"] == "kyverno-admission-controller"
    ]
    moved = copy.deepcopy(controller)
    moved["metadata"]["namespace"] = "ml-research"
    verdicts = kyverno.apply(
        kyverno.policies_of(planned("prod").manifests.values()),
        [moved],
        namespaces=kyverno.namespaces_of(render.objects),
    )
    denied = {v.policy: v.message for v in kyverno.denials(verdicts)}
    assert "substrate-require-requests-limits" in denied
    assert (
        "non-CPU limits differ from their requests: kyverno, kyverno-pre"
        in (denied["substrate-require-requests-limits"])
    )
