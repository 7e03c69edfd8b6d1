"""``substrate:keda``: the KEDA operator that makes inference services and agents elastic."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from substrate.components.core import validators
from substrate.config.checks import between, rule
from substrate.config.schema import Invalid, doc

Namespace = Annotated[str, rule(validators.dns_label, 63)]


def _http_url(value: str) -> None:
    if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?(/\S*)?", value):
        raise Invalid("is not an http(s) URL", '"http://prometheus.monitoring.svc:9090"')


@dataclass(frozen=True)
class KedaConfig:
    """KEDA on the system nodes. Its IAM role (EKS Pod Identity) carries only what the
    configured scalers need; with no AWS scaler configured it gets none."""

    namespace: Namespace = doc("Namespace of the KEDA release.", default="keda")
    operator_replicas: Annotated[int, between(1, 5)] = doc(
        "KEDA operator replicas (leader-elected; more than one is a warm standby).", default=1
    )
    metrics_server_replicas: Annotated[int, between(1, 5)] = doc(
        "Replicas of KEDA's metrics API server (serves the HPA external metrics).", default=1
    )
    webhook_replicas: Annotated[int, between(1, 5)] = doc(
        "Replicas of KEDA's admission webhooks (validate ScaledObjects).", default=1
    )
    prometheus_url: Annotated[str, _http_url] | None = doc(
        "Prometheus that Prometheus triggers query by default (null: the managed "
        "kube-prometheus-stack's in-cluster Service).",
        default=None,
    )
