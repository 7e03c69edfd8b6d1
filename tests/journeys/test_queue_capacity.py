"""The plan-time quota checks held against Kueue's verdicts, on every stack: the ceiling
arithmetic (substrate.components.workloads.tenancy.ceiling) is exactly what Kueue admits for a
tenant; nominal quota
within the pools' limits (GpuQuotaOvercommitError, P3, DefaultFlavorOvercommitError) is exactly
what Kueue can admit in total; a declared gang the check accepts is admitted and one it refuses
never is; adding a tenant; why the statefulset integration is refused with agents."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from math import gcd
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel

from substrate.components.workloads.tenancy import format_bytes, memory_bytes, quantity
from substrate.config.quota_checks import DefaultFlavorOvercommitError, GangNeverAdmitsError
from substrate.engines.kueue import Ref, Step, StepResult
from substrate.plan.manifests import render_manifests
from substrate.plan.policy import EffectivePolicy, evaluate
from substrate.plan.recorder import ResourceRecord
from substrate.policies.p03_gpu_quota_within_pool_limits import POLICY as P3
from tests.helpers import STACKS, stack_yaml, typed_config
from tests.journeys import queue_objects as q
from tests.journeys.journey import journey
from tests.journeys.queues import GPU, QueueStack, played, queue_stack

QUOTA = "docs/workloads.md#quota-what-kueue-admits-and-what-the-plan-refuses"
ADDING = "docs/workloads.md#adding-a-tenant"
MEMORY = "1Gi"


# -- the ceiling ------------------------------------------------------------------------------
Probe = tuple[str, str, str, Callable[[str, bool], dict[str, Any]]]
"""(tenant, flavor, resource, job(name, one_more))."""


def probes(s: QueueStack) -> list[Probe]:
    """For every tenant: its CPU and memory ceiling on the default flavor and its GPU ceiling
    on each pool it holds a share of, as one pod set pinned to that flavor; `one_more` asks for
    the smallest unit more."""
    out: list[Probe] = []
    for t in s.tenants.values():
        ns, cpu, mem = t.namespaces[0], s.cpu_ceiling(t.name), s.memory_ceiling(t.name)

        def cpu_job(name: str, more: bool, ns: str = ns, cpu: int = cpu) -> dict[str, Any]:
            amount = f"{cpu * 1000 + 1}m" if more else str(cpu)
            return q.job(name, ns, {"cpu": amount, "memory": MEMORY}, queue=ns)

        def mem_job(name: str, more: bool, ns: str = ns, mem: int = mem) -> dict[str, Any]:
            amount = format_bytes(mem + 2**20) if more else format_bytes(mem)
            return q.job(name, ns, {"cpu": "1", "memory": amount}, queue=ns)

        out += [(t.name, "default", "cpu", cpu_job), (t.name, "default", "memory", mem_job)]
        for pool in (g.pool for g in t.gpus):
            most = s.gpu_ceiling(t.name, pool)

            def gpu_job(
                name: str, more: bool, ns: str = ns, most: int = most, pool: str = pool
            ) -> dict[str, Any]:
                n = most + 1 if more else most
                unit = s.unit(pool)
                return q.job(
                    name, ns, {"cpu": "1", "memory": MEMORY, unit: str(n)}, queue=ns, pool=pool
                )

            out.append((t.name, pool, s.unit(pool), gpu_job))
    return out


def _ceilings(s: QueueStack) -> list[Step]:
    steps: list[Step] = []
    previous: Ref | None = None
    for i, (tenant, _, _, job) in enumerate(probes(s)):
        ns = s.tenant(tenant).namespaces[0]
        for more in (False, True):
            name = f"probe-{i}-{'more' if more else 'most'}"
            steps.append(
                Step(name, submit=[job(name, more)], delete=[previous] if previous else [])
            )
            previous = Ref("Job", ns, name)
    return steps


@journey(
    user="platform engineer sizing tenant quota",
    stack="dev, staging, prod",
    steps=[
        "for each tenant, on an idle cluster: submit one pod set of exactly what "
        "substrate.components.workloads.tenancy.ceiling says it can hold on a flavor (CPU, "
        "memory, each GPU pool)",
        "replace it by one asking for the smallest unit more",
    ],
    outcome="Kueue admits every ceiling-sized pod set and keeps every one-more pod set waiting: "
    "the ceiling (nominal plus the others' lendable quota, capped by the borrowing limit) is "
    "exactly what Kueue admits, and the ResourceQuota backstop sums it",
    docs=[QUOTA],
)
@pytest.mark.parametrize("name", STACKS)
def test_the_ceiling_is_what_kueue_admits(name: str) -> None:
    s = queue_stack(name)
    steps = played(name, "ceilings", _ceilings)
    wrong = []
    for i, (tenant, flavor, resource, _) in enumerate(probes(s)):
        most, more = steps[2 * i], steps[2 * i + 1]
        if not most.workload_of("Job", most.name).admitted:
            wrong.append(f"{tenant} {resource} on {flavor}: ceiling not admitted")
        if more.workload_of("Job", more.name).admitted:
            wrong.append(f"{tenant} {resource} on {flavor}: one more admitted")
    assert wrong == []


# -- nominal within the pools -------------------------------------------------------------------
def _nominal_by_flavor(s: QueueStack) -> dict[tuple[str, str], dict[str, int]]:
    """(flavor, resource) -> tenant -> nominal: CPU (cores) and memory (bytes) on default, GPUs
    per pool."""
    out: dict[tuple[str, str], dict[str, int]] = {("default", "cpu"): {}, ("default", "memory"): {}}
    for t in s.tenants.values():
        out[("default", "cpu")][t.name] = t.cpu.nominal
        out[("default", "memory")][t.name] = t.memory.nominal
        for pool, share in ((g.pool, g.share) for g in t.gpus):
            out.setdefault((pool, s.unit(pool)), {})[t.name] = share.nominal
    return out


def _chunk_request(resource: str, size: int) -> dict[str, str]:
    if resource == "cpu":
        return {"cpu": str(size), "memory": MEMORY}
    if resource == "memory":
        return {"cpu": "100m", "memory": format_bytes(size)}
    return {"cpu": "1", "memory": MEMORY, resource: str(size)}


def _flood(s: QueueStack, resource: str) -> list[Step]:
    """Every tenant asks, on every flavor it holds `resource` quota on, for one chunk more than
    its nominal quota (more than the flavor's nominal sum in all), in chunks that divide every
    nominal quota on that flavor (one resource per scenario: GPU pods need CPU too)."""
    jobs = []
    for (flavor, res), nominal in _nominal_by_flavor(s).items():
        if res != resource:
            continue
        size = 0
        for n in nominal.values():
            size = gcd(size, n)
        for tenant in nominal:
            ns = s.tenant(tenant).namespaces[0]
            pool = None if flavor == "default" else flavor
            request = _chunk_request(res, size)
            for i in range(nominal[tenant] // size + 1):
                jobs.append(q.job(f"{flavor}-{tenant}-{i}", ns, request, queue=ns, pool=pool))
    return [Step("every tenant asks for more than its nominal quota", submit=jobs)]


def _admitted(step: StepResult, flavor: str, resource: str) -> int:
    return sum(quantity_of(c.total(flavor, resource)) for c in step.cluster_queues.values())


def quantity_of(text: str) -> int:
    """A usage Kueue reports ("768", "1536Gi") as an integer (cores, bytes or GPUs)."""
    return int(quantity(text))


@journey(
    user="platform engineer",
    stack="dev, staging, prod",
    steps=[
        "every tenant asks for more CPU, more memory and more GPUs on every pool than its "
        "nominal quota"
    ],
    outcome="Kueue admits, per flavor, exactly the tenants' summed nominal quota and not one "
    "unit more (borrowing only moves quota between tenants): so the plan-time checks that keep "
    "that sum within the NodePool limits (GPUs per pool; CPU and memory on the default flavor "
    "within the pools without taints) are what keeps Kueue from admitting pods Karpenter "
    "cannot launch",
    docs=[QUOTA],
)
@pytest.mark.parametrize("name", STACKS)
def test_kueue_admits_at_most_the_nominal_sum(name: str) -> None:
    s = queue_stack(name)
    pools = s.config.node_pools
    untainted = [p.limits for p in pools.values() if not p.taints]
    capacity = {
        "cpu": sum(lim.cpu for lim in untainted),
        "memory": sum(memory_bytes(lim.memory) for lim in untainted),
    }
    for (flavor, resource), nominal in _nominal_by_flavor(s).items():
        (step,) = played(name, f"flood-{resource}", lambda s, r=resource: _flood(s, r))
        total = sum(nominal.values())
        assert _admitted(step, flavor, resource) == total, (flavor, resource)
        limit = s.pool_limit(flavor) if resource.startswith(GPU) else capacity[resource]
        assert total <= limit


def _one_gpu_over(s: QueueStack) -> tuple[list[ResourceRecord], str, int]:
    """The stack's records with the first GPU pool's largest nominal share raised until the
    tenants' nominal sum is one GPU above the NodePool's limit (a stack the config check would
    refuse, so the rendered objects are changed directly)."""
    pool, holder, nominal = next(
        (p, t, n)
        for (p, r), by in _nominal_by_flavor(s).items()
        if r.startswith(GPU)
        for t, n in by.items()
        if n
    )
    limit = s.pool_limit(pool)
    extra = limit + 1 - sum(_nominal_by_flavor(s)[(pool, s.unit(pool))].values())
    records = copy.deepcopy(s.plan.records)
    for record in records:
        spec = record.raw_inputs.get("spec", {})
        if (
            record.type.endswith(":ClusterQueue")
            and record.raw_inputs["metadata"]["name"] == holder
        ):
            for group in spec["resourceGroups"]:
                for flavor in group["flavors"]:
                    if flavor["name"] == pool:
                        flavor["resources"][0]["nominalQuota"] = str(nominal + extra)
    return records, pool, limit


@journey(
    user="platform engineer",
    stack="dev, staging, prod",
    steps=[
        "raise one tenant's nominal GPUs on the first GPU pool so that the tenants' sum is one "
        "above the NodePool's limit",
        "every tenant with nominal GPUs on the pool asks for them",
    ],
    outcome="P3 reports the overcommit, and Kueue admits one GPU more than Karpenter may "
    "launch on the pool: the refusal guards against a real overcommit",
    docs=[QUOTA],
)
@pytest.mark.parametrize("name", STACKS)
def test_p3_refuses_what_kueue_would_overcommit(name: str) -> None:
    s = queue_stack(name)
    records, pool, limit = _one_gpu_over(s)
    unit = s.unit(pool)
    p3 = EffectivePolicy(P3, EnforcementLevel.MANDATORY, {})
    (violation,) = evaluate(records, [p3])
    assert f"above NodePool {pool!r}'s limit of {limit}" in violation.message
    over = replace(s.plan, records=records, manifests=render_manifests(records))
    jobs = []
    for record in records:
        if not record.type.endswith(":ClusterQueue"):
            continue
        for group in record.raw_inputs["spec"]["resourceGroups"]:
            for flavor in group["flavors"]:
                nominal = int(flavor["resources"][0]["nominalQuota"])
                if flavor["name"] == pool and flavor["resources"][0]["name"] == unit and nominal:
                    ns = s.tenant(record.raw_inputs["metadata"]["name"]).namespaces[0]
                    request = {"cpu": "1", "memory": MEMORY, unit: str(nominal)}
                    jobs.append(q.job(f"gpu-{ns}", ns, request, queue=ns, pool=pool))
    (step,) = s.with_plan(over, s.config).play([Step("ask for every GPU", submit=jobs)])
    assert _admitted(step, pool, unit) == limit + 1


def test_a_cpu_limit_below_the_nominal_sum_is_refused() -> None:
    """The counterpart of the journey above: a general pool one CPU short of what Kueue admits
    is refused at plan time."""
    raw = stack_yaml("prod")
    total = sum(t["quota"]["cpu"] for t in raw["substrate:tenants"].values())
    raw["substrate:nodePools"]["general"]["limits"]["cpu"] = total - 1
    with pytest.raises(DefaultFlavorOvercommitError):
        typed_config(raw)


# -- gangs -----------------------------------------------------------------------------------
def _gangs(s: QueueStack) -> list[Step]:
    steps: list[Step] = []
    previous: list[Ref] = []
    for name, tenant in s.config.tenants.items():
        gang = tenant.largest_gang
        if gang is None:
            continue
        ns = tenant.namespaces[0]
        requests = {"cpu": gang.cpu, "memory": gang.memory}
        # A gang's GPUs are in the unit of the pool where the tenant can hold the most.
        unit = (
            s.unit(
                max((s.gpu_ceiling(name, p), p) for p in (g.pool for g in s.tenant(name).gpus))[1]
            )
            if (gang.gpus)
            else GPU
        )
        if gang.gpus:
            requests[unit] = str(gang.gpus)
        steps.append(
            Step(
                f"{name}'s largest gang",
                submit=[
                    q.job(f"gang-{name}", ns, requests, pods=gang.pods, queue=ns, limits=requests)
                ],
                delete=previous,
            )
        )
        previous = [Ref("Job", ns, f"gang-{name}")]
        if gang.gpus:
            best = max(s.gpu_ceiling(name, pool) for pool in (g.pool for g in s.tenant(name).gpus))
            over = {"cpu": "1", "memory": MEMORY, unit: "1"}
            steps.append(
                Step(
                    f"{name}: one GPU more than any pool holds for it, as one pod set",
                    submit=[q.job(f"over-{name}", ns, over, pods=best + 1, queue=ns, limits=over)],
                    delete=previous,
                )
            )
            previous = [Ref("Job", ns, f"over-{name}")]
    return steps


@journey(
    user="engineer of each tenant",
    stack="dev, staging, prod",
    steps=[
        "submit the tenant's declared largestGang as one Job (one pod set) on an idle cluster",
        "for GPU tenants, submit one pod set of one GPU more than the tenant can hold on any "
        "one pool",
    ],
    outcome="every declared gang is admitted whole on one flavor; the pod set one GPU larger "
    "never is (Kueue puts a pod set's GPUs on one flavor), and the plan refuses a stack that "
    "declares it (GangNeverAdmitsError)",
    docs=[QUOTA],
)
@pytest.mark.parametrize("name", STACKS)
def test_declared_gangs_are_admitted_and_larger_ones_never(name: str) -> None:
    s = queue_stack(name)
    steps = {st.name: st for st in played(name, "gangs", _gangs)}
    declared = {n: t.largest_gang for n, t in s.config.tenants.items() if t.largest_gang}
    assert declared, f"{name} declares no largestGang"
    for tenant, gang in declared.items():
        wl = steps[f"{tenant}'s largest gang"].workload_of("Job", f"gang-{tenant}")
        assert wl.admitted and wl.pod_sets[0].count == gang.pods, wl.pending_message
        if not gang.gpus:
            continue
        over = steps[f"{tenant}: one GPU more than any pool holds for it, as one pod set"]
        waiting = over.workload_of("Job", f"over-{tenant}")
        assert not waiting.admitted
        best = max(s.gpu_ceiling(tenant, pool) for pool in (g.pool for g in s.tenant(tenant).gpus))
        raw = stack_yaml(name)
        raw["substrate:tenants"][tenant]["largestGang"] = {
            "pods": best + 1,
            "cpu": "1",
            "memory": MEMORY,
            "gpus": 1,
        }
        with pytest.raises(GangNeverAdmitsError):
            typed_config(raw)
