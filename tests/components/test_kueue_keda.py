"""Kueue, KEDA and the workload operators: on the system nodes, values that exist in the pinned
charts, Kueue's Configuration, KEDA's least-privilege Pod Identity role."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from substrate.components.core.versions import CHARTS
from substrate.components.observability.scrape_targets import keda as keda_target
from substrate.components.observability.scrape_targets import kueue as kueue_target
from substrate.components.workloads.keda import (
    CREDENTIALS_ANNOTATION,
    Keda,
    KedaArgs,
    policy_statements,
)
from substrate.components.workloads.keda import chart_values as keda_values
from substrate.components.workloads.kueue import (
    FairSharingStrategy,
    Kueue,
    KueueArgs,
    manager_config,
)
from substrate.components.workloads.kueue import chart_values as kueue_values
from substrate.components.workloads.kueue_integrations import OPERATORS, operators_for
from substrate.components.workloads.workload_operators import WorkloadOperator
from substrate.engines import run
from tests.helpers import Resources, policy_json, require_engine, run_program

FREE_FORM = ("nodeSelector",)
SYSTEM = {"kubernetes.io/os": "linux", "substrate.io/pool": "system"}
CRITICAL = [{"key": "CriticalAddonsOnly", "operator": "Exists"}]

KUEUE: KueueArgs = {
    "cluster_name": "substrate-test",
    "replicas": 2,
    "integrations": ["batch/job", "jobset.x-k8s.io/jobset", "pod"],
    "wait_for_pods_ready": {
        "timeout": "15m",
        "backoff_limit_count": 5,
        "backoff_base_seconds": 60,
        "backoff_max_seconds": 3600,
    },
}
KEDA: KedaArgs = {"cluster_name": "substrate-test", "tags": {"team": "platform"}}
QUEUE_ARN = "arn:aws:sqs:us-west-2:123456789012:agent-sessions"


def _missing(values: Any, chart: Any, prefix: str = "") -> list[str]:
    """Value paths that do not exist in the chart's values.yaml (free-form maps end it)."""
    out = []
    for key, value in values.items():
        path = f"{prefix}{key}"
        if not isinstance(chart, dict) or key not in chart:
            out.append(path)
        elif (
            isinstance(value, dict)
            and isinstance(chart[key], dict)
            and chart[key]
            and key not in FREE_FORM
        ):
            out += _missing(value, chart[key], f"{path}.")
    return out


def test_kueue_manages_only_tenant_namespaces_with_all_or_nothing_admission() -> None:
    config = manager_config(KUEUE)
    assert config["apiVersion"] == "config.kueue.x-k8s.io/v1beta2"
    assert config["manageJobsWithoutQueueName"] is False
    assert config["managedJobsNamespaceSelector"] == {
        "matchExpressions": [{"key": "substrate.io/tenant", "operator": "Exists"}]
    }
    assert config["waitForPodsReady"] == {
        "timeout": "15m",
        "blockAdmission": False,
        "requeuingStrategy": {
            "timestamp": "Eviction",
            "backoffBaseSeconds": 60,
            "backoffMaxSeconds": 3600,
            "backoffLimitCount": 5,
        },
    }
    assert config["integrations"] == {"frameworks": ["batch/job", "jobset.x-k8s.io/jobset", "pod"]}
    assert config["fairSharing"] == {
        "preemptionStrategies": ["LessThanOrEqualToFinalShare", "LessThanInitialShare"]
    }
    # The GPU dashboard reads kueue_cluster_queue_resource_usage.
    assert config["metrics"]["enableClusterQueueResources"] is True
    assert "fairSharing" not in manager_config({**KUEUE, "fair_sharing": False})


