"""R28 for the images the charts run: pinned by tag or digest (never `latest`) and pulled from a
registry the stack allows (`substrate:admission.allowedRegistries`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from components.validators import image_reference
from tests.helm.rendered import by_chart, chart_releases, containers, label, pod_spec
from tests.helpers import stack_yaml, typed_config

OPERATED = frozenset({"Prometheus", "Alertmanager"})
"""Prometheus Operator resources whose `spec.image` is what the operator runs."""

PINNING = {
    "spire": "issue 11: the SPIRE agent's init containers run cgr.dev/chainguard/bash:latest@"
    "sha256:... (digest-pinned, but under the latest tag R28 forbids)",
}
REGISTRIES = {
    "karpenter": "issue 11: Karpenter pulls from public.ecr.aws/karpenter; the stacks allow "
    "only namespaces of public.ecr.aws that tenants need",
    "kyverno": "issue 11: Kyverno pulls from reg.kyverno.io and ghcr.io/kyverno",
    "spire": "issue 11: SPIRE pulls from registry.k8s.io (kubectl, CSI registrar) and cgr.dev",
    "kube-prometheus-stack": "issue 11: the monitoring stack pulls from quay.io, docker.io, "
    "registry.k8s.io and ghcr.io/jkroepke",
    "keda": "issue 11: KEDA pulls from ghcr.io/kedacore",
    "kueue": "issue 11: Kueue pulls from registry.k8s.io",
    "jobset": "issue 11: JobSet pulls from registry.k8s.io",
    "kuberay-operator": "issue 11: KubeRay pulls from quay.io",
    "lws": "issue 11: LeaderWorkerSet pulls from registry.k8s.io",
    "spark-operator": "issue 11: the Spark Operator pulls from ghcr.io/kubeflow",
}


def images(obj: Mapping[str, Any]) -> Iterator[str]:
    if obj.get("kind") in OPERATED and str(obj.get("apiVersion", "")).startswith("monitoring."):
        image = (obj.get("spec") or {}).get("image")
        if image:
            yield str(image)
    for container in containers(pod_spec(obj) or {}):
        yield str(container.get("image", ""))


def _images(chart: str) -> Iterator[tuple[str, str, str]]:
    """(stack, object, image) for every image of every release of ``chart``."""
    for render, release in chart_releases(chart):
        for obj in render.installed(release):
            for image in images(obj):
                yield render.stack, label(obj), image


@pytest.mark.parametrize("chart", by_chart(PINNING))
def test_every_image_is_pinned(chart: str) -> None:
    problems = sorted(
        {
            f"{stack}: {image} {problem}"
            for stack, _, image in _images(chart)
            if (problem := image_reference(image)) is not None
        }
    )
    assert problems == []


@pytest.mark.parametrize("chart", by_chart(REGISTRIES))
def test_every_image_comes_from_an_allowed_registry(chart: str) -> None:
    allowed = {
        stack: typed_config(stack_yaml(stack)).admission.allowed_registries
        for stack in ("dev", "staging", "prod")
    }
    foreign = sorted(
        {
            f"{stack}: {image}"
            for stack, _, image in _images(chart)
            if not any(image.startswith(f"{prefix}/") for prefix in allowed[stack])
        }
    )
    assert foreign == []


def test_operated_and_init_images_are_seen() -> None:
    found = {image for _, _, image in _images("kube-prometheus-stack")}
    assert any(i.startswith("quay.io/prometheus/prometheus:") for i in found)
    found = {image for _, _, image in _images("spire")}
    assert any(i.startswith("cgr.dev/chainguard/bash:") for i in found)  # init containers
