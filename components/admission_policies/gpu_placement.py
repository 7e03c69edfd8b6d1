"""R32: pods that request NVIDIA GPUs run only in GPU tenants' namespaces (labelled
`substrate.io/gpu: "true"`) and tolerate the GPU nodes' taint, so GPU capacity is spent only by
tenants that were granted it and GPU nodes never attract pods that do not need them."""

from __future__ import annotations

from typing import Any

from components.admission_policies._base import (
    PolicySettings,
    cel,
    requests_gpu,
    validating_policy,
    validation,
    variable,
)
from components.labels import GPU_NAMESPACE_LABEL, GPU_RESOURCE, GPU_TAINT

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
        description=f"Pods requesting {GPU_RESOURCE} must run in a namespace labelled "
        f'{GPU_NAMESPACE_LABEL}: "true" and tolerate the {key}={value}:{effect} taint.',
        variables=[
            variable("requestsGpu", requests_gpu("object.spec")),
            variable("namespaceLabels", "namespaceObject.metadata.?labels.orValue({})"),
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
                "!variables.requestsGpu || object.spec.?tolerations.orValue([]).exists(t, "
                f"t.?key.orValue('') == {cel(key)} && "
                f"(t.?operator.orValue('Equal') == 'Exists' || t.?value.orValue('') == "
                f"{cel(value)}) && t.?effect.orValue('') in ['', {cel(effect)}])",
                f"Pods requesting GPUs must tolerate the {key}={value}:{effect} taint of GPU "
                "nodes.",
            ),
        ],
    )
