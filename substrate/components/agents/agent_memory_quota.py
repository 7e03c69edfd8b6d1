"""The storage bound of the agents of one namespace: a ResourceQuota on their StorageClasses.

Kubernetes' storage resource quota (`<class>.storageclass.storage.k8s.io/requests.storage` and
`.../persistentvolumeclaims`) caps what every claim of that StorageClass in the namespace may
request in total. For each class the agents claim (`agent-gp3` or `nvme-fast`), their memory
claims of that class, at their most replicas each at its size, fit, and nothing more does: an
expanded claim beyond that, an extra claim, or a tenant's own claim on the class is refused by
the API server at admission. The per-claim cap is the Kyverno policy
`agent-isolation`; this is the namespace total.
"""

from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, Required, TypedDict, cast

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from substrate.components.core import validators
from substrate.components.core._args import check_args
from substrate.components.core.labels import GPU_RESOURCES
from substrate.components.workloads.tenancy import format_bytes, memory_bytes

QUOTA_NAME = "agent-memory"


class AgentVolumes(TypedDict, total=False):
    """One agent's claims: at most ``replicas`` claims of ``size``."""

    size: Required[str]
    """Size of each claim (a Kubernetes quantity)."""
    replicas: Required[int]
    """Most replicas the agent runs (one claim each)."""
    storage_class: Required[str]
    """StorageClass of the agent's claims."""


class AgentMemoryQuotaArgs(TypedDict, total=False):
    namespace: Required[str]
    """The agents' namespace."""
    agents: Required[Mapping[str, AgentVolumes]]
    """Agent name -> its claims."""
    no_gpus: NotRequired[bool]
    """The tenant has no GPU rights: the quota also holds every GPU unit (`requests.nvidia.com/gpu`
    and `requests.nvidia.com/gpu.shared`) at 0, as R32 asks of every quota of such a namespace
    (0 of a unit no pool offers changes nothing)."""
    labels: NotRequired[Mapping[str, str]]
    """Labels of the ResourceQuota."""


def quota_spec(volumes: Sequence[AgentVolumes], *, no_gpus: bool = False) -> dict[str, Any]:
    hard: dict[str, str] = {}
    for storage_class in sorted({v["storage_class"] for v in volumes}):
        of_class = [v for v in volumes if v["storage_class"] == storage_class]
        total = sum(memory_bytes(v["size"]) * v["replicas"] for v in of_class)
        prefix = f"{storage_class}.storageclass.storage.k8s.io"
        hard[f"{prefix}/requests.storage"] = format_bytes(total)
        hard[f"{prefix}/persistentvolumeclaims"] = str(sum(v["replicas"] for v in of_class))
    if no_gpus:
        hard.update({f"requests.{unit}": "0" for unit in GPU_RESOURCES})
    return {"hard": hard}


class AgentMemoryQuota(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: AgentMemoryQuotaArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__("substrate:agents:AgentMemoryQuota", name, None, opts)
        namespace = args["namespace"]
        if validators.dns_label(namespace):
            raise ValueError(f"AgentMemoryQuotaArgs.namespace: {namespace!r} is not a DNS label")
        if not args["agents"]:
            raise ValueError("AgentMemoryQuotaArgs.agents: empty")
        for agent, v in args["agents"].items():
            if validators.quantity(v["size"]) or v["replicas"] < 1 or not v["storage_class"]:
                raise ValueError(f"AgentMemoryQuotaArgs.agents.{agent}: {dict(v)} is not valid")
        spec = quota_spec(
            [args["agents"][a] for a in sorted(args["agents"])],
            no_gpus=args.get("no_gpus", False),
        )
        k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata=ObjectMetaArgs(
                name=QUOTA_NAME, namespace=namespace, labels=dict(args.get("labels", {}))
            ),
            spec=cast(Any, spec),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"namespace": namespace, "hard": spec["hard"]})
