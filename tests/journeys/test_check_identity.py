"""`substrate check` journeys on SPIFFE IDs: the identity verdict names the ID SPIRE's
controller manager issues each pod (the spire-entries engine on the stack's ClusterSPIFFEIDs and
the controller config the spire chart renders), and a workload that needs one fails without."""

from __future__ import annotations

from pathlib import Path

from tests.journeys.cluster import docs_yaml
from tests.journeys.journey import journey
from tests.journeys.test_check import check, finding, session_plans, verdict

__all__ = ["session_plans"]
DOC = "docs/check.md"
AGENT_ID = "spiffe://prod.substrate.internal/agent/agents/research"


@journey(
    user="agent developer of tenant agents",
    stack="prod",
    steps=[
        "write a StatefulSet whose pods carry the research agent's labels and run as its "
        "service account, annotated substrate.io/spiffe-id: required",
        "run `substrate check prod` on it",
    ],
    outcome="exit 1: its pod would get the agent's own SPIFFE ID "
    "spiffe://prod.substrate.internal/agent/agents/research (ClusterSPIFFEID "
    "agent-agents-research, not the tenant fallback), and for that reason Kyverno's agent "
    "isolation refuses it",
    docs=[f"{DOC}#an-agent-gets-its-own-id"],
)
def test_an_agent_pod_gets_the_agents_spiffe_id(tmp_path: Path) -> None:
    code, report = check(tmp_path, "prod", docs_yaml("check.md", "An agent gets its own ID"))
    sts = verdict(report, "StatefulSet", "research-canary")
    identity = finding(sts, "identity")
    assert identity["status"] == "ok"
    assert identity["summary"].endswith(
        f"; SPIFFE ID {AGENT_ID} (ClusterSPIFFEID agent-agents-research)"
    )
    assert (
        f"pod research-canary-0: {AGENT_ID} (ClusterSPIFFEID agent-agents-research)"
        in (identity["details"])
    )
    admission = finding(sts, "admission")
    assert code == 1 and admission["summary"] == "denied by substrate-agent-isolation"


@journey(
    user="agent developer of tenant agents",
    stack="prod",
    steps=[
        "write a Job annotated substrate.io/spiffe-id: required whose pods carry the research "
        "agent's labels but run as the tenant's default service account",
        "run `substrate check prod` on it",
    ],
    outcome="exit 1: admitted, queued and placed, but no SPIFFE ID: the agent registration "
    "selects the pod (so the tenant fallback is skipped) and its entry requires "
    "k8s:sa:research, which the pod does not attest",
    docs=[
        f"{DOC}#labelled-as-an-agent-running-as-another-account",
        "docs/identity.md#spiffe-ids",
    ],
)
def test_a_pod_that_needs_an_id_and_gets_none_fails(tmp_path: Path) -> None:
    code, report = check(
        tmp_path, "prod", docs_yaml("check.md", "Labelled as an agent, running as another account")
    )
    job = verdict(report, "Job", "research-backfill")
    assert [f["status"] for f in job["findings"] if f["check"] != "identity"] == ["ok"] * 3
    identity = finding(job, "identity")
    assert code == 1 and identity["status"] == "fail"
    assert identity["summary"] == (
        "needs a SPIFFE ID but gets none: ClusterSPIFFEID agent-agents-research selects it but "
        "its entry requires k8s:sa:research, which the pod does not attest (and a fallback ID "
        "is not applied)"
    )
    (pod,) = identity["details"]
    assert pod.startswith("pod research-backfill-") and "no SPIFFE ID" in pod