def test_kueue_release_embeds_the_configuration_and_runs_ha_on_system_nodes() -> None:
    resources = Resources(run_program(lambda: Kueue("kueue", KUEUE)))
    release = resources.one("kubernetes:helm.sh/v3:Release").inputs
    assert (release["chart"], release["version"]) == (
        "oci://registry.k8s.io/kueue/charts/kueue",
        CHARTS["kueue"].version,
    )
    assert release["name"] == "kueue"  # the scrape target selects app.kubernetes.io/instance
    manager = release["values"]["controllerManager"]
    assert manager["nodeSelector"] == SYSTEM
    assert manager["tolerations"] == CRITICAL
    assert manager["podDisruptionBudget"] == {"enabled": True, "minAvailable": 1}
    embedded = yaml.safe_load(release["values"]["managerConfig"]["controllerManagerConfigYaml"])
    assert embedded == manager_config(KUEUE)
    namespace = resources.one("kubernetes:core/v1:Namespace").inputs["metadata"]
    assert namespace["name"] == "kueue-system"
    assert namespace["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert resources.of_type("aws:iam/role:Role") == []  # Kueue never calls AWS
    assert (
        kueue_target("kueue-system")["match_labels"]["app.kubernetes.io/instance"]
        == (release["name"])
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"replicas": 0}, "KueueArgs.replicas: 0 is out of range (1 to 5)"),
        (
            {"integrations": ["kubeflow.org/mpijob"]},
            "KueueArgs.integrations: 'kubeflow.org/mpijob'",
        ),
        ({"integrations": []}, "KueueArgs.integrations: empty"),
        (
            {
                "preemption_strategies": [
                    FairSharingStrategy.LESS_THAN_INITIAL_SHARE,
                    FairSharingStrategy.LESS_THAN_OR_EQUAL_TO_FINAL_SHARE,
                ]
            },
            "KueueArgs.preemption_strategies",
        ),
        ({"wait_for_pods_ready": {"timeout": "soon"}}, "wait_for_pods_ready.timeout: 'soon'"),
    ],
)
def test_invalid_kueue_args_are_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        run_program(lambda: Kueue("kueue", {**KUEUE, **change}))  # type: ignore[typeddict-item]


def test_kueue_values_exist_in_the_pinned_chart(crds: Path) -> None:
    chart = yaml.safe_load((crds / "kueue" / "chart-values.yaml").read_text())
    assert _missing(kueue_values(KUEUE), chart) == []
    upstream = yaml.safe_load(chart["managerConfig"]["controllerManagerConfigYaml"])
    assert upstream["apiVersion"] == manager_config(KUEUE)["apiVersion"]


def test_keda_without_aws_scalers_has_no_role() -> None:
    resources = Resources(run_program(lambda: Keda("keda", KEDA)))
    assert resources.of_type("aws:iam/role:Role") == []
    values = resources.one("kubernetes:helm.sh/v3:Release").inputs["values"]
    assert values["nodeSelector"] == {"substrate.io/pool": "system"}
    assert values["tolerations"] == CRITICAL
    assert values["podIdentity"] == {"aws": {"irsa": {"enabled": False}}}
    assert values["podDisruptionBudget"]["operator"] == {}


