"""R32: pods that request NVIDIA GPUs run only in GPU tenants' namespaces (labelled
`substrate.io/gpu: "true"`) and tolerate the GPU nodes' taint, so GPU capacity is spent only by
tenants that were granted it and GPU nodes never attract pods that do not need them.

Pods only (no autogen): tenants submit GPU work without the toleration and Kueue supplies it.
For Jobs, JobSets and RayJobs Kueue writes the admitted ResourceFlavor's tolerations into the
(suspended) pod template before any pod exists; pods Kueue manages directly (Deployments,
StatefulSets, LeaderWorkerSets) are created behind its `kueue.x-k8s.io/admission` scheduling
gate and get the tolerations when Kueue admits and ungates them. So the toleration is checked on
pods that are not held by that gate; the namespace rule on every GPU pod.
"""

from __future__ import annotations

from typing import Any

from substrate.components.admission.admission_policies._base import (
    KUEUE_ADMISSION_GATE,
    PolicySettings,
    cel,
    gated_by_kueue,
    requests_gpu,
    validating_policy,
    validation,
    variable,
)
from substrate.components.core.labels import (
    GPU_NAMESPACE_LABEL,
    GPU_RESOURCE,
    GPU_SHARED_RESOURCE,
    GPU_TAINT,
)

NAME = "gpu-placement"
RULE = "R32"


def build(settings: PolicySettings) -> dict[str, Any]:
    key, value, effect = GPU_TAINT["key"], GPU_TAINT["value"], GPU_TAINT["effect"]
    return validating_policy(
        NAME,
        settings,
        rule=RULE,
        title="GPU pods only in GPU namespaces, tolerating the GPU taint",
        subject="Pod",
        autogen=False,
        description=f"Pods requesting {GPU_RESOURCE} or {GPU_SHARED_RESOURCE} must run in a "
        f'namespace labelled {GPU_NAMESPACE_LABEL}: "true" and tolerate the '
        f"{key}={value}:{effect} taint.",
        variables=[
            variable("requestsGpu", requests_gpu("object.spec")),
            variable("namespaceLabels", "namespaceObject.metadata.?labels.orValue({})"),
            variable("gated", gated_by_kueue("object.spec")),
        ],
        validations=[
            validation(
                f"!variables.requestsGpu || ({cel(GPU_NAMESPACE_LABEL)} in "
                f"variables.namespaceLabels && "
                f"variables.namespaceLabels[{cel(GPU_NAMESPACE_LABEL)}] == 'true')",
                f"GPU requests are allowed only in namespaces labelled "
                f'{GPU_NAMESPACE_LABEL}: "true" (GPU tenants).',
            ),
            validation(
                "!variables.requestsGpu || variables.gated || "
                "object.spec.?tolerations.orValue([]).exists(t, "
                f"t.?key.orValue('') == {cel(key)} && "
                f"(t.?operator.orValue('Equal') == 'Exists' || t.?value.orValue('') == "
                f"{cel(value)}) && t.?effect.orValue('') in ['', {cel(effect)}])",
                f"Pods requesting GPUs must tolerate the {key}={value}:{effect} taint of GPU "
                f"nodes (or be held by Kueue's {KUEUE_ADMISSION_GATE} gate, which adds it).",
            ),
        ],
    )
