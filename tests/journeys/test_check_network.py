"""`substrate check` network journeys: a tenant declares the connections a workload needs and
learns, before deploying, whether the stack's NetworkPolicies allow them: np-guard's analyzer
over prod's cluster and the docs' own YAML (docs/check.md, "Network: the connections a workload
needs"), through the CLI."""

from __future__ import annotations

import copy
from pathlib import Path

from tests.helpers import require_engine
from tests.journeys.cluster import docs_yaml
from tests.journeys.journey import journey
from tests.journeys.test_check import check, finding, session_plans, verdict

__all__ = ["session_plans"]
DOC = "docs/check.md"


def allowed_section() -> list[dict]:
    return docs_yaml("check.md", "Allowed connections")


@journey(
    user="agent developer of tenant agents; engineer of tenant inference",
    stack="prod",
    steps=[
        "annotate an agents Job with the connections it needs (the inference Service, the "
        "bedrock-runtime endpoint, the Pod Identity agent) and the inference Deployment with "
        "its caller",
        "run `substrate check prod` on the Service, the Deployment and the Job",
    ],
    outcome="exit 0: the analyzer allows every declared connection; the Service's port 80 is "
    "judged as the pod's target port 8000",
    docs=[f"{DOC}#allowed-connections"],
)
def test_declared_connections_are_allowed(tmp_path: Path) -> None:
    require_engine("netpol")
    code, report = check(tmp_path, "prod", allowed_section())
    job = finding(verdict(report, "Job", "ask-llama"), "network")
    assert code == 0, report
    assert job["status"] == "ok" and job["summary"] == "3 declared connections allowed"
    assert job["details"] == [
        "egress inference/llama:80 (TCP 8000): allowed",
        "egress aws:bedrock-runtime (TCP 443): allowed",
        "egress pod-identity (TCP 80): allowed",
    ]
    serving = finding(verdict(report, "Deployment", "llama"), "network")
    assert serving["details"] == ["ingress agents/ask-llama:8000 (TCP 8000): allowed"]


@journey(
    user="data engineer of tenant data-eng; agent developer of tenant agents",
    stack="prod",
    steps=[
        "run `substrate check prod` on a data-eng Job that needs the inference Service and S3",
        "add s3 to the agents Job's needs and check again",
    ],
    outcome="exit 1 both times: inference opens its port to agents only, so data-eng's call is "
    "denied (its S3 egress is allowed); agents does not declare S3, so that call is denied",
    docs=[f"{DOC}#denied-connections"],
)
def test_undeclared_connections_are_denied(tmp_path: Path) -> None:
    require_engine("netpol")
    service, deployment, job = allowed_section()
    (scorer,) = docs_yaml("check.md", "Denied connections")
    code, report = check(tmp_path, "prod", [service, deployment, scorer])
    net = finding(verdict(report, "Job", "score-llama"), "network")
    assert code == 1 and net["status"] == "fail"
    assert net["summary"] == "denied: egress inference/llama:80"
    assert net["details"] == [
        "egress inference/llama:80 (TCP 8000): denied to inference/llama",
        "egress s3 (TCP 443): allowed",
    ]
    greedy = copy.deepcopy(job)
    greedy["metadata"]["annotations"]["substrate.io/egress"] += ", s3"
    code, report = check(tmp_path, "prod", [service, deployment, greedy])
    net = finding(verdict(report, "Job", "ask-llama"), "network")
    assert code == 1 and net["summary"] == "denied: egress s3"
    assert "egress s3 (TCP 443): denied to 192.0.2.10, 198.51.100.10" in net["details"]