def test_keda_role_grants_exactly_what_the_scalers_read() -> None:
    args: KedaArgs = {
        **KEDA,
        "sqs_queue_arns": [QUEUE_ARN],
        "cloudwatch_metrics": True,
        "assume_role_arns": ["arn:aws:iam::123456789012:role/agents-keda"],
        "operator_replicas": 2,
    }
    resources = Resources(run_program(lambda: Keda("keda", args)))
    policy = policy_json(resources.one("aws:iam/rolePolicy:RolePolicy"))
    assert policy["Statement"] == [
        {
            "Action": ["sqs:GetQueueAttributes"],
            "Effect": "Allow",
            "Resource": [QUEUE_ARN],
            "Sid": "ReadQueueDepth",
        },
        {
            "Action": ["cloudwatch:GetMetricData"],
            "Effect": "Allow",
            "Resource": "*",
            "Sid": "ReadMetrics",
        },
        {
            "Action": ["sts:AssumeRole"],
            "Effect": "Allow",
            "Resource": ["arn:aws:iam::123456789012:role/agents-keda"],
            "Sid": "AssumeWorkloadRoles",
        },
    ]
    association = resources.one("aws:eks/podIdentityAssociation:PodIdentityAssociation").inputs
    assert (association["namespace"], association["serviceAccount"]) == ("keda", "keda-operator")
    trust = policy_json(resources.one("aws:iam/role:Role"), "assumeRolePolicy")
    assert trust["Statement"][0]["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    values = resources.one("kubernetes:helm.sh/v3:Release").inputs["values"]
    assert values["podDisruptionBudget"]["operator"] == {"minAvailable": 1}


def test_keda_exposes_the_metrics_port_the_pod_monitor_scrapes() -> None:
    values = keda_values(KEDA)
    assert values["prometheus"]["operator"] == {"enabled": True, "port": 8080}
    assert keda_target("keda")["port"] == "metrics"  # the chart names container port 8080 so


def test_keda_refuses_keys_and_wildcards() -> None:
    assert policy_statements(KEDA) == []
    with pytest.raises(
        ValueError, match=re.escape("KedaArgs.sqs_queue_arns: '*' is not an SQS queue ARN")
    ):
        run_program(lambda: Keda("keda", {**KEDA, "sqs_queue_arns": ["*"]}))
    with pytest.raises(ValueError, match=r"KedaArgs\.assume_role_arns"):
        run_program(lambda: Keda("keda", {**KEDA, "assume_role_arns": ["arn:aws:iam::1:user/x"]}))


def test_keda_values_exist_in_the_pinned_chart(crds: Path) -> None:
    chart = yaml.safe_load((crds / "keda" / "chart-values.yaml").read_text())
    args: KedaArgs = {**KEDA, "operator_replicas": 2, "metrics_server_replicas": 2}
    assert _missing(keda_values(args), chart) == []


@pytest.mark.parametrize("operator", OPERATORS, ids=lambda o: o.chart)
def test_operators_run_restricted_on_system_nodes(operator) -> None:
    resources = Resources(
        run_program(
            lambda: WorkloadOperator(
                operator.chart, {"cluster_name": "c", "operator": operator, "replicas": 2}
            )
        )
    )
    release = resources.one("kubernetes:helm.sh/v3:Release").inputs
    assert release["version"] == CHARTS[operator.chart].version
    assert release["namespace"] == operator.namespace
    values = release["values"]
    placement = values.get("controller", values)
    assert placement["nodeSelector"] == SYSTEM
    assert placement["tolerations"] == CRITICAL
    labels = resources.one("kubernetes:core/v1:Namespace").inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert resources.of_type("aws:iam/role:Role") == []


def test_lws_gets_the_seccomp_profile_psa_restricted_requires() -> None:
    (lws,) = [o for o in OPERATORS if o.chart == "lws"]
    release = Resources(
        run_program(
            lambda: WorkloadOperator("lws", {"cluster_name": "c", "operator": lws, "replicas": 1})
        )
    ).one("kubernetes:helm.sh/v3:Release")
    assert release.inputs["values"]["podSecurityContext"]["seccompProfile"] == {
        "type": "RuntimeDefault"
    }


def test_integrations_install_their_operators_once() -> None:
    charts = [
        o.chart
        for o in operators_for(
            ["ray.io/rayjob", "ray.io/raycluster", "pod", "jobset.x-k8s.io/jobset"]
        )
    ]
    assert charts == ["jobset", "kuberay-operator"]
    assert operators_for(["batch/job", "pod", "deployment"]) == ()


@pytest.mark.parametrize("queues", [[], ["arn:aws:sqs:us-west-2:123456789012:agent-sessions"]])
def test_keda_operator_rolls_when_its_role_first_appears(
    queues: list[str], charts: Path, tmp_path: Path
) -> None:
    """Pod Identity fills in credentials at pod creation: the operator's pod template (as the
    pinned chart renders it) changes exactly when KEDA gets a role, so its pods are replaced."""
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(keda_values({**KEDA, "sqs_queue_arns": queues})))
    chart = CHARTS["keda"]
    require_engine("helm")
    rendered = run(
        "helm",
        [
            "template",
            "keda",
            str(charts / f"keda-{chart.version}.tgz"),
            "-f",
            str(values),
            "--namespace",
            "keda",
            "--kube-version",
            "1.35.0",
        ],
    ).stdout
    (operator,) = [
        d
        for d in yaml.safe_load_all(rendered)
        if d and d["kind"] == "Deployment" and d["metadata"]["name"] == "keda-operator"
    ]
    annotations = operator["spec"]["template"]["metadata"].get("annotations") or {}
    assert (annotations.get(CREDENTIALS_ANNOTATION) == "pod-identity") is bool(queues)
