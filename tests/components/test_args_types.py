"""What a user gets wrong in component args, and the one line that says so.

The cases a type checker would catch and Python would not: a camelCase key silently ignored
(a StorageClasses `reclaimPolicy` kept the default Delete), a quantity string where the helper
types count in integers (a tenant's memory `Share` is bytes), a string where a list is meant,
a typo inside a nested TypedDict or one arm of a union, an Output where the component needs the
value while the program runs. Each is refused before any resource is declared.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pulumi
import pytest

from substrate.components.admission.admission_policy_set import AdmissionPolicySet
from substrate.components.agents.agent_runtime import AgentRuntime
from substrate.components.capacity.karpenter import LogLevel
from substrate.components.capacity.node_pools import NodePools
from substrate.components.capacity.pools import (
    AmiFamily,
    Budget,
    CapacityType,
    ConsolidationPolicy,
    Limits,
    PoolSpec,
)
from substrate.components.cluster.network import Network
from substrate.components.cluster.storage import ReclaimPolicy, StorageClasses
from substrate.components.core._args import ArgsError, check_args
from substrate.components.workloads.elastic_workload import ElasticWorkload, ScaleTargetKind
from substrate.components.workloads.tenancy import Share, TenantSpec, memory_bytes
from substrate.components.workloads.tenant import Tenant
from tests.helpers import ROOT, run_cli, run_program

KEY = "arn:aws:kms:us-east-1:123456789012:key/0"
TARGET = {"kind": ScaleTargetKind.DEPLOYMENT, "name": "support", "namespace": "agents"}


def pool(limits: Limits) -> PoolSpec:
    return PoolSpec(
        name="inference",
        node_class="gpu",
        ami_family=AmiFamily.AL2023,
        instance_families=("g6e",),
        capacity_types=(CapacityType.ON_DEMAND,),
        limits=limits,
        consolidation_policy=ConsolidationPolicy.WHEN_EMPTY,
        consolidate_after="10m",
        budgets=(Budget(nodes="1"),),
        expire_after="720h",
    )


def tenant_args(spec: TenantSpec) -> dict[str, Any]:
    return {"tenant": spec, "quota_hard": {}, "gpu_pools": []}


def refused(component: type, args: Any) -> str:
    with pytest.raises(ArgsError) as err:
        check_args(component, args)
    return str(err.value)


def test_a_camel_case_reclaim_policy_is_refused_not_silently_delete() -> None:
    args = {"volume_kms_key_arn": KEY, "reclaimPolicy": "Retain"}
    with pytest.raises(ArgsError) as err:
        run_program(lambda: StorageClasses("storage", args))  # type: ignore[typeddict-unknown-key]
    assert str(err.value) == (
        "StorageClasses args: reclaimPolicy is not a key; did you mean reclaim_policy?"
    )
    assert isinstance(err.value, TypeError) and isinstance(err.value, ValueError)


@pytest.mark.parametrize(
    ("component", "args", "message"),
    [
        (
            StorageClasses,
            {"volume_kms_key_arn": KEY, "reclaim_policy": "retain"},
            "reclaim_policy is 'retain'; allowed: ReclaimPolicy.DELETE or ReclaimPolicy.RETAIN "
            "(did you mean ReclaimPolicy.RETAIN?)",
        ),
        (
            StorageClasses,
            {"reclaim_policy": ReclaimPolicy.RETAIN},
            "volume_kms_key_arn is required (str or an Output)",
        ),
        (  # a misspelling names the member it most likely meant
            StorageClasses,
            {"volume_kms_key_arn": KEY, "reclaim_policy": "Retian"},
            "reclaim_policy is 'Retian'; allowed: ReclaimPolicy.DELETE or ReclaimPolicy.RETAIN "
            "(did you mean ReclaimPolicy.RETAIN?)",
        ),
        (  # a member of another Enum is not a member of this one, whatever its value
            Network,
            {"cluster_name": "c", "availability_zones": ["a"], "nat_gateways": LogLevel.INFO},
            "nat_gateways is <LogLevel.INFO: 'info'>; allowed: NatGateways.SINGLE or "
            "NatGateways.PER_AZ",
        ),
        (
            Network,
            {"cluster_name": "c", "availability_zones": "us-east-1a"},
            "availability_zones is 'us-east-1a'; allowed: a list of str",
        ),
        (
            Network,
            {"cluster_name": "c", "availability_zones": ["a"], "flow_logs": {"retention": 3}},
            "flow_logs.retention is not a key; did you mean retention_days?",
        ),
        (
            ElasticWorkload,
            {
                "target": TARGET,
                "max_replicas": 3,
                "triggers": [{"prometheus": {"server_address": "h", "query": "q", "treshold": 1}}],
            },
            "triggers[0].prometheus.treshold is not a key; did you mean threshold?",
        ),
        (
            ElasticWorkload,
            {"target": TARGET, "max_replicas": True, "triggers": []},
            "max_replicas is True; allowed: int",
        ),
        (
            ElasticWorkload,
            {"target": TARGET, "max_replicas": "3", "triggers": []},
            "max_replicas is '3'; allowed: int (write 3, not '3')",
        ),
        (
            AdmissionPolicySet,
            {
                "validation_actions": ["Deny"],
                "excluded_namespaces": ["kube-system"],
                "allowed_registries": ["public.ecr.aws/"],
                "failure_policy": None,
            },
            "failure_policy is None; allowed: str",
        ),
    ],
)
def test_the_line_names_the_key_path_the_value_and_what_is_allowed(
    component: type, args: dict[str, Any], message: str
) -> None:
    assert refused(component, args) == f"{component.__name__} args: {message}"


def test_a_memory_share_is_bytes_and_a_quantity_string_says_so() -> None:
    """`Share` counts cores, bytes or GPUs as integers: "64Gi" is refused at construction with
    the number to write, not a TypeError inside the quota arithmetic."""
    spec = TenantSpec(name="ml", namespaces=("ml",), memory=Share("64Gi"))  # type: ignore[arg-type]
    assert refused(Tenant, tenant_args(spec)) == (
        "Tenant args: tenant.memory.nominal is '64Gi'; allowed: int (write 68719476736, not '64Gi')"
    )
    fixed = TenantSpec(name="ml", namespaces=("ml",), memory=Share(memory_bytes("64Gi")))
    check_args(Tenant, tenant_args(fixed))


def test_pool_limits_memory_is_a_quantity_string() -> None:
    assert refused(NodePools, {"pools": [pool(Limits(cpu=64, memory=512))]}) == (  # type: ignore[arg-type]
        "NodePools args: pools[0].limits.memory is 512; allowed: str"
    )
    check_args(NodePools, {"pools": [pool(Limits(cpu=64, memory="512Gi"))]})


def test_helper_dataclasses_are_checked_field_by_field() -> None:
    spec = TenantSpec(name="ml", namespaces=("ml", 7))  # type: ignore[arg-type]
    assert refused(Tenant, tenant_args(spec)) == (
        "Tenant args: tenant.namespaces[1] is 7; allowed: str"
    )
    # A GPU share is a GpuShare, not the (pool, Share) pair of earlier releases.
    pairs = TenantSpec(name="ml", namespaces=("ml",), gpu=True, gpus=(("training", Share(1)),))  # type: ignore[arg-type]
    assert refused(Tenant, tenant_args(pairs)) == (
        "Tenant args: tenant.gpus[0] is ('training', Share(nominal=1, borrowing_limit=None, "
        "lendi...; allowed: GpuShare"
    )


def test_an_output_is_accepted_where_an_input_is_declared_and_refused_elsewhere() -> None:
    records = run_program(
        lambda: StorageClasses("storage", {"volume_kms_key_arn": pulumi.Output.from_input(KEY)})
    )
    assert any(r.type == "kubernetes:storage.k8s.io/v1:StorageClass" for r in records)
    late = pulumi.Output.from_input("substrate-dev")
    assert refused(Network, {"cluster_name": late, "availability_zones": ["a"]}) == (
        "Network args: cluster_name is an Output (not known until deployment); allowed: str"
    )


def test_optional_values_accept_none_where_declared() -> None:
    """`replicas: int | None` and `bedrock: BedrockAgentRoleArgs | None` take None; a typo
    inside the optional TypedDict is still found."""
    bad = {"agent": "a", "bedrock": {"cluster_nme": "c"}}
    assert refused(AgentRuntime, bad).startswith(
        "AgentRuntime args: bedrock.cluster_nme is not a key; did you mean cluster_name?"
    )
    assert "replicas" not in refused(AgentRuntime, {"agent": "a", "replicas": None})


def test_a_team_program_with_a_typo_plans_to_one_line_and_exit_2(tmp_path: Path) -> None:
    """A team's program (the gpu-pools-kueue example, copied) misspells a NodeClasses key:
    `substrate plan` stops before anything is declared, in one line naming the program line
    that constructed the component, exit 2 (invalid input)."""
    example = ROOT / "examples" / "gpu-pools-kueue"
    for name in ("Pulumi.yaml", "Pulumi.example.yaml"):
        shutil.copy(example / name, tmp_path / name)
    program = (example / "__main__.py").read_text()
    assert program.count('"node_role_name":') == 1
    (tmp_path / "__main__.py").write_text(program.replace('"node_role_name":', '"nodeRole":'))
    run = run_cli("plan", "example", "--out", str(tmp_path / "out"), cwd=tmp_path)
    line = 1 + program.splitlines().index("classes = NodeClasses(")
    assert (run.returncode, run.stderr) == (
        2,
        f"error: __main__.py:{line}: NodeClasses args: nodeRole is not a key; did you mean "
        "node_role_name?\n",
    )
    assert not (tmp_path / "out").exists()
